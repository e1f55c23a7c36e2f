import { bodyBytes, eventHash, eventHashOfBody } from './hash';
import type { NewEvent } from './types';

/**
 * Encoding of rows for `COPY ... FROM STDIN` in Postgres' text format: tab-separated, newline-terminated,
 * `\N` for NULL, backslash escapes for backslash, newline, carriage return and tab.
 */
const SPECIAL = /[\\\n\r\t]/;
const SPECIAL_ALL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export const COPY_NULL = '\\N';

export function copyText(value: string | null | undefined): string {
  if (value == null) return COPY_NULL;
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c] as string) : value;
}

/** bytea in hex form, with its backslash escaped for COPY. */
export function copyBytea(value: Buffer | null | undefined): string {
  if (value == null) return COPY_NULL;
  return '\\\\x' + value.toString('hex');
}

const NO_BYTES = Buffer.alloc(0);

/** The second of the last timestamp written, and its `YYYY-MM-DDTHH:MM:SS` (a batch's events share a few seconds). */
let cachedSecond = -1;
let cachedSecondIso = '';

/**
 * µs since the epoch → a timestamptz literal with all six fractional digits. The date and time of day are those of
 * the whole second (`floor(us / 1e6)`, what `new Date(floor(us / 1000))` shows up to its milliseconds), formatted
 * once per second rather than once per row.
 */
export function usToTimestamp(us: number): string {
  const second = Math.floor(us / 1_000_000);
  if (second !== cachedSecond) {
    cachedSecondIso = new Date(second * 1000).toISOString().slice(0, 19); // YYYY-MM-DDTHH:MM:SS
    cachedSecond = second;
  }
  return `${cachedSecondIso}.${String(us % 1_000_000).padStart(6, '0')}+00`;
}

/**
 * A COPY stream's data as bytes, row after row, in one growing Buffer: each field is written into it where it goes
 * (ASCII fields as latin1, text as UTF-8), so no row is built as a string of concatenated pieces first and no chunk
 * is converted to UTF-8 as a whole afterwards. `take()` hands the bytes written so far over (the COPY stream keeps
 * them until the socket took them) and starts a fresh buffer.
 */
export class CopyBytes {
  private buf: Buffer;
  private at = 0;

  constructor(private readonly capacity = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Bytes written since the last `take`. */
  get length(): number {
    return this.at;
  }

  /** The buffer written into (valid until the next write: it may be replaced by a larger one). */
  get bytes(): Buffer {
    return this.buf;
  }

  /** A string of code units below 0x100 only (ASCII fields: uuids, enums, integers, timestamps, hex). */
  latin1(s: string): void {
    this.room(s.length);
    this.at += this.buf.write(s, this.at, s.length, 'latin1');
  }

  /** Any string as UTF-8 (a lone surrogate becomes EF BF BD, as `Buffer.from(s, 'utf8')` makes it); returns its byte length. */
  utf8(s: string): number {
    this.room(s.length * 3);
    const n = this.buf.write(s, this.at, s.length * 3, 'utf8');
    this.at += n;
    return n;
  }

  /** A text field: escaped for COPY, `\N` for null. */
  text(value: string | null | undefined): void {
    if (value == null) this.latin1(COPY_NULL);
    else this.utf8(SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c] as string) : value);
  }

  /** A bytea field in hex form (its backslash escaped for COPY), `\N` for null. */
  bytea(value: Buffer | null | undefined): void {
    if (value == null) this.latin1(COPY_NULL);
    else {
      this.latin1('\\\\x');
      this.latin1(value.toString('hex'));
    }
  }

  /** One byte (a tab, a newline). */
  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }

  /** The bytes written since the last `take`, as a Buffer of their own; the next writes go to a fresh buffer. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.at);
    this.buf = NO_BYTES; // the next buffer is allocated by the next write (none after a batch's last chunk)
    this.at = 0;
    return out;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.capacity, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
}

/** Can a text go to COPY as it is (no byte to escape, no NUL that a text column cannot hold)? */
export const COPY_AS_IS = (text: string): boolean => !SPECIAL_OR_NUL.test(text);
// eslint-disable-next-line no-control-regex -- NUL is what a text column cannot hold: one scan for it and the escapes
const SPECIAL_OR_NUL = /[\\\n\r\t\u0000]/;

const TAB = 0x09;
const NEWLINE = 0x0a;

/**
 * Where an event's body is stored, as COPY and the one-statement append both write it: text in `body_text`, except
 * text holding NUL (Postgres text cannot), which goes to `body_bytes` and is read back as text by its format;
 * binary in `body_bytes`.
 */
export function bodyColumns(e: NewEvent): { text: string | null; bytes: Buffer | null } {
  const body = e.body;
  const text = typeof body === 'string' && body.length > 0 && !body.includes('\u0000') ? body : null;
  const bytes = e.format === 'binary' || (typeof body === 'string' && text === null && body.length > 0) ? bodyBytes(body) : null;
  return { text, bytes };
}

/**
 * Writes one event's COPY row into `out` and returns the event's hash after `previous`. A text body that COPY takes as
 * it is (nearly every one: no backslash, tab, newline, carriage return or NUL) is encoded to UTF-8 once, into the row,
 * and hashed from those very bytes (`eventHashOfBody`); any other body is escaped and hashed as it always was
 * (`eventHash`). Byte for byte the row the string encoding gave before (UTF-8 of the escaped fields, tab-separated).
 */
export function writeEventRow(out: CopyBytes, e: NewEvent, previous: Buffer): Buffer {
  // The ASCII fields (validated: uuid, integers, enums, the timestamp) in one latin1 write.
  out.latin1(`${e.sessionId}\t${e.seq}\t${e.kind}\t${e.direction}\t${e.channel}\t${usToTimestamp(e.recordedAtUs)}\t${e.offsetUs}\t${e.format}\t`);
  const body = e.body;
  let hash: Buffer;
  if (typeof body === 'string' && body.length > 0 && e.format !== 'empty' && e.format !== 'binary' && COPY_AS_IS(body)) {
    const start = out.length;
    out.utf8(body);
    hash = eventHashOfBody(previous, e, out.bytes, start, out.length);
    out.latin1('\t\\N\t');
  } else {
    hash = eventHash(previous, e);
    const { text, bytes } = bodyColumns(e);
    if (e.format === 'empty') out.latin1(COPY_NULL);
    else if (body !== '') out.text(text);
    out.byte(TAB);
    out.bytea(bytes);
    out.byte(TAB);
  }
  out.text(e.msgType);
  out.byte(TAB);
  out.latin1(e.tick == null ? COPY_NULL : String(e.tick));
  out.byte(TAB);
  out.text(e.requestId);
  out.byte(TAB);
  out.text(e.meta);
  out.byte(TAB);
  out.bytea(hash);
  out.byte(NEWLINE);
  return hash;
}
