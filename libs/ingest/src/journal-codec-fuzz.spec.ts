/**
 * Parser fuzz (seeded, repeatable): the ingest journal is read back after a crash, so its lines may be torn
 * (power loss mid-write), bit-rotted or not ours at all. Given random bytes, truncations and mutations of encoded
 * items, when decoded, then decodeItem returns an item or throws — SyntaxError (not JSON) or its own
 * "unknown journal line type" Error or a JournalLineError — quickly; a valid line always round-trips.
 */
import type { NewEvent } from '@rewind/event-store';
import { deepJsonArray, fuzz } from '@rewind/fuzz';
import { decodeItem, decodeRecords, encodeItem, encodeRecord, JournalLineError } from './journal-codec';
import type { IngestItem } from './types';

const SEED = 'journal-codec-fuzz-1';
const CASES = 5000;
const SID = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f';

const event = (over: Partial<NewEvent> = {}): NewEvent => ({
  sessionId: SID,
  seq: 7,
  kind: 'frame',
  direction: 'platform_to_client',
  channel: 'play_ws',
  recordedAtUs: 1_700_000_000_000_000,
  offsetUs: 1234,
  format: 'json',
  body: '{"t":"frame","tick":3}',
  msgType: 'frame',
  tick: 3,
  requestId: null,
  meta: '{"code":1000}',
  ...over,
});
const VALID: IngestItem[] = [
  { ordinal: 1, type: 'open', session: { id: SID, platform: 'moltstation', game: 'flappybots', startedAt: new Date('2026-01-01T00:00:00.000Z'), metadata: { stream: 'run' } } },
  { ordinal: 2, type: 'event', event: event() },
  { ordinal: 3, type: 'event', event: event({ format: 'binary', body: Buffer.from([0, 1, 2, 255]), seq: 8 }) },
  { ordinal: 4, type: 'event', event: event({ body: 'lone \ud800 surrogate', seq: 9 }) },
  { ordinal: 5, type: 'end', sessionId: SID, endedAt: new Date('2026-01-01T00:01:00.000Z'), outcome: { reason: 'GAME_OVER' } },
  { ordinal: 6, type: 'seal', sessionId: SID },
  { ordinal: 7, type: 'release', sessionId: SID },
];
const LINES = VALID.map(encodeItem);

/** Errors decodeItem documents: JSON.parse's SyntaxError, and its own unknown-type Error. */
const documented = (e: unknown): boolean =>
  e instanceof SyntaxError || e instanceof JournalLineError || (e instanceof Error && e.constructor === Error && /^unknown journal line type/.test(e.message));

describe(`journal codec fuzz (seed ${SEED})`, () => {
  it('given valid items, when encoded and decoded, then they round-trip exactly', () => {
    for (const item of VALID) expect(decodeItem(encodeItem(item))).toEqual(item);
  });

  it(`given ${CASES} torn, mutated or random lines, when decoded, then an item or a documented error, never a hang`, () => {
    const f = fuzz(SEED);
    const started = Date.now();
    const outcomes = { decoded: 0, syntax: 0, unknownType: 0, other: [] as string[] };
    for (let i = 0; i < CASES; i++) {
      const c = f.fork(i);
      const base = c.pick(LINES);
      const mode = c.int(0, 3);
      const line =
        mode === 0
          ? base.slice(0, c.int(0, base.length - 1))
          : mode === 1
            ? c.mutate(Buffer.from(base), 6).toString('utf8')
            : mode === 2
              ? c.bytes(c.int(0, 80)).toString('latin1')
              : JSON.stringify(c.json(4));
      try {
        const item = decodeItem(line);
        expect(['open', 'event', 'end', 'seal', 'release']).toContain(item.type);
        outcomes.decoded++;
      } catch (e) {
        if (e instanceof SyntaxError) outcomes.syntax++;
        else if (documented(e)) outcomes.unknownType++;
        else outcomes.other.push(`case ${i}: ${(e as Error).name}: ${(e as Error).message} ← ${JSON.stringify(line).slice(0, 120)}`);
      }
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    // every kind of outcome was exercised
    expect(outcomes.decoded).toBeGreaterThan(100);
    expect(outcomes.syntax).toBeGreaterThan(100);
    expect(outcomes.unknownType).toBeGreaterThan(10);
    expect(outcomes.other).toEqual([]);
  });

  it(`given ${CASES} write-ahead log texts (records of every form, old journal lines mixed in) whole, cut or mutated, when read, then the items before any damage and a torn or bad verdict, never a throw or a hang`, () => {
    const f = fuzz(`${SEED}-records`);
    const started = Date.now();
    // Long bodies too (a raw record: its body after its line), with newlines, quotes and records' look-alikes inside.
    const long = (c: ReturnType<typeof f.fork>, seq: number): IngestItem => ({
      ordinal: 100 + seq,
      type: 'event',
      event: event({ seq, body: `${c.pick(['{"a":"', 'x\n{"t":"event","o":1,"raw":5}\n', '"\\\n', 'ü🎮 '])}${'b'.repeat(c.int(40, 200))}${c.pick(['\n', '', '"}', '\ud800'])}` }),
    });
    const outcomes = { whole: 0, torn: 0, bad: 0, prefix: 0 };
    for (let i = 0; i < CASES; i++) {
      const c = f.fork(i);
      const items = Array.from({ length: c.int(1, 6) }, (_, k) => (c.int(0, 1) === 0 ? long(c, k) : c.pick(VALID)));
      // An upgraded log: a file may hold the journal lines an older version wrote, then this version's records.
      const records = items.map((item) => (c.int(0, 4) === 0 ? `${encodeItem(item)}\n` : encodeRecord(item)));
      const text = records.join('');
      const mode = c.int(0, 2);
      const input = mode === 0 ? text : mode === 1 ? text.slice(0, c.int(0, text.length - 1)) : c.mutate(Buffer.from(text), 6).toString('utf8');
      const got = decodeRecords(input);
      if (mode === 0) {
        expect(got).toEqual({ items, torn: false, bad: null });
        outcomes.whole++;
        continue;
      }
      // Whatever was read is what was written, in order, up to the damage.
      if (mode === 1) {
        expect(got.bad).toBeNull();
        expect(got.items).toEqual(items.slice(0, got.items.length));
        // A cut text loses exactly the records it cut into (a one-line record that lost only its newline reads whole, as before).
        let complete = 0;
        let end = 0;
        while (complete < records.length && end + (records[complete] as string).length <= input.length) end += (records[complete++] as string).length;
        const next = records[complete];
        if (next !== undefined && next.indexOf('\n') === next.length - 1 && input.length - end === next.length - 1) complete++;
        expect(got.items.length).toBe(complete);
        outcomes.prefix++;
      }
      if (got.torn) outcomes.torn++;
      if (got.bad) {
        expect(got.bad.record).toBeGreaterThan(0);
        outcomes.bad++;
      }
    }
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(outcomes.whole).toBeGreaterThan(100);
    expect(outcomes.torn).toBeGreaterThan(100);
    expect(outcomes.bad).toBeGreaterThan(100);
  });

  it('given a 100k-deep JSON line, then a documented error (no stack overflow)', () => {
    expect(() => decodeItem(deepJsonArray(100_000))).toThrow(/a journal line must be a JSON object/);
  });

  it('given non-object JSON lines and lines missing their fields, then a clear JournalLineError, not a TypeError', () => {
    for (const line of ['null', '{"t":"open","o":1}', '{"t":"end","o":1,"sessionId":"x"}']) {
      let err: unknown;
      try {
        decodeItem(line);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(TypeError);
      expect((err as Error).name).toBe('JournalLineError');
    }
  });
});
