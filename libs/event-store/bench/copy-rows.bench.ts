/**
 * Micro-benchmark of the append's per-row work (not a test; run once by hand):
 *   node -r ./scripts/register.js libs/event-store/bench/copy-rows.bench.ts
 * CPU µs per event to chain-hash 20,000 MoltStation-like events (~1 KB JSON frames and ~30-byte inputs, 2:1) and
 * encode their COPY rows into 250-row chunks as the COPY stream takes them: the byte writer (`writeEventRow`, one
 * UTF-8 encoding of the body shared by the row and the hash) against the string encoding it replaced (a row string
 * per event, `eventHash` converting the body to UTF-8 twice more, each chunk converted to a Buffer as a whole).
 */
import { createHash, randomUUID } from 'node:crypto';
import { CopyBytes, writeEventRow } from '../src/copy-encoding';
import { eventHash } from '../src/hash';
import type { NewEvent } from '../src/types';
import { referenceRow } from './reference-row';

/** The former row encoder (a Date per row, one string per row). */
const sessionId = randomUUID();
let us = Date.UTC(2026, 11, 7) * 1000;
const events: NewEvent[] = Array.from({ length: 20_000 }, (_, i) => {
  us += 700;
  const input = i % 3 === 1;
  const frame = {
    t: 'frame',
    frame: {
      v: 1,
      tick: i,
      phase: 'running',
      pawn: { x: (i * 7) % 320, y: 400, ghost: false },
      score: { current: i >> 2, high: 99 },
      entities: Array.from({ length: 12 }, (_, k) => ({ id: i * 12 + k, kind: k % 3 ? 'crab' : 'kelp', x: (i + k * 31) % 320, y: (k * 53) % 480 })),
    },
  };
  return {
    sessionId,
    seq: i + 1,
    kind: input ? 'input' : 'frame',
    direction: input ? 'client_to_platform' : 'platform_to_client',
    channel: 'play_ws',
    recordedAtUs: us,
    offsetUs: i * 700,
    format: 'json',
    body: input ? '{"t":"input","dir":"left"}' : JSON.stringify(frame),
    msgType: input ? 'input' : 'frame',
    tick: i,
    requestId: null,
    meta: null,
  };
});
const genesis: Buffer = createHash('sha256').update('genesis').digest();

function strings(): number {
  let previous = genesis;
  let chunk = '';
  let bytes = 0;
  events.forEach((e, i) => {
    previous = eventHash(previous, e);
    chunk += referenceRow(e, previous);
    if ((i + 1) % 250 === 0) {
      bytes += Buffer.from(chunk, 'utf8').length;
      chunk = '';
    }
  });
  return bytes + Buffer.from(chunk, 'utf8').length;
}

function bytes(): number {
  let previous = genesis;
  const out = new CopyBytes(512 * 1024);
  let n = 0;
  events.forEach((e, i) => {
    previous = writeEventRow(out, e, previous);
    if ((i + 1) % 250 === 0) n += out.take().length;
  });
  return n + out.take().length;
}

const avgBody = Math.round(events.reduce((n, e) => n + (e.body as string).length, 0) / events.length);
console.log(`${events.length} events, body ${avgBody} B on average; CPU µs per event (3 rounds)`);
if (strings() !== bytes()) throw new Error('the two encoders wrote different byte counts');
for (let round = 0; round < 3; round++) {
  const line: string[] = [];
  for (const [name, run] of [
    ['string rows', strings],
    ['byte rows', bytes],
  ] as const) {
    const c0 = process.cpuUsage();
    run();
    const c = process.cpuUsage(c0);
    line.push(`${name} ${((c.user + c.system) / events.length).toFixed(2)}`);
  }
  console.log(line.join(' | '));
}
