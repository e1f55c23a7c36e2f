import { BODY_FORMATS, CHANNELS, DIRECTIONS, EVENT_KINDS, type BodyFormat, type Channel, type Direction, type EventKind } from '@rewind/platforms';
import type { ReplayRow } from './types';

/**
 * The short strings of replay rows (kinds, directions, channels, formats, message types), each kept once per process:
 * a page holds their codes, not a string per row. Bounded: past `MAX_INTERNED` distinct values (message types are
 * open-ended) a page keeps its rows' own strings instead.
 */
const MAX_INTERNED = 4096;
const internedCodes = new Map<string, number>();
const internedStrings: string[] = [''];
/** Code 0: null; `OWN`: the page's own string (the table was full). */
const NULL_CODE = 0;
const OWN = 0xffff;

function intern(value: string | null): number {
  if (value === null) return NULL_CODE;
  const code = internedCodes.get(value);
  if (code !== undefined) return code;
  if (internedStrings.length >= MAX_INTERNED) return OWN;
  internedStrings.push(value);
  internedCodes.set(value, internedStrings.length - 1);
  return internedStrings.length - 1;
}

for (const vocabulary of [EVENT_KINDS, DIRECTIONS, CHANNELS, BODY_FORMATS]) for (const v of vocabulary) intern(v);

/** How a row's body is held in the page's one buffer of bodies. */
const BODY_NULL = 0;
const BODY_TEXT = 1;
const BODY_BYTES = 2;

/** A row of `EventReadsRepository.replayPage`'s query, as `pg` returns it with `rowMode: 'array'` (the order of `REPLAY_COLUMNS`). */
export type ReplayRowArray = [
  seq: number,
  offsetUs: string,
  kind: string,
  direction: string,
  channel: string,
  format: string,
  bodyText: string | null,
  bodyBytes: Buffer | null,
  msgType: string | null,
  tick: number | null,
  meta: string | null,
];

/**
 * One page of a session's events as a replay reads it (`EventStore.readReplayPage`), held in a few typed arrays
 * and one buffer of the bodies instead of an object (and half a dozen strings) per row.
 *
 * Why: the replay gateway buffers a page ahead for each of hundreds of streams, so every buffered row survives
 * several young-generation collections before it is sent, and a scavenge's pause grows with what survives it (the
 * pauses were most of the gateway's lateness tail, docs/benchmarks.md). Here a page is ~12 heap objects whatever
 * its length: the bodies' bytes live outside the JavaScript heap (a `Buffer`, never copied by a scavenge), the
 * short strings are codes into one per-process table, and `at(i)` builds a row only when it is sent (an object
 * that dies young, which costs a scavenge nothing).
 *
 * `at(i)` is the same `ReplayRow` the row reader returned (the same strings, a text body decoded from the UTF-8
 * Postgres sent, a copy of a binary body): the wire stays byte-identical.
 */
export class ReplayPage implements Iterable<ReplayRow> {
  readonly length: number;
  private readonly seqs: Int32Array;
  private readonly offsets: Float64Array;
  /** Per row: kind, direction, channel, format, msgType (codes into the interned strings). */
  private readonly codes: Uint16Array;
  /** The tick, NaN for null. */
  private readonly ticks: Float64Array;
  private readonly bodyKinds: Uint8Array;
  /** Row i's body is `bodies[bodyEnds[i − 1] (0 for the first) … bodyEnds[i]]`. */
  private readonly bodyEnds: Uint32Array;
  private readonly bodies: Buffer;
  /** Only when a row has one (frames rarely do). */
  private readonly metas: (string | null)[] | null;
  /** Message types the interned table could not take (`OWN`), by row. */
  private readonly ownMsgTypes: (string | null)[] | null;

  /** Builds a page from `pg`'s rows (array mode); the rows are garbage once this returns. */
  static fromRows(rows: readonly ReplayRowArray[]): ReplayPage {
    return new ReplayPage(rows);
  }

  private constructor(rows: readonly ReplayRowArray[]) {
    const n = rows.length;
    this.length = n;
    this.seqs = new Int32Array(n);
    this.offsets = new Float64Array(n);
    this.codes = new Uint16Array(n * 5);
    this.ticks = new Float64Array(n);
    this.bodyKinds = new Uint8Array(n);
    this.bodyEnds = new Uint32Array(n);
    let metas: (string | null)[] | null = null;
    let ownMsgTypes: (string | null)[] | null = null;
    // The bodies' text as the row reader gives it (bodyOf): the exact text; bytes of a text format decoded as UTF-8.
    const texts: (string | null)[] = new Array<string | null>(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const r = rows[i] as ReplayRowArray;
      this.seqs[i] = r[0];
      this.offsets[i] = Number(r[1]);
      const format = r[5];
      const c = i * 5;
      this.codes[c] = intern(r[2]);
      this.codes[c + 1] = intern(r[3]);
      this.codes[c + 2] = intern(r[4]);
      this.codes[c + 3] = intern(format);
      const msgType = intern(r[8]);
      this.codes[c + 4] = msgType;
      if (msgType === OWN) (ownMsgTypes ??= new Array<string | null>(n).fill(null))[i] = r[8];
      this.ticks[i] = r[9] ?? NaN;
      if (r[10] !== null) (metas ??= new Array<string | null>(n).fill(null))[i] = r[10];
      texts[i] = null;
      if (format === 'empty') this.bodyKinds[i] = BODY_NULL;
      else if (format === 'binary') {
        const bytes = r[7];
        this.bodyKinds[i] = bytes ? BODY_BYTES : BODY_NULL;
        if (bytes) total += bytes.length;
      } else {
        const text = r[6] ?? (r[7] ? r[7].toString('utf8') : '');
        this.bodyKinds[i] = BODY_TEXT;
        texts[i] = text;
        total += Buffer.byteLength(text, 'utf8');
      }
    }
    // Its own memory (never a slice of the shared pool: a page must not keep other buffers' slab alive, nor they it).
    const bodies = Buffer.allocUnsafeSlow(total);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const kind = this.bodyKinds[i];
      if (kind === BODY_TEXT) at += bodies.write(texts[i] as string, at, 'utf8');
      else if (kind === BODY_BYTES) at += ((rows[i] as ReplayRowArray)[7] as Buffer).copy(bodies, at);
      this.bodyEnds[i] = at;
    }
    this.bodies = bodies;
    this.metas = metas;
    this.ownMsgTypes = ownMsgTypes;
  }

  seqAt(i: number): number {
    return this.seqs[i] as number;
  }

  offsetUsAt(i: number): number {
    return this.offsets[i] as number;
  }

  /** Row i, built now (0 ≤ i < length). */
  at(i: number): ReplayRow {
    const c = i * 5;
    const codes = this.codes;
    const msgType = codes[c + 4] as number;
    const tick = this.ticks[i] as number;
    return {
      seq: this.seqs[i] as number,
      offsetUs: this.offsets[i] as number,
      kind: internedStrings[codes[c] as number] as EventKind,
      direction: internedStrings[codes[c + 1] as number] as Direction,
      channel: internedStrings[codes[c + 2] as number] as Channel,
      format: internedStrings[codes[c + 3] as number] as BodyFormat,
      body: this.bodyAt(i),
      msgType: msgType === NULL_CODE ? null : msgType === OWN ? ((this.ownMsgTypes as (string | null)[])[i] as string) : (internedStrings[msgType] as string),
      tick: Number.isNaN(tick) ? null : tick,
      meta: this.metas ? (this.metas[i] as string | null) : null,
    };
  }

  private bodyAt(i: number): string | Buffer | null {
    const kind = this.bodyKinds[i];
    if (kind === BODY_NULL) return null;
    const start = i === 0 ? 0 : (this.bodyEnds[i - 1] as number);
    const end = this.bodyEnds[i] as number;
    // A binary body is copied out: a row kept (or queued on a socket) does not hold the whole page's bodies.
    return kind === BODY_TEXT ? this.bodies.toString('utf8', start, end) : Buffer.from(this.bodies.subarray(start, end));
  }

  /** Every row, built (tests, callers that want plain rows). */
  rows(): ReplayRow[] {
    const out: ReplayRow[] = new Array<ReplayRow>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.at(i);
    return out;
  }

  [Symbol.iterator](): Iterator<ReplayRow> {
    return this.rows()[Symbol.iterator]();
  }
}
