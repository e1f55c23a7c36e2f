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

/**
 * A page as `EventReadsRepository.replayPage` reads it: ONE row per page, each column aggregated over the page's events
 * in seq order (so `pg` parses one message of a few strings, not a row of eleven strings per event: `ReplayPage` says why).
 * Lists of numbers and of enum labels are comma-separated text (no per-event string made to parse them); a null tick or
 * text body is an empty entry. The text bodies come concatenated, with their UTF-8 lengths.
 */
export interface ReplayPageColumns {
  n: number;
  seqs: string | null;
  offsets: string | null;
  /** Per event `kind direction channel format`. */
  labels: string | null;
  ticks: string | null;
  /** The `body_text`s concatenated (null ones left out), and each one's length in UTF-8 bytes (empty: null). */
  body_text: string | null;
  body_text_bytes: string | null;
  /** `body_bytes` per event, or null when no event of the page has one. */
  body_bytes: (Buffer | null)[] | null;
  msg_types: (string | null)[] | null;
  /** `meta` per event, or null when no event of the page has one. */
  metas: (string | null)[] | null;
}

/** The SQL of a page's columns (`ReplayPageColumns`) over `page`, a subquery of the page's `events` rows. */
export const REPLAY_PAGE_AGGREGATES = `count(*)::int AS n,
  string_agg(seq::text, ',' ORDER BY seq) AS seqs,
  string_agg(offset_us::text, ',' ORDER BY seq) AS offsets,
  string_agg(kind::text || ' ' || direction::text || ' ' || channel::text || ' ' || format::text, ',' ORDER BY seq) AS labels,
  string_agg(coalesce(tick::text, ''), ',' ORDER BY seq) AS ticks,
  string_agg(body_text, '' ORDER BY seq) AS body_text,
  string_agg(coalesce(octet_length(body_text)::text, ''), ',' ORDER BY seq) AS body_text_bytes,
  CASE WHEN bool_or(body_bytes IS NOT NULL) THEN array_agg(body_bytes ORDER BY seq) END AS body_bytes,
  array_agg(msg_type ORDER BY seq) AS msg_types,
  CASE WHEN bool_or(meta IS NOT NULL) THEN array_agg(meta ORDER BY seq) END AS metas`;

/** The `n` comma-separated integers of `text` into `out` (an empty entry: NaN). No string per entry. */
function parseIntegers(text: string | null, out: Int32Array | Float64Array, what: string): void {
  const n = out.length;
  if (n === 0) return;
  let i = 0;
  let value = 0;
  let digits = 0;
  let negative = false;
  const len = text === null ? 0 : text.length;
  for (let p = 0; p <= len; p++) {
    const c = p === len ? 44 : (text as string).charCodeAt(p);
    if (c === 44 /* , */) {
      if (i >= n) throw new Error(`replay page: more ${what} than events`);
      out[i++] = digits === 0 ? NaN : negative ? -value : value;
      value = 0;
      digits = 0;
      negative = false;
    } else if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits++;
    } else if (c === 45 /* - */ && digits === 0) negative = true;
    else throw new Error(`replay page: not an integer in ${what}`);
  }
  if (i !== n) throw new Error(`replay page: ${i} ${what} for ${n} events`);
}

/**
 * One page of a session's events as a replay reads it (`EventStore.readReplayPage`), held in a few typed arrays
 * and one buffer of the bodies instead of an object (and half a dozen strings) per row.
 *
 * Why: the replay gateway buffers a page ahead for each of hundreds of streams, so every buffered row survives
 * several young-generation collections before it is sent, and a scavenge's pause grows with what survives it (the
 * pauses were most of the gateway's lateness tail, docs/benchmarks.md). Here a page is ~12 heap objects whatever
 * its length: the bodies' bytes live outside the JavaScript heap (a `Buffer`, never copied by a scavenge), the
 * short strings are codes into one per-process table, and `at(i)` builds a row only when it is sent (an object
 * that dies young, which costs a scavenge nothing). The page is read as one row of aggregates (`ReplayPageColumns`):
 * a result of a hundred rows is parsed as its packets arrive, and its rows' strings, held by the query until its last
 * packet, were the largest part of what survived the gateway's scavenges (a sampling heap profile, 500 streams).
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

  /** An empty page. */
  static readonly EMPTY: ReplayPage = ReplayPage.fromColumns({
    n: 0,
    seqs: null,
    offsets: null,
    labels: null,
    ticks: null,
    body_text: null,
    body_text_bytes: null,
    body_bytes: null,
    msg_types: null,
    metas: null,
  });

  /** Builds a page from its aggregated row (`REPLAY_PAGE_AGGREGATES`); the row is garbage once this returns. */
  static fromColumns(c: ReplayPageColumns): ReplayPage {
    return new ReplayPage(c);
  }

  private constructor(c: ReplayPageColumns) {
    const n = c.n;
    this.length = n;
    this.seqs = new Int32Array(n);
    this.offsets = new Float64Array(n);
    this.codes = new Uint16Array(n * 5);
    this.ticks = new Float64Array(n);
    this.bodyKinds = new Uint8Array(n);
    this.bodyEnds = new Uint32Array(n);
    parseIntegers(c.seqs, this.seqs, 'seqs');
    parseIntegers(c.offsets, this.offsets, 'offsets');
    parseIntegers(c.ticks, this.ticks, 'ticks');
    const textBytes = new Float64Array(n);
    parseIntegers(c.body_text_bytes, textBytes, 'body lengths');
    const labels = n === 0 ? [] : (c.labels as string).split(',');
    if (labels.length !== n) throw new Error(`replay page: ${labels.length} labels for ${n} events`);
    const bytes = c.body_bytes;
    const msgTypes = c.msg_types;
    let ownMsgTypes: (string | null)[] | null = null;
    // Where each text body starts in the concatenated text's UTF-8 (the order of the rows), and the page's size.
    const formats = new Uint16Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const [kind, direction, channel, format] = (labels[i] as string).split(' ') as [string, string, string, string];
      const k = i * 5;
      this.codes[k] = intern(kind);
      this.codes[k + 1] = intern(direction);
      this.codes[k + 2] = intern(channel);
      const f = intern(format);
      this.codes[k + 3] = f;
      formats[i] = f;
      const msgType = msgTypes ? (msgTypes[i] ?? null) : null;
      const m = intern(msgType);
      this.codes[k + 4] = m;
      if (m === OWN) (ownMsgTypes ??= new Array<string | null>(n).fill(null))[i] = msgType;
    }
    // The bodies (bodyOf of the row reader): empty → null; binary → its bytes (null if none); a text format → its
    // text, else its bytes read as UTF-8, else ''. One buffer of its own memory (never a slice of the shared pool).
    const text = c.body_text ?? '';
    const decoded: (string | null)[] | null = bytes ? new Array<string | null>(n).fill(null) : null;
    // Whether anything sits between the text bodies in the page's buffer (a binary body, a text read from bytes, a
    // text a row of another format does not use): then the concatenated text is copied piece by piece.
    let interleaved = false;
    let textSum = 0;
    for (let i = 0; i < n; i++) {
      const format = internedStrings[formats[i] as number];
      const own = bytes ? (bytes[i] ?? null) : null;
      const t = textBytes[i] as number;
      if (!isNaN(t)) textSum += t;
      if (format === 'empty' || format === 'binary') {
        this.bodyKinds[i] = format === 'binary' && own ? BODY_BYTES : BODY_NULL;
        if (format === 'binary' && own) total += own.length;
        interleaved ||= (format === 'binary' && own !== null && own.length > 0) || t > 0;
      } else {
        this.bodyKinds[i] = BODY_TEXT;
        if (!isNaN(t)) total += t;
        else if (own && decoded) {
          total += Buffer.byteLength((decoded[i] = own.toString('utf8')), 'utf8');
          interleaved = true;
        }
      }
    }
    const textTotal = Buffer.byteLength(text, 'utf8');
    if (textSum !== textTotal) throw new Error(`replay page: text bodies of ${textSum} bytes, ${textTotal} read`);
    const bodies = Buffer.allocUnsafeSlow(total);
    // The text bodies are the concatenated text's bytes, in order: written at once when nothing sits between them
    // (a page of frames), else copied piece by piece with the other bodies between them.
    if (!interleaved) bodies.write(text, 0, 'utf8');
    const textBuffer = interleaved && textTotal > 0 ? Buffer.from(text, 'utf8') : null;
    let at = 0;
    let textAt = 0;
    for (let i = 0; i < n; i++) {
      const kind = this.bodyKinds[i];
      const t = textBytes[i] as number;
      if (kind === BODY_TEXT) {
        if (!isNaN(t)) {
          if (textBuffer && t > 0) textBuffer.copy(bodies, at, textAt, textAt + t);
          at += t;
        } else if (decoded && decoded[i] !== null) at += bodies.write(decoded[i] as string, at, 'utf8');
      } else if (kind === BODY_BYTES) at += ((bytes as (Buffer | null)[])[i] as Buffer).copy(bodies, at);
      if (!isNaN(t)) textAt += t;
      this.bodyEnds[i] = at;
    }
    this.bodies = bodies;
    this.metas = c.metas;
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
