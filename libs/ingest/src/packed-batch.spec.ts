import { serialize, deserialize } from 'node:v8';
import type { NewEvent } from '@rewind/event-store';
import { PACKED_FIELDS, packEvents, unpackEvents } from './packed-batch';

const SID = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
const OTHER_SID = '0b6c5f0e-8a43-4a6e-9d9e-0f1d2a3b4c5d';
const base = (over: Partial<NewEvent>): NewEvent => ({
  sessionId: SID,
  seq: 1,
  kind: 'frame',
  direction: 'platform_to_client',
  channel: 'play_ws',
  recordedAtUs: 1_795_000_000_123_456,
  offsetUs: 42,
  format: 'json',
  body: '{"t":"frame"}',
  ...over,
});

/** What the writer thread receives: the packed columns after a structured clone (as postMessage gives them). */
const overTheWire = (events: NewEvent[]): NewEvent[] => {
  const packed = packEvents(events);
  expect(packed).not.toBeNull();
  return unpackEvents(deserialize(serialize(packed)) as NonNullable<typeof packed>);
};

describe('packed batch (the events sent to the writer thread as columns)', () => {
  it('given events with every field form (null, absent, binary, meta, lone surrogates, -0, the largest µs), when packed, cloned and unpacked, then each comes back equal, null and absent kept apart', () => {
    const events: NewEvent[] = [
      base({ msgType: 'frame', tick: 61, requestId: null, meta: null }),
      base({ seq: 2, sessionId: OTHER_SID, body: 'lone \ud800 surrogate', format: 'text', msgType: null, tick: null }),
      base({ seq: 3, format: 'binary', body: Buffer.from([0, 10, 255]), meta: '{"undelivered":true}', requestId: 'conn-1' }),
      base({ seq: 4, format: 'empty', body: null, kind: 'lifecycle', direction: 'internal', channel: 'internal', msgType: 'ws-open', meta: '{"path":"/ws"}' }),
      base({ seq: 5, tick: -0, offsetUs: 0, recordedAtUs: Number.MAX_SAFE_INTEGER, body: '' }),
      base({ seq: 6, requestId: 'conn-1', msgType: 'frame', meta: '{"undelivered":true}' }),
    ];
    const back = overTheWire(events);
    expect(back).toEqual(events);
    for (let i = 0; i < events.length; i++) {
      // Absent stays absent, null stays null (toEqual alone treats them alike); binary bodies are Buffers again.
      expect(Object.keys(back[i] as NewEvent).sort()).toEqual(Object.keys(events[i] as NewEvent).sort());
      for (const k of ['msgType', 'tick', 'requestId', 'meta'] as const) expect(Object.is((back[i] as NewEvent)[k], (events[i] as NewEvent)[k])).toBe(true);
    }
    expect(Buffer.isBuffer((back[2] as NewEvent).body)).toBe(true);
  });

  it('given an event with every field of NewEvent set (PACKED_FIELDS, which the compiler holds to NewEvent), then every one comes back', () => {
    const full = base({ msgType: 'frame', tick: 7, requestId: 'r-1', meta: '{"undelivered":true}' });
    expect(Object.keys(full).sort()).toEqual(Object.keys(PACKED_FIELDS).sort());
    const [back] = overTheWire([full]);
    expect(Object.keys(back as NewEvent).sort()).toEqual(Object.keys(PACKED_FIELDS).sort());
    expect(back).toEqual(full);
  });

  it('given a batch, then each short string is written once however many events repeat it', () => {
    const events = Array.from({ length: 50 }, (_, i) => base({ seq: i + 1, msgType: 'frame', tick: i }));
    const packed = packEvents(events);
    expect(packed?.words.sort()).toEqual([SID, 'frame', 'json', 'platform_to_client', 'play_ws'].sort());
  });

  it('given an event with a field of another type than NewEvent says, then the batch is not packed (it goes as objects, unchanged)', () => {
    expect(packEvents([base({}), { ...base({ seq: 2 }), tick: '7' as unknown as number }])).toBeNull();
    expect(packEvents([{ ...base({}), body: 7 as unknown as string }])).toBeNull();
    expect(packEvents([{ ...base({}), seq: '1' as unknown as number }])).toBeNull();
    expect(packEvents([{ ...base({}), meta: {} as unknown as string }])).toBeNull();
  });
});
