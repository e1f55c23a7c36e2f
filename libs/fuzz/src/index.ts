/**
 * A small seeded generator for hostile-input tests: the same seed gives the same cases on every run and every
 * machine (no Math.random, no clock), so a failing case can be reproduced from the seed and the case index that
 * the test prints. Dependency-free, for unit and integration tests alike.
 */

/** sfc32 seeded from a string (FNV-1a/murmur-style mixing): fast, 32-bit, good enough for fuzzing. */
function seedWords(seed: string): [number, number, number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x9e3779b9;
  for (let i = 0; i < seed.length; i++) {
    const c = seed.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x85ebca6b) ^ (h2 >>> 13);
  }
  return [h1 >>> 0, h2 >>> 0, (h1 ^ 0xdeadbeef) >>> 0, (h2 ^ 0x41c64e6d) >>> 0];
}

/** Strings every hostile-parameter test should try at least once (traversal, injection, encodings, sizes). */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '0',
  '-1',
  '1e309',
  'NaN',
  'Infinity',
  '9007199254740993',
  '99999999999999999999999999',
  '2147483648',
  '-2147483649',
  '0x1f',
  '1.5',
  'true',
  'null',
  'undefined',
  '[]',
  '{}',
  '{"$gt":""}',
  '{"$where":"sleep(1000)"}',
  "' OR '1'='1",
  "'; DROP TABLE sessions; --",
  '"; DELETE FROM events; --',
  '1; SELECT pg_sleep(5)',
  "1' UNION SELECT * FROM pg_user --",
  '$1',
  '%',
  '_',
  '\\',
  '../../../../etc/passwd',
  '..%2f..%2f..%2fetc%2fpasswd',
  '%2e%2e%2f%2e%2e%2f',
  '....//....//',
  '/etc/passwd\u0000.json',
  '\u0000',
  'a\u0000b',
  '\r\nX-Injected: 1',
  '<script>alert(1)</script>',
  '${7*7}',
  '{{7*7}}',
  '\ud800',
  '\udfff\ud800',
  '💥🎮',
  'Ω≈ç√∫',
  '\u202eevil',
  '\ufeff',
  'ǅ',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
  '123e4567-e89b-12d3-a456-42661417400',
  '123e4567-e89b-12d3-a456-4266141740000',
  '-271821-04-20T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '1970-01-01',
  '2026-02-30T25:61:61Z',
  'eyJ0IjoxfQ',
  'eyJzZXEiOi0xfQ',
  'eyJzZXEiOjFlMzA4fQ',
  'eyJ0IjoieCIsImlkIjoieSJ9',
  '!!!!',
  '====',
  'A'.repeat(201),
  'x'.repeat(4096),
];

export interface Fuzz {
  readonly seed: string;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  bool(p?: number): boolean;
  pick<T>(items: readonly T[]): T;
  bytes(n: number): Buffer;
  /** A string of `n` code units drawn from ASCII, controls, Latin-1, BMP, astral pairs and lone surrogates. */
  unicode(n: number): string;
  /** One hostile value: a listed hostile string, a long/random/unicode string, or a mutation of one. */
  hostileString(): string;
  /** `input` with 1–`maxEdits` byte flips, inserts, deletions, duplications or a truncation. */
  mutate(input: Buffer, maxEdits?: number): Buffer;
  /** A random JSON-ish value (depth-limited), occasionally with hostile shapes (huge numbers, NaN-like strings). */
  json(depth?: number): unknown;
  /** A fresh generator for case `i`, so a failing case replays alone: `fuzz.fork(i)`. */
  fork(label: string | number): Fuzz;
}

/** A seeded generator; `seed` is any string (print it with a failure). */
export function fuzz(seed: string): Fuzz {
  let [a, b, c, d] = seedWords(seed);
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T;
  const bytes = (n: number): Buffer => {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = int(0, 255);
    return out;
  };
  const unicode = (n: number): string => {
    let s = '';
    while (s.length < n) {
      const kind = int(0, 9);
      if (kind <= 3) s += String.fromCharCode(int(0x20, 0x7e));
      else if (kind === 4) s += String.fromCharCode(int(0, 0x1f));
      else if (kind === 5) s += String.fromCharCode(int(0x80, 0xff));
      else if (kind === 6) s += String.fromCharCode(int(0x100, 0xd7ff));
      else if (kind === 7) s += String.fromCodePoint(int(0x10000, 0x10ffff));
      else if (kind === 8) s += String.fromCharCode(int(0xd800, 0xdfff));
      else s += pick(['"', '\\', '/', '%', '.', '?', '&', '=', '#', '\u0000']);
    }
    return s.slice(0, n);
  };
  const mutate = (input: Buffer, maxEdits = 4): Buffer => {
    let out = Buffer.from(input);
    const edits = int(1, Math.max(1, maxEdits));
    for (let e = 0; e < edits; e++) {
      const at = out.length === 0 ? 0 : int(0, out.length - 1);
      switch (int(0, 5)) {
        case 0:
          if (out.length) out[at] = (out[at] as number) ^ (1 << int(0, 7));
          break;
        case 1:
          out = Buffer.concat([out.subarray(0, at), bytes(int(1, 8)), out.subarray(at)]);
          break;
        case 2:
          out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + int(1, 8)))]);
          break;
        case 3:
          out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + int(1, 16)), out.subarray(at)]);
          break;
        case 4:
          out = out.subarray(0, at);
          break;
        default:
          if (out.length) out[at] = pick([0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x2c, 0x00, 0xff, 0x30]);
      }
    }
    return out;
  };
  const hostileString = (): string => {
    switch (int(0, 5)) {
      case 0:
      case 1:
        return pick(HOSTILE_STRINGS);
      case 2:
        return unicode(int(1, 64));
      case 3:
        return pick(['a', '%00', '../', "'", '9', '\u00ff']).repeat(int(100, 5000));
      case 4:
        return mutate(Buffer.from(pick(HOSTILE_STRINGS.filter((s) => s.length > 0)))).toString('latin1');
      default:
        return bytes(int(1, 48)).toString('base64url');
    }
  };
  const json = (depth = 3): unknown => {
    const kind = int(0, depth > 0 ? 8 : 5);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return bool();
      case 2:
        return pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 2, Number.MIN_VALUE, 4_294_967_296, -0]);
      case 3:
        return unicode(int(0, 24));
      case 4:
        return hostileString().slice(0, 256);
      case 5:
        return int(-1000, 1000);
      case 6:
      case 7: {
        const o: Record<string, unknown> = {};
        for (let i = int(0, 5); i > 0; i--) o[pick(['t', 'type', 'frame', 'phase', 'seq', 'id', 'body', 'payload', '__proto__', 'constructor', unicode(int(1, 6))])] = json(depth - 1);
        return o;
      }
      default:
        return Array.from({ length: int(0, 5) }, () => json(depth - 1));
    }
  };
  function bool(p = 0.5): boolean {
    return next() < p;
  }
  return { seed, next, int, bool, pick, bytes, unicode, hostileString, mutate, json, fork: (label) => fuzz(`${seed}/${label}`) };
}

/** `[[[…]]]` nested `depth` times (text): the classic stack-overflow input for recursive JSON code. */
export function deepJsonArray(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** `{"a":{"a":…}}` nested `depth` times (text). */
export function deepJsonObject(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}
