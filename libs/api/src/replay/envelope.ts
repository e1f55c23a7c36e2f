import type { ReplayRow } from '@rewind/event-store';

/** The documented envelope of `/replay/:sessionId` (the object whose `JSON.stringify` is on the wire). */
export function envelope(e: ReplayRow) {
  const binary = Buffer.isBuffer(e.body);
  return {
    type: 'event',
    seq: e.seq,
    offsetUs: e.offsetUs,
    kind: e.kind,
    direction: e.direction,
    channel: e.channel,
    msgType: e.msgType,
    tick: e.tick,
    format: e.format,
    encoding: binary ? 'base64' : 'utf8',
    data: binary ? (e.body as Buffer).toString('base64') : e.body,
  };
}

/** Written through, reused by every call (the gateway's sends are synchronous): grown when a message needs more. */
let scratch = Buffer.allocUnsafeSlow(64 * 1024);

const HEX = '0123456789abcdef';

/** Writes `JSON.stringify(s)` as UTF-8 into `scratch` at `at` (room checked by the caller); returns the offset after it. */
function writeJsonString(s: string, at: number): number {
  const b = scratch;
  b[at++] = 0x22;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x80) {
      if (c === 0x22 || c === 0x5c) b[at++] = 0x5c;
      b[at++] = c;
    } else if (c < 0x20) {
      b[at++] = 0x5c;
      if (c === 0x08) b[at++] = 0x62;
      else if (c === 0x09) b[at++] = 0x74;
      else if (c === 0x0a) b[at++] = 0x6e;
      else if (c === 0x0c) b[at++] = 0x66;
      else if (c === 0x0d) b[at++] = 0x72;
      else at = writeUnicodeEscape(c, at);
    } else if (c < 0x800) {
      b[at++] = 0xc0 | (c >> 6);
      b[at++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        b[at++] = 0xf0 | (cp >> 18);
        b[at++] = 0x80 | ((cp >> 12) & 0x3f);
        b[at++] = 0x80 | ((cp >> 6) & 0x3f);
        b[at++] = 0x80 | (cp & 0x3f);
        i++;
      } else {
        // A lone surrogate: JSON.stringify writes it as an escape (well-formed JSON.stringify).
        b[at++] = 0x5c;
        at = writeUnicodeEscape(c, at);
      }
    } else {
      b[at++] = 0xe0 | (c >> 12);
      b[at++] = 0x80 | ((c >> 6) & 0x3f);
      b[at++] = 0x80 | (c & 0x3f);
    }
  }
  b[at++] = 0x22;
  return at;
}

/** `u` and four lowercase hex digits (after the backslash), as JSON.stringify escapes. */
function writeUnicodeEscape(c: number, at: number): number {
  const b = scratch;
  b[at++] = 0x75;
  b[at++] = HEX.charCodeAt((c >> 12) & 0xf);
  b[at++] = HEX.charCodeAt((c >> 8) & 0xf);
  b[at++] = HEX.charCodeAt((c >> 4) & 0xf);
  b[at++] = HEX.charCodeAt(c & 0xf);
  return at;
}

/** An ASCII text (keys, numbers, base64) into `scratch`. */
function writeAscii(s: string, at: number): number {
  return at + scratch.write(s, at, 'latin1');
}

const jsonNumber = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

/** The most bytes `JSON.stringify(s)` can take in UTF-8 (6 per UTF-16 unit, the quotes). */
const jsonStringBound = (s: string | null | undefined): number => (typeof s === 'string' ? 6 * s.length + 2 : 4);

function writeJsonValue(v: string | null, at: number): number {
  return v === null ? writeAscii('null', at) : writeJsonString(v, at);
}

/**
 * `JSON.stringify(envelope(e))` as its UTF-8 bytes, built without the JSON text: the envelope's keys and values are
 * written straight into one buffer (the body escaped as `JSON.stringify` escapes it), sent by the gateway as a text
 * frame. Byte-identical to the JSON text (a property test pins it, `envelope.spec.ts`); it spares the send path the
 * envelope object, the JSON string (a text body is escaped, ~1.2× its length, two bytes a character for any non-Latin-1
 * body) and `ws`'s UTF-8 encoding of it: the largest allocation per event of `/replay/:id` after the row itself.
 */
export function envelopeFrame(e: ReplayRow): Buffer {
  const binary = Buffer.isBuffer(e.body);
  const data = binary ? (e.body as Buffer).toString('base64') : (e.body as string | null);
  const bound = 160 + jsonStringBound(e.kind) + jsonStringBound(e.direction) + jsonStringBound(e.channel) + jsonStringBound(e.msgType) + jsonStringBound(e.format) + jsonStringBound(data) + 48;
  if (bound > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(bound, scratch.length * 2));
  let at = writeAscii('{"type":"event","seq":', 0);
  at = writeAscii(jsonNumber(e.seq), at);
  at = writeAscii(',"offsetUs":', at);
  at = writeAscii(jsonNumber(e.offsetUs), at);
  at = writeAscii(',"kind":', at);
  at = writeJsonString(e.kind, at);
  at = writeAscii(',"direction":', at);
  at = writeJsonString(e.direction, at);
  at = writeAscii(',"channel":', at);
  at = writeJsonString(e.channel, at);
  if (e.msgType !== undefined) {
    at = writeAscii(',"msgType":', at);
    at = writeJsonValue(e.msgType, at);
  }
  if (e.tick !== undefined) {
    at = writeAscii(',"tick":', at);
    at = writeAscii(e.tick === null ? 'null' : jsonNumber(e.tick), at);
  }
  at = writeAscii(',"format":', at);
  at = writeJsonString(e.format, at);
  at = writeAscii(binary ? ',"encoding":"base64"' : ',"encoding":"utf8"', at);
  if (data !== undefined) {
    at = writeAscii(',"data":', at);
    at = writeJsonValue(data, at);
  }
  at = writeAscii('}', at);
  const out = Buffer.allocUnsafe(at);
  scratch.copy(out, 0, 0, at);
  return out;
}
