import { randomUUID } from 'node:crypto';
import { NewEvent } from '@rewind/event-store';
import { eventHash, genesisHash } from '@rewind/event-store';
import { decodeItem, decodeRecords, encodeItem, encodeRecord, JournalLineError, num } from './journal-codec';
import { IngestItem } from './types';

const base = (body: NewEvent['body'], format: NewEvent['format']): NewEvent => ({
  sessionId: randomUUID(),
  seq: 7,
  kind: 'frame',
  direction: 'platform_to_client',
  channel: 'play_ws',
  recordedAtUs: 1_795_000_000_123_456,
  offsetUs: 42,
  format,
  body,
  msgType: 'frame',
  tick: 3,
  requestId: null,
});

describe('journal codec', () => {
  it.each([
    ['text with escapes, unicode and a lone surrogate', base('{"a":"ü \\"q\\" \n 🎮 \ud800"}', 'json')],
    ['text holding a NUL', base('a\u0000b', 'text')],
    ['binary bytes', base(Buffer.from([0, 255, 10, 13, 34]), 'binary')],
    ['no body', base(null, 'empty')],
  ])('given %s, when encoded as one line and decoded, then the event and its hash are unchanged', (_name, event) => {
    const line = encodeItem({ ordinal: 5, type: 'event', event });
    expect(line).not.toContain('\n');
    const back = decodeItem(line) as Extract<IngestItem, { type: 'event' }>;
    expect(back).toEqual({ ordinal: 5, type: 'event', event });
    const g = genesisHash(event.sessionId);
    expect(eventHash(g, back.event).equals(eventHash(g, event))).toBe(true);
  });

  it('given a write-ahead record whose body follows its line, when its line is read as a journal line (the journal, or a version that does not know it), then it is refused, never an event without its body; its body line is never an item', () => {
    const body = `{"t":"seal","o":1,"sessionId":"${randomUUID()}","pad":"${'x'.repeat(64)}"}`;
    const event = base(body, 'json');
    const record = encodeRecord({ ordinal: 5, type: 'event', event });
    const [line, rest] = [record.slice(0, record.indexOf('\n')), record.slice(record.indexOf('\n') + 1)];
    expect(rest).toBe(`${body}\n`);
    expect(JSON.parse(line)).toMatchObject({ t: 'event-raw', body: null, raw: body.length });
    expect(() => decodeItem(line)).toThrow(JournalLineError);
    // What a version before wrote has no raw length; one on an `event` line is refused, not ignored.
    expect(() => decodeItem(line.replace('"t":"event-raw"', '"t":"event"'))).toThrow(/only event-raw has one/);
    expect(decodeRecords(record)).toEqual({ items: [{ ordinal: 5, type: 'event', event }], torn: false, bad: null });
  });

  it('given an event with meta and outbox rows, an end, a seal and a release, when round-tripped, then each is unchanged', () => {
    const event = { ...base('{"a":1}', 'json'), meta: '{"status":200}' };
    const outbox = [{ sessionId: event.sessionId, queue: 'reward-handoff', jobName: 'reward', payload: { score: 3 }, dedupeKey: 'k' }];
    const items: IngestItem[] = [
      { ordinal: 2, type: 'event', event, outbox },
      { ordinal: 3, type: 'end', sessionId: event.sessionId, endedAt: new Date('2026-11-23T10:00:00.500Z'), outcome: { reason: 'GAME_OVER', score: 3 } },
      { ordinal: 4, type: 'seal', sessionId: event.sessionId },
      { ordinal: 5, type: 'release', sessionId: event.sessionId },
    ];
    for (const item of items) expect(decodeItem(encodeItem(item))).toEqual(item);
  });

  it('given events of every body kind, when encoded, then the line is the JSON of the same object, key for key (as the object-built encoding wrote it)', () => {
    const event = { ...base('{"a":"ü \\"q\\""}', 'json'), meta: '{"status":200}', tick: 7, msgType: 'frame' };
    const outbox = [{ sessionId: event.sessionId, queue: 'reward-handoff', jobName: 'reward', payload: { score: 3 }, dedupeKey: 'k' }];
    const bin = base(Buffer.from([0, 255, 10]), 'binary');
    const asObject = (e: typeof event | typeof bin, withOutbox: boolean): string => {
      const b = Buffer.isBuffer(e.body);
      return JSON.stringify({
        t: 'event',
        o: 9,
        sessionId: e.sessionId,
        seq: e.seq,
        kind: e.kind,
        direction: e.direction,
        channel: e.channel,
        recordedAtUs: e.recordedAtUs,
        offsetUs: e.offsetUs,
        format: e.format,
        body: b ? (e.body as Buffer).toString('base64') : e.body,
        ...(b ? { b64: true } : {}),
        msgType: e.msgType ?? null,
        tick: e.tick ?? null,
        requestId: e.requestId ?? null,
        ...(e.meta !== undefined && e.meta !== null ? { meta: e.meta } : {}),
        ...(withOutbox ? { outbox } : {}),
      });
    };
    expect(encodeItem({ ordinal: 9, type: 'event', event, outbox })).toBe(asObject(event, true));
    expect(encodeItem({ ordinal: 9, type: 'event', event: bin })).toBe(asObject(bin, false));
  });

  it('given numbers of every sort, when written for a line, then each is exactly what JSON.stringify writes', () => {
    const edge = [0, -0, 1, -1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 999_999, 1_000_000, 1_000_001, 1_795_000_000_000_000, 1_795_000_000_999_999, 1_795_000_001_000_000, 2_147_483_646_999_999];
    const more = [2_147_483_647_000_000, 2_147_483_647_000_001, 2 ** 53 - 1, 2 ** 53, 1e21, 1.5, -2.25, 1e-7, Number.MAX_VALUE, NaN, Infinity, -Infinity];
    let x = 0x2545f491;
    const random = Array.from({ length: 20_000 }, (_, i) => {
      x = (x * 1_103_515_245 + 12_345) >>> 0;
      return i % 2 === 0 ? 1_700_000_000_000_000 + x * 97 + i : Math.floor((x / 2 ** 32) * 2 ** (i % 53));
    });
    for (const n of [...edge, ...more, ...random]) expect(num(n)).toBe(JSON.stringify(n));
    expect(num(null)).toBe('null');
  });

  it('given a seal or release line without its sessionId, when decoded, then a JournalLineError says so', () => {
    expect(() => decodeItem('{"t":"release","o":3}')).toThrow(JournalLineError);
    expect(() => decodeItem('{"t":"seal","o":3}')).toThrow(/journal seal line without its sessionId/);
  });

  it('given an open item, when round-tripped, then the session (dates included) is unchanged', () => {
    const session = { id: randomUUID(), platform: 'rgs' as const, startedAt: new Date('2026-11-23T10:00:00.123Z'), metadata: { a: 1 } };
    expect(decodeItem(encodeItem({ ordinal: 1, type: 'open', session }))).toEqual({ ordinal: 1, type: 'open', session });
  });
});
