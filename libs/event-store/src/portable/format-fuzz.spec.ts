/**
 * Parser fuzz (seeded, repeatable): `rewind import` reads files from anywhere. Given torn, bit-flipped,
 * field-swapped or random lines, when parsed as header, event or trailer lines, then the parser returns a checked
 * value or throws its documented PortableError (code BAD_FILE, with the line number) — never a TypeError or
 * RangeError — and a whole run of thousands of lines finishes quickly.
 */
import { deepJsonArray, deepJsonObject, fuzz } from '@rewind/fuzz';
import type { StoredEvent } from '../types';
import { encodeEventLine, EXPORT_FORMAT, isTrailer, parseEventLine, parseHeader, parseJsonLine, parseTrailer, PortableError, PortableErrorCode } from './format';

const SEED = 'export-format-fuzz-1';
const CASES = 5000;
const SID = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
const HASH = 'ab'.repeat(32);

const HEADER = JSON.stringify({
  format: EXPORT_FORMAT,
  exportedAt: '2026-01-02T00:00:00.000Z',
  session: {
    id: SID,
    platform: 'moltstation',
    game: 'flappybots',
    platformSessionId: 'ms_1',
    agent: null,
    source: 'agent_api',
    status: 'sealed',
    startedAt: '2026-01-01T00:00:00.123456Z',
    endedAt: '2026-01-01T00:01:00Z',
    outcome: { reason: 'GAME_OVER' },
    metadata: { stream: 'run' },
    headSeq: 2,
    headHash: HASH,
    sealedAt: '2026-01-01T00:02:00Z',
    sealedHash: HASH,
    sealedCount: 2,
  },
  events: 2,
});
const stored = (over: Partial<StoredEvent>): StoredEvent => ({
  sessionId: SID,
  seq: 1,
  kind: 'frame',
  direction: 'platform_to_client',
  channel: 'play_ws',
  recordedAtUs: 1_700_000_000_000_000,
  offsetUs: 0,
  format: 'json',
  body: '{"t":"frame"}',
  msgType: 'frame',
  tick: 1,
  requestId: null,
  meta: null,
  hash: Buffer.from(HASH, 'hex'),
  globalPosition: 1n,
  txId: 1n,
  ...over,
});
const EVENTS = [
  encodeEventLine(stored({})),
  encodeEventLine(stored({ seq: 2, format: 'binary', body: Buffer.from([0, 255, 1]), meta: '{"code":1000}' })),
  encodeEventLine(stored({ seq: 3, format: 'empty', body: null, kind: 'lifecycle', msgType: 'ws-close' })),
];
const TRAILER = JSON.stringify({ end: true, events: 2, headHash: HASH });
const ALL = [HEADER, ...EVENTS, TRAILER];

/** The only way a parser here may refuse: PortableError BAD_FILE naming the line. */
function expectPortable(e: unknown, line: number, context: string): void {
  if (!(e instanceof PortableError) || e.code !== PortableErrorCode.BadFile || e.line !== line) {
    throw new Error(`${context}: expected PortableError BAD_FILE on line ${line}, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
}

/** Parses a line the way import does: line 1 the header; later lines an event or the trailer. */
function parseAsImport(text: string, line: number): unknown {
  if (line === 1) return parseHeader(text);
  const o = parseJsonLine(text, line);
  return isTrailer(o) ? parseTrailer(o, line) : parseEventLine(o, SID, line);
}

describe(`export format fuzz (seed ${SEED})`, () => {
  it('given the valid lines, then each parses', () => {
    expect(parseHeader(HEADER).session.id).toBe(SID);
    for (const [i, l] of EVENTS.entries()) expect(parseEventLine(parseJsonLine(l, i + 2), SID, i + 2).event.seq).toBe(i + 1);
    expect(parseTrailer(parseJsonLine(TRAILER, 9), 9)).toEqual({ end: true, events: 2, headHash: HASH });
  });

  it(`given ${CASES} torn, mutated, re-typed or random lines, when parsed as header/event/trailer, then a value or PortableError BAD_FILE with the line`, () => {
    const f = fuzz(SEED);
    const started = Date.now();
    let refused = 0;
    let parsed = 0;
    for (let i = 0; i < CASES; i++) {
      const c = f.fork(i);
      const base = c.pick(ALL);
      const line = base === HEADER ? 1 : c.int(2, 1_000_000);
      let text: string;
      switch (c.int(0, 4)) {
        case 0:
          text = base.slice(0, c.int(0, base.length - 1));
          break;
        case 1:
          text = c.mutate(Buffer.from(base), 8).toString(c.bool() ? 'utf8' : 'latin1');
          break;
        case 2: {
          // valid JSON, one field replaced by a hostile value of another type
          const o = JSON.parse(base) as Record<string, unknown>;
          const target = c.bool(0.3) && typeof o['session'] === 'object' ? (o['session'] as Record<string, unknown>) : o;
          const keys = Object.keys(target);
          const k = c.bool(0.9) ? c.pick(keys) : c.unicode(4);
          if (c.bool(0.2)) delete target[k];
          else target[k] = c.json(3);
          text = JSON.stringify(o);
          break;
        }
        case 3:
          text = c.bytes(c.int(0, 120)).toString('latin1');
          break;
        default:
          text = JSON.stringify(c.json(4));
      }
      try {
        parseAsImport(text, line);
        parsed++;
      } catch (e) {
        expectPortable(e, line, `case ${i} (seed ${SEED}) ${JSON.stringify(text).slice(0, 200)}`);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(CASES / 2);
    expect(parsed).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('given 100k-deep JSON, a 10 MB line or a body of every hostile type, then PortableError or a value (no stack overflow)', () => {
    for (const deep of [deepJsonArray(100_000), deepJsonObject(100_000)]) {
      for (const line of [1, 5]) {
        try {
          parseAsImport(deep, line);
        } catch (e) {
          expectPortable(e, line, 'deep');
        }
      }
    }
    // a deep value in metadata / outcome / meta passes the shape checks (they are opaque JSON) without recursion
    const deepHeader = HEADER.replace('"outcome":{"reason":"GAME_OVER"}', `"outcome":${deepJsonArray(100_000)}`);
    expect(parseHeader(deepHeader).session.outcome).toBeDefined();
    const huge = EVENTS[0]!.replace('{\\"t\\":\\"frame\\"}', 'x'.repeat(10_000_000));
    expect((parseEventLine(parseJsonLine(huge, 2), SID, 2).event.body as string).length).toBe(10_000_000);
  });
});
