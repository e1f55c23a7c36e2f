import type { NewEvent, StoreBatch } from '@rewind/event-store';

/**
 * A batch's events as columns, for the message to the writer thread (writer-thread.ts). A structured clone of the
 * events as objects wrote every event's 13 keys and 11 short strings into the message and built them again on the
 * thread: ~2.9 µs per event of the two threads' CPU, against ~1.1 µs for the bodies alone (issue 18, fourth pass).
 * Here the short strings of a batch (session ids, kinds, directions, channels, formats, message types, request ids,
 * meta texts) are written once each (`words`), every event refers to them by index (`refs`), its numbers sit in one
 * Float64Array (`nums`; both transferred, not copied) and its bodies in one array. Lossless: `unpackEvents` gives
 * back the same values, null and absent fields kept apart; an event of another shape is sent as it is (`null`).
 */
export interface PackedEvents {
  words: string[];
  /** Per event, REFS slots: sessionId, kind, direction, channel, format, msgType, requestId, meta, tick's state. */
  refs: Int32Array;
  /** Per event, NUMS slots: seq, recordedAtUs, offsetUs, tick. */
  nums: Float64Array;
  bodies: (string | Buffer | Uint8Array | null)[];
}

/** A batch for the writer thread: its events packed, or as they are (a shape `packEvents` does not take). */
export type WireBatch = Omit<StoreBatch, 'events'> & { events?: StoreBatch['events']; packed?: PackedEvents };

/**
 * Every field of NewEvent, each carried by the columns below: a field added to NewEvent fails to compile here until
 * `packEvents` and `unpackEvents` carry it too (the columns would otherwise drop it without a word).
 */
export const PACKED_FIELDS: Record<keyof NewEvent, true> = {
  sessionId: true,
  seq: true,
  kind: true,
  direction: true,
  channel: true,
  recordedAtUs: true,
  offsetUs: true,
  format: true,
  body: true,
  msgType: true,
  tick: true,
  requestId: true,
  meta: true,
};

const REFS = 9;
const NUMS = 4;
/** A field that is null. */
const NULL = -1;
/** A field that is absent (undefined). */
const ABSENT = -2;
/** A field of a type the columns do not hold. */
const OTHER = -3;

/** The events as columns, or null when one has a field of another type than NewEvent says (then they go as they are). */
export function packEvents(events: readonly NewEvent[]): PackedEvents | null {
  const n = events.length;
  const words: string[] = [];
  const index = new Map<string, number>();
  const refs = new Int32Array(n * REFS);
  const nums = new Float64Array(n * NUMS);
  const bodies = new Array<string | Buffer | null>(n);
  const ref = (v: unknown): number => {
    if (typeof v === 'string') {
      let i = index.get(v);
      if (i === undefined) {
        i = words.length;
        words.push(v);
        index.set(v, i);
      }
      return i;
    }
    return v === null ? NULL : v === undefined ? ABSENT : OTHER;
  };
  for (let i = 0; i < n; i++) {
    const e = events[i] as NewEvent;
    const r = i * REFS;
    const m = i * NUMS;
    if (typeof e.seq !== 'number' || typeof e.recordedAtUs !== 'number' || typeof e.offsetUs !== 'number') return null;
    const body = e.body;
    if (body !== null && typeof body !== 'string' && !Buffer.isBuffer(body)) return null;
    refs[r] = ref(e.sessionId);
    refs[r + 1] = ref(e.kind);
    refs[r + 2] = ref(e.direction);
    refs[r + 3] = ref(e.channel);
    refs[r + 4] = ref(e.format);
    refs[r + 5] = ref(e.msgType);
    refs[r + 6] = ref(e.requestId);
    refs[r + 7] = ref(e.meta);
    const tick = e.tick;
    refs[r + 8] = typeof tick === 'number' ? 0 : tick === null ? NULL : tick === undefined ? ABSENT : OTHER;
    for (let k = 0; k < REFS; k++) if (refs[r + k] === OTHER) return null;
    nums[m] = e.seq;
    nums[m + 1] = e.recordedAtUs;
    nums[m + 2] = e.offsetUs;
    nums[m + 3] = typeof tick === 'number' ? tick : 0;
    bodies[i] = body;
  }
  return { words, refs, nums, bodies };
}

/** The events `packEvents` packed (a binary body comes back as a Buffer: a structured clone makes it a Uint8Array). */
export function unpackEvents(p: PackedEvents): NewEvent[] {
  const { words, refs, nums, bodies } = p;
  const n = bodies.length;
  const out = new Array<NewEvent>(n);
  const word = (k: number): string | null | undefined => (k >= 0 ? (words[k] as string) : k === NULL ? null : undefined);
  for (let i = 0; i < n; i++) {
    const r = i * REFS;
    const m = i * NUMS;
    const raw = bodies[i] as string | Buffer | Uint8Array | null;
    const body = raw instanceof Uint8Array && !Buffer.isBuffer(raw) ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength) : (raw as string | Buffer | null);
    const e = {
      sessionId: word(refs[r] as number),
      seq: nums[m],
      kind: word(refs[r + 1] as number),
      direction: word(refs[r + 2] as number),
      channel: word(refs[r + 3] as number),
      recordedAtUs: nums[m + 1],
      offsetUs: nums[m + 2],
      format: word(refs[r + 4] as number),
      body,
    } as NewEvent;
    if (refs[r + 5] !== ABSENT) e.msgType = word(refs[r + 5] as number) as string | null;
    if (refs[r + 6] !== ABSENT) e.requestId = word(refs[r + 6] as number) as string | null;
    if (refs[r + 7] !== ABSENT) e.meta = word(refs[r + 7] as number) as string | null;
    const tick = refs[r + 8] as number;
    if (tick !== ABSENT) e.tick = tick === NULL ? null : (nums[m + 3] as number);
    out[i] = e;
  }
  return out;
}
