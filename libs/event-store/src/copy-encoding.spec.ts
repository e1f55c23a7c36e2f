import { createHash, randomUUID } from 'node:crypto';
import { fuzz } from '@rewind/fuzz';
import { aFrame } from './test-support';
import { referenceRow, referenceTimestamp } from '../bench/reference-row';
import { CopyBytes, usToTimestamp, writeEventRow } from './copy-encoding';
import { eventHash, eventHashOfBody } from './hash';
import { BODY_FORMATS, CHANNELS, DIRECTIONS, EVENT_KINDS, NewEvent } from './types';

/** Bodies of every shape the row encoder distinguishes: as-is text, escapes, NUL, lone surrogates, empty, binary. */
function randomEvent(f: ReturnType<typeof fuzz>, sessionId: string, seq: number): NewEvent {
  const format = f.pick(BODY_FORMATS);
  const piece = (): string =>
    f.pick([
      () => JSON.stringify({ t: 'frame', tick: f.int(0, 1e6), s: f.unicode(f.int(0, 40)) }),
      () => f.unicode(f.int(1, 300)),
      () => f.pick(['\\', '\n', '\r', '\t', '\u0000', '\ud800', '\udfff', '✓', '🦀', '"', 'plain ascii']),
      () => 'x'.repeat(f.int(1, 5000)),
    ])();
  const text = (): string => Array.from({ length: f.int(1, 4) }, piece).join(f.pick(['', ' ', '\\n']));
  const body = format === 'empty' ? f.pick([null, '']) : format === 'binary' ? f.bytes(f.int(0, 200)) : f.bool(0.05) ? '' : text();
  return {
    sessionId,
    seq,
    kind: f.pick(EVENT_KINDS),
    direction: f.pick(DIRECTIONS),
    channel: f.pick(CHANNELS),
    recordedAtUs: f.pick([0, 1_700_000_000_000_000, 1_765_000_000_000_000 + f.int(0, 2e9), f.int(0, 2 ** 31) * 1_000_003]),
    offsetUs: f.int(0, 2 ** 31),
    format,
    body,
    msgType: f.pick([null, 'frame', 'input', f.unicode(f.int(0, 20)), 'tab\there', 'GET /x\\y']),
    tick: f.pick([null, 0, f.int(-(2 ** 31) + 1, 2 ** 31 - 1)]),
    requestId: f.pick([null, 'http-1', f.unicode(f.int(0, 10))]),
    meta: f.pick([null, '{}', JSON.stringify({ code: 1000, reason: f.unicode(f.int(0, 30)) }), '{"headers":[["a","b\\tc"]]}']),
  };
}

describe('COPY rows written as bytes (writeEventRow)', () => {
  it('given random events of every body shape, then each row is byte for byte the string encoding of before, and each hash is eventHash', () => {
    const root = fuzz('copy-rows-1');
    const out = new CopyBytes(64); // small: the buffer grows mid-row many times
    const expected: Buffer[] = [];
    const sessionId = randomUUID();
    let previous: Buffer = createHash('sha256').update('genesis').digest();
    for (let i = 0; i < 3000; i++) {
      const e = randomEvent(root.fork(i), sessionId, i + 1);
      const hash = writeEventRow(out, e, previous);
      const reference = eventHash(previous, e);
      if (!hash.equals(reference)) throw new Error(`case ${i} (seed ${root.seed}): hash differs`);
      expected.push(Buffer.from(referenceRow(e, reference), 'utf8'));
      previous = hash;
      if (i % 97 === 0) expect(out.take().equals(Buffer.concat(expected.splice(0)))).toBe(true);
    }
    expect(out.take().equals(Buffer.concat(expected))).toBe(true);
  });

  it('given a frame, then its row holds the body as it is, and the hash of the body bytes written equals the hash from the string', () => {
    const e = aFrame(randomUUID(), 5, { body: '{"t":"frame","s":"ünï 🦀"}' });
    const out = new CopyBytes();
    const previous = createHash('sha256').update('p').digest();
    const hash = writeEventRow(out, e, previous);
    const row = out.take().toString('utf8');
    expect(row.split('\t')[8]).toBe(e.body);
    expect(row.endsWith(`\\\\x${hash.toString('hex')}\n`)).toBe(true);
    const bytes = Buffer.from(e.body as string, 'utf8');
    expect(eventHashOfBody(previous, e, bytes, 0, bytes.length).equals(eventHash(previous, e))).toBe(true);
  });

  it('given a body above the scratch limit, then it is hashed the same way', () => {
    const e = aFrame(randomUUID(), 1, { format: 'text', body: 'ü'.repeat(700_000) });
    const bytes = Buffer.from(e.body as string, 'utf8');
    const previous = createHash('sha256').update('p').digest();
    expect(eventHashOfBody(previous, e, bytes, 0, bytes.length).equals(eventHash(previous, e))).toBe(true);
  });

  it('formats timestamps as a Date per row did, across second boundaries and in any order', () => {
    const f = fuzz('copy-timestamps-1');
    const samples = [0, 999_999, 1_000_000, 1_765_000_000_999_999, 1_765_000_001_000_000, Number.MAX_SAFE_INTEGER];
    for (let i = 0; i < 5000; i++) samples.push(f.pick([f.int(0, 2 ** 31) * 1_000_003 + f.int(0, 999_999), 1_765_000_000_000_000 + f.int(0, 5_000_000)]));
    for (const us of samples) expect(usToTimestamp(us)).toBe(referenceTimestamp(us));
  });
});
