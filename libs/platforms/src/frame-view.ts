import type { Json } from './frames';

/**
 * The fields of a WebSocket message that the platforms' classifiers read (`PlatformFrames.classify`: MoltStation's
 * `t` and `frame.tick`, SpaceMolt's `type` and `request_id`, the generic rule's `type` and `t`), read from the text
 * by one validating scan instead of `JSON.parse` building the whole message (issue 18: the parse and the garbage
 * of its object graph were the largest per-frame costs of the recorder after the relay itself). A classifier that
 * comes to read another field must be added here: frame-view.spec.ts holds every platform's classifier to the
 * full parse's result over generated and hostile messages.
 */
const TOP = ['t', 'type', 'request_id', 'frame'] as const;
/** The member of `frame` read (MoltStation's tick). */
const NESTED = 'tick';

/** Bytes of each name, for the comparison with a key's bytes. */
const TOP_BYTES = TOP.map((n) => Buffer.from(n, 'latin1'));
const NESTED_BYTES = Buffer.from(NESTED, 'latin1');
const FRAME = 3;

/** Above this many UTF-16 units a message is parsed (its UTF-8 copy would not fit the scratch buffer kept). */
const SCAN_MAX = 256 * 1024;
/** The message's UTF-8 bytes (one per thread: a module instance per thread); grown up to 3 × SCAN_MAX. */
let scratch = Buffer.allocUnsafeSlow(16 * 1024);
/** Open containers while scanning: 1 an object, 2 an array (grown on demand). */
let stack = new Uint8Array(64);

const enum Kind {
  Absent = 0,
  String,
  Number,
  True,
  False,
  Null,
  Object,
  Array,
  /** A string with an escape or a non-ASCII character: its value is what `JSON.parse` says. */
  Unclear,
}

/** What the scan found of one field: its last occurrence (JSON.parse's last-one-wins), as a kind and a byte range. */
const kinds = new Uint8Array(TOP.length + 1);
const starts = new Int32Array(TOP.length + 1);
const ends = new Int32Array(TOP.length + 1);

/**
 * The message as the classifiers see it, from one scan of its UTF-8 bytes:
 * - `undefined`: the scan cannot decide — the text is not one JSON value (NDJSON, plain text, malformed: the caller
 *   parses it to know which), it is larger than 256 Ki code units, or a field read is a string with an escape or a
 *   non-ASCII character, or a key where a field could be is escaped: the caller parses the text;
 * - `null`: the text is valid JSON but no object (an array, a string, a number …), as `JSON.parse` would say;
 * - otherwise an object holding exactly the fields above that the message has, with `JSON.parse`'s values (strings,
 *   numbers, true/false/null; an object or array field as an empty one, `frame` as an object holding its `tick`).
 *
 * Validation is `JSON.parse`'s grammar (RFC 8259), decided on UTF-8 bytes: a code unit outside ASCII is valid inside a
 * string and nowhere else, which its UTF-8 bytes (all ≥ 0x80, a lone surrogate's EF BF BD included) say the same way.
 */
export function frameView(text: string): Json | null | undefined {
  const length = text.length;
  if (length === 0 || length > SCAN_MAX) return undefined;
  if (length * 3 + 1 > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(length * 3 + 1, scratch.length * 2));
  const b = scratch;
  const n = b.write(text, 0, length * 3, 'utf8');
  // A NUL after the text: a byte no rule accepts, so every look-ahead stops there (no read of stale bytes counts).
  b[n] = 0;
  kinds.fill(0);
  let i = 0;
  let depth = 0;
  /** The field (index in TOP, or TOP.length for frame.tick) whose value comes next; -1 none. */
  let field = -1;
  /** The root object's `frame` object is open (its members are at depth 2). */
  let inFrame = false;
  let rootIsObject = false;
  let c: number;
  /** Expecting a key (after `{` or an object's `,`) rather than a value. */
  let wantKey = false;
  for (;;) {
    while ((c = b[i] as number) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    if (i >= n) return undefined;
    if (wantKey) {
      // `"key" :`
      wantKey = false;
      if (c !== 0x22) return undefined;
      const start = i;
      const end = stringEnd(b, start, n);
      if (end < 0) return undefined;
      if (depth === 1) {
        // An escaped key could spell a field's name (`"\u0074"` is `t`): the parse decides.
        if (escaped) return undefined;
        field = topField(b, start + 1, end - 1);
      } else if (inFrame && depth === 2) {
        if (escaped) return undefined;
        field = sameBytes(b, start + 1, end - 1, NESTED_BYTES) ? TOP.length : -1;
      }
      i = end;
      while ((c = b[i] as number) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      if (c !== 0x3a /* : */) return undefined;
      i++;
      continue;
    }
    // A value.
    const at = i;
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const object = c === 0x7b;
      if (depth === 0) rootIsObject = object;
      if (field >= 0) {
        kinds[field] = object ? Kind.Object : Kind.Array;
        if (field === FRAME && object) {
          inFrame = true;
          kinds[TOP.length] = Kind.Absent;
        }
        field = -1;
      }
      if (depth === stack.length) {
        const grown = new Uint8Array(stack.length * 2);
        grown.set(stack);
        stack = grown;
      }
      stack[depth++] = object ? 1 : 2;
      i++;
      while ((c = b[i] as number) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      if (c !== (object ? 0x7d : 0x5d)) {
        // Not empty: its first key or element.
        wantKey = object;
        continue;
      }
      // Empty: closed at once (the after-value loop below closes it).
    } else {
      let kind: Kind;
      if (c === 0x22 /* " */) {
        i = stringEnd(b, at, n);
        if (i < 0) return undefined;
        kind = escaped || nonAscii ? Kind.Unclear : Kind.String;
      } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
        i = numberEnd(b, at);
        if (i < 0) return undefined;
        kind = Kind.Number;
      } else if (c === 0x74 /* t */ && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65) {
        kind = Kind.True;
        i += 4;
      } else if (c === 0x66 /* f */ && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65) {
        kind = Kind.False;
        i += 5;
      } else if (c === 0x6e /* n */ && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c) {
        kind = Kind.Null;
        i += 4;
      } else return undefined;
      if (field >= 0) {
        kinds[field] = kind;
        starts[field] = at;
        ends[field] = i;
        field = -1;
      }
    }
    // After a value (or a container's opening, when it is empty): separators and closings, or the end of the text.
    for (;;) {
      while ((c = b[i] as number) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      if (depth === 0) {
        if (i !== n) return undefined;
        return rootIsObject ? view(b) : null;
      }
      if (i >= n) return undefined;
      const top = stack[depth - 1];
      if (c === 0x2c /* , */) {
        i++;
        wantKey = top === 1;
        break;
      }
      if ((c === 0x7d && top === 1) || (c === 0x5d && top === 2)) {
        i++;
        depth--;
        if (depth === 1) inFrame = false;
        continue;
      }
      return undefined;
    }
  }
}

/** The last string read held an escape (`escaped`) or a byte outside ASCII (`nonAscii`). */
let escaped = false;
let nonAscii = false;

/** The index after the string whose opening quote is at `start`, or -1 when it is not a valid JSON string; sets `escaped`, `nonAscii`. */
function stringEnd(b: Buffer, start: number, n: number): number {
  escaped = false;
  nonAscii = false;
  let j = start + 1;
  while (j < n) {
    const d = b[j] as number;
    if (d === 0x22) return j + 1;
    if (d < 0x20) return -1;
    if (d === 0x5c /* \ */) {
      escaped = true;
      const e = b[j + 1];
      if (e === 0x75 /* u */) {
        if (!hex(b[j + 2] as number) || !hex(b[j + 3] as number) || !hex(b[j + 4] as number) || !hex(b[j + 5] as number)) return -1;
        j += 6;
        continue;
      }
      if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        j += 2;
        continue;
      }
      return -1;
    }
    if (d >= 0x80) nonAscii = true;
    j++;
  }
  return -1;
}

/** The index after the number at `start` (JSON's grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?), or -1. */
function numberEnd(b: Buffer, start: number): number {
  let j = start;
  if (b[j] === 0x2d) j++;
  let d = b[j] as number;
  if (d === 0x30) j++;
  else if (d >= 0x31 && d <= 0x39) while ((d = b[++j] as number) >= 0x30 && d <= 0x39);
  else return -1;
  if (b[j] === 0x2e) {
    d = b[++j] as number;
    if (!(d >= 0x30 && d <= 0x39)) return -1;
    while ((d = b[++j] as number) >= 0x30 && d <= 0x39);
  }
  d = b[j] as number;
  if (d === 0x65 || d === 0x45) {
    d = b[++j] as number;
    if (d === 0x2b || d === 0x2d) d = b[++j] as number;
    if (!(d >= 0x30 && d <= 0x39)) return -1;
    while ((d = b[++j] as number) >= 0x30 && d <= 0x39);
  }
  return j;
}

function hex(d: number): boolean {
  return (d >= 0x30 && d <= 0x39) || (d >= 0x61 && d <= 0x66) || (d >= 0x41 && d <= 0x46);
}

function topField(b: Buffer, start: number, end: number): number {
  for (let f = 0; f < TOP_BYTES.length; f++) if (sameBytes(b, start, end, TOP_BYTES[f] as Buffer)) return f;
  return -1;
}

function sameBytes(b: Buffer, start: number, end: number, name: Buffer): boolean {
  if (end - start !== name.length) return false;
  for (let k = 0; k < name.length; k++) if (b[start + k] !== name[k]) return false;
  return true;
}

/** The view object from what the scan recorded (`undefined` when a field read is unclear: the parse decides). */
function view(b: Buffer): Json | undefined {
  const out: Json = {};
  for (let f = 0; f < TOP.length; f++) {
    const v = valueOf(b, f);
    if (v === UNCLEAR) return undefined;
    if (v !== ABSENT) out[TOP[f] as string] = v;
  }
  if (kinds[FRAME] === Kind.Object) {
    const tick = valueOf(b, TOP.length);
    if (tick === UNCLEAR) return undefined;
    out['frame'] = tick === ABSENT ? {} : { [NESTED]: tick };
  }
  return out;
}

const ABSENT = Symbol('absent');
const UNCLEAR = Symbol('unclear');

function valueOf(b: Buffer, f: number): unknown {
  switch (kinds[f] as Kind) {
    case Kind.Absent:
      return ABSENT;
    case Kind.Unclear:
      return UNCLEAR;
    case Kind.String:
      return b.toString('latin1', (starts[f] as number) + 1, (ends[f] as number) - 1);
    case Kind.Number:
      return Number(b.toString('latin1', starts[f] as number, ends[f] as number));
    case Kind.True:
      return true;
    case Kind.False:
      return false;
    case Kind.Null:
      return null;
    case Kind.Object:
      return {};
    case Kind.Array:
      return [];
  }
}
