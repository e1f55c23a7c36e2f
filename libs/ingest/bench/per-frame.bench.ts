/**
 * Micro-benchmark of the ingest's per-event work on the recorder's side (not a test; run once by hand):
 *   node -r ./scripts/register.js libs/ingest/bench/per-frame.bench.ts
 * CPU µs per ~740-character frame event: its write-ahead log record (`encodeRecord`, the body after its line as it
 * is) against its journal line (`encodeItem`, the body escaped into JSON: what the log wrote before); and the batch's
 * crossing to the writer thread (64 events a message, CPU of both threads: postMessage, the clone, and on the thread
 * the events built again): the event objects cloned, against their columns (`packEvents` / `unpackEvents`).
 */
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import type { NewEvent } from '@rewind/event-store';
import { encodeItem, encodeRecord } from '../src/journal-codec';
import { packEvents } from '../src/packed-batch';
import type { IngestItem } from '../src/types';

const bodies = Array.from({ length: 200 }, (_, i) =>
  JSON.stringify({
    t: 'frame',
    frame: {
      v: 1,
      tick: i,
      tMs: i * 50,
      phase: 'running',
      bot: { x: 178, y: 286.2 + i / 10, velocityY: 216 - i, rotation: 0.3375 },
      score: { current: i >> 3, high: 12 },
      latestAction: i % 3 ? 'NOOP' : 'FLAP',
      observation: {
        tick: i,
        botY: 286.2,
        botVelocityY: 216,
        nextObstacleX: 464.5,
        nextGapCenterY: 236.588,
        nextGapTopY: 148.588,
        nextGapBottomY: 324.588,
        distanceToNextObstacle: 286.5,
        score: i >> 3,
        alive: true,
      },
      obstacles: Array.from({ length: 3 }, (_, k) => ({ id: `ob-${i + k}`, x: 464.5 + k * 220, gapCenterY: 236.588 + k, gapTopY: 148.588, gapBottomY: 324.588, passed: false })),
      events: [],
      spectators: { current: 1, max: 10 },
    },
  }),
);
const sessions = Array.from({ length: 8 }, (_, i) => `0b6c5f0e-8a43-4a6e-9d9e-0f1d2a3b4c5${i}`);
const event = (i: number): NewEvent => ({
  sessionId: sessions[i % 8] as string,
  seq: 1000 + i,
  kind: 'frame',
  direction: 'platform_to_client',
  channel: 'play_ws',
  recordedAtUs: 1_765_158_000_123_456 + i * 700,
  offsetUs: 123_456_789 + i * 700,
  format: 'json',
  body: bodies[i % bodies.length] as string,
  msgType: 'frame',
  tick: i,
  requestId: null,
  meta: null,
});

function usPer(fn: () => void, minMs = 400): number {
  for (let i = 0; i < 50; i++) fn();
  let n = 0;
  const start = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < minMs * 1000) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    const used = process.cpuUsage(start);
    elapsed = used.user + used.system;
  }
  return elapsed / n;
}

let k = 0;
let sink = 0;
const item = (): IngestItem => ({ ordinal: ++k, type: 'event', event: event(k) });
console.log('| the write-ahead record of a frame event | µs |\n|---|---:|');
for (let r = 0; r < 3; r++) {
  console.log(`| journal line (\`encodeItem\`, before), run ${r + 1} | ${usPer(() => (sink += `${encodeItem(item())}\n`.length)).toFixed(2)} |`);
  console.log(`| record (\`encodeRecord\`, after), run ${r + 1} | ${usPer(() => (sink += encodeRecord(item()).length)).toFixed(2)} |`);
}

// The crossing: a worker that takes each message as the writer thread does (objects as they come; columns unpacked).
const N = 64;
const ROUNDS = 3000;
const batch = Array.from({ length: N }, (_, i) => event(i));
const register = path.resolve(__dirname, '../../../scripts/register.js');
const worker = new Worker(
  `require(${JSON.stringify(register)}); const { unpackEvents } = require(${JSON.stringify(path.join(__dirname, '../src/packed-batch.ts'))});
   let n = 0; require('node:worker_threads').parentPort.on('message', (m) => { n += m.packed ? unpackEvents(m.packed).length : m.events.length; });`,
  { eval: true },
);
const send = {
  objects: (): void => worker.postMessage({ id: 1, events: batch }),
  columns: (): void => {
    const p = packEvents(batch);
    if (!p) throw new Error('not packed');
    worker.postMessage({ id: 1, packed: p }, [p.refs.buffer as ArrayBuffer, p.nums.buffer as ArrayBuffer]);
  },
};
/** Both threads' CPU (process.cpuUsage) over the rounds and until the worker has taken them (3 s). */
const measure = (how: keyof typeof send): Promise<number> =>
  new Promise((resolve) => {
    const start = process.cpuUsage();
    for (let r = 0; r < ROUNDS; r++) send[how]();
    setTimeout(() => {
      const used = process.cpuUsage(start);
      resolve((used.user + used.system) / ROUNDS / N);
    }, 3000);
  });
void (async () => {
  await new Promise((r) => setTimeout(r, 1500)); // the worker loads
  console.log('\n| the batch to the writer thread, per event (both threads) | µs |\n|---|---:|');
  for (let r = 0; r < 2; r++)
    for (const how of ['objects', 'columns'] as const) console.log(`| ${how === 'objects' ? 'event objects cloned (before)' : 'columns (after)'}, run ${r + 1} | ${(await measure(how)).toFixed(2)} |`);
  await worker.terminate();
  if (sink === 0) console.log('');
})();
