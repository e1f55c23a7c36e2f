/**
 * A set of strings (each at least `width` code units long) that finds, in a text, the leftmost-first
 * occurrences of any of them at a cost per character of the text, however many strings it holds. It
 * replaces a RegExp alternation of every string (recompiled whenever one is added, and tried alternative by
 * alternative at every position) in the secret registry.
 *
 * Sampled grams: every string has the same first `width` code units' worth of room, so with grams of
 * `gram` code units and a stride of `width - gram + 1`, each possible start t of a string is covered by
 * exactly one sampled position p (a multiple of the stride, t ≤ p ≤ t + stride - 1) whose gram lies within
 * the string's first `width` code units. Each string is indexed once per offset 0 … stride-1 by the hash
 * (32-bit, `Math.imul`) of its gram there; a scan hashes the text's gram at every stride-th position only,
 * and reads one bit of a bitset of the table's slots (Fibonacci hashing: the high bits of hash × golden
 * ratio), which is clear at most positions. On a hit, the slot's entries with the same full hash name
 * candidate starts (p - offset), each confirmed with `startsWith`. A match is at least `width` ≥ stride
 * long, so a sampled position holds at most one match. Adding and removing a string touch its stride
 * entries only; the table doubles (amortised O(1)) when an eighth full.
 *
 * Code units, not code points: as a RegExp without the `u` flag, a string starting with a lone surrogate
 * matches inside a surrogate pair. The byte matcher uses the same index over `latin1` strings (one code
 * unit per byte). Grams are hashed over the low byte of each code unit (a scan reads the text's bytes from
 * one `latin1` copy, far cheaper than `charCodeAt` per code unit); a hash only names candidates, each
 * confirmed on the text, so this loses no match.
 */
export class PrefixIndex {
  /** Slots by gram hash (a slot holds few entries: the table is at most 1/8 full). */
  private slots: (GramEntry[] | undefined)[];
  /** One bit per slot, set while the slot holds an entry: the common empty case reads 1/256 of the table's memory. */
  private occupied: Int32Array;
  private shift: number;
  private entries = 0;
  private readonly held = new Set<string>();
  /** Code units hashed at each sampled position. */
  readonly gram: number;
  /** Distance between sampled positions: `width - gram + 1`. */
  readonly stride: number;

  constructor(readonly width: number) {
    if (!Number.isInteger(width) || width < 1) throw new Error(`a prefix index needs a width of at least 1 (got ${width})`);
    this.gram = Math.min(width, GRAM);
    this.stride = width - this.gram + 1;
    this.shift = 32 - MIN_BITS;
    this.slots = new Array<GramEntry[] | undefined>(1 << MIN_BITS).fill(undefined);
    this.occupied = new Int32Array((1 << MIN_BITS) >>> 5);
  }

  get size(): number {
    return this.held.size;
  }

  has(s: string): boolean {
    return this.held.has(s);
  }

  /** Adds a string (at least `width` code units); adding one already held is a no-op. */
  add(s: string): void {
    if (s.length < this.width) throw new Error(`a string shorter than the index width ${this.width} cannot be indexed`);
    if (this.held.has(s)) return;
    this.held.add(s);
    for (let offset = 0; offset < this.stride; offset++) this.insert({ s, hash: this.hashAt(s, offset), offset });
    this.entries += this.stride;
    while (this.entries > this.slots.length >>> 3) this.grow();
  }

  /** Removes a string; removing one not held is a no-op. */
  delete(s: string): void {
    if (!this.held.delete(s)) return;
    for (let offset = 0; offset < this.stride; offset++) {
      const slot = this.slotOf(this.hashAt(s, offset));
      const list = this.slots[slot] as GramEntry[];
      const at = list.findIndex((e) => e.s === s && e.offset === offset);
      if (list.length === 1) {
        this.slots[slot] = undefined;
        this.occupied[slot >>> 5] &= ~(1 << (slot & 31));
      } else list.splice(at, 1);
    }
    this.entries -= this.stride;
  }

  /**
   * Walks the text left to right as a global RegExp whose alternatives are the skip pattern, then every
   * held string longest first: at each position, a span of `skip` starting there (found with `indexOf` of
   * its prefix, confirmed by `skip.length`) is kept whole — reported only if it is itself a held string —
   * else the longest held string starting there is reported (`onMatch(at, s)`) and the walk resumes after
   * it, else it moves on one code unit.
   */
  scan(text: string, onMatch: (at: number, s: string) => void, skip?: SkipRule): void {
    if (text.length < this.width || this.held.size === 0) return;
    // The grams are read from the text's code units' low bytes, copied into a scratch buffer first (one `latin1`
    // write: one byte per code unit, its low byte): typed-array reads cost a quarter of `charCodeAt`'s here (issue 18).
    // A scan from within a scan's callbacks (none does so today) must not overwrite the outer one's bytes: it copies its own.
    const nested = scanning;
    const bytes = nested ? Buffer.from(text, 'latin1') : lowBytes(text);
    scanning = true;
    try {
      this.scanBytes(text, bytes, onMatch, skip);
    } finally {
      scanning = nested;
    }
  }

  private scanBytes(text: string, bytes: Buffer, onMatch: (at: number, s: string) => void, skip: SkipRule | undefined): void {
    const width = this.width;
    const gram = this.gram;
    const stride = this.stride;
    const last = text.length - width;
    const slots = this.slots;
    const occupied = this.occupied;
    const shift = this.shift;
    /** Everything before `pos` is consumed (a match or a kept span). */
    let pos = 0;
    /** The first skip span at or after the `pos` it was searched from (Infinity: none; -1: not searched yet). */
    let skipAt = -1;
    for (let p = 0, end = text.length - gram; p <= end; p += stride) {
      let h: number;
      if (gram === GRAM) h = (Math.imul((Math.imul((Math.imul(bytes[p] as number, BASE) + (bytes[p + 1] as number)) | 0, BASE) + (bytes[p + 2] as number)) | 0, BASE) + (bytes[p + 3] as number)) | 0;
      else {
        h = 0;
        for (let i = p; i < p + gram; i++) h = (Math.imul(h, BASE) + (bytes[i] as number)) | 0;
      }
      const slot = Math.imul(h, GOLDEN) >>> shift;
      if ((occupied[slot >>> 5] & (1 << (slot & 31))) === 0) continue;
      // Candidates of this sampled position: the smallest confirmed start, the longest string there.
      const list = slots[slot] as GramEntry[];
      let at = -1;
      let found = '';
      for (let i = 0; i < list.length; i++) {
        const e = list[i] as GramEntry;
        if (e.hash !== h) continue;
        const t = p - e.offset;
        if (t < pos || t > last || (at >= 0 && (t > at || (t === at && e.s.length <= found.length)))) continue;
        if (text.startsWith(e.s, t)) {
          at = t;
          found = e.s;
        }
      }
      if (at < 0) continue;
      if (skip !== undefined) {
        // Spans to keep whole that start before (or at) the match come first, and may swallow it.
        if (skipAt < pos) skipAt = nextSkip(text, skip, pos);
        while (skipAt <= at) {
          const span = skip.length(text, skipAt);
          const kept = text.slice(skipAt, skipAt + span);
          if (this.held.has(kept)) onMatch(skipAt, kept);
          pos = skipAt + span;
          skipAt = nextSkip(text, skip, pos);
        }
        if (at < pos) {
          // Swallowed: resume at the first sampled position covering starts at or after the kept span
          // (this one again if its later starts can still be).
          p = pos + ((stride - (pos % stride)) % stride) - stride;
          continue;
        }
      }
      onMatch(at, found);
      pos = at + found.length;
      // Resume at the first sampled position covering starts at or after `pos`: pos rounded up to a
      // multiple of the stride (a match is at least `width` ≥ stride long, so never this one again).
      p = pos + ((stride - (pos % stride)) % stride) - stride;
    }
  }

  /** The hash of the low bytes of `gram` code units of s from `from` (what `scan` reads of a text: see `lowBytes`). */
  private hashAt(s: string, from: number): number {
    let h = 0;
    for (let i = from, end = from + this.gram; i < end; i++) h = (Math.imul(h, BASE) + (s.charCodeAt(i) & 0xff)) | 0;
    return h;
  }

  private slotOf(hash: number): number {
    return Math.imul(hash, GOLDEN) >>> this.shift;
  }

  private insert(e: GramEntry): void {
    const slot = this.slotOf(e.hash);
    const list = this.slots[slot];
    if (list) list.push(e);
    else {
      this.slots[slot] = [e];
      this.occupied[slot >>> 5] |= 1 << (slot & 31);
    }
  }

  private grow(): void {
    const old = this.slots;
    this.shift--;
    this.slots = new Array<GramEntry[] | undefined>(old.length * 2).fill(undefined);
    this.occupied = new Int32Array((old.length * 2) >>> 5);
    for (const list of old) if (list) for (const e of list) this.insert(e);
  }
}

/** Where `lowBytes` copies a text (one per thread: a module instance per thread); grown on demand, never shrunk. */
let scratch = Buffer.allocUnsafeSlow(16 * 1024);
/** A scan is running on this thread (its bytes are in `scratch`): see `PrefixIndex.scan`. */
let scanning = false;

/**
 * The low byte of each of the text's code units, in a scratch buffer (valid until the next call): a `latin1` write
 * is one byte per code unit, its low byte, for any string (lone surrogates and astral pairs included). The gram hash
 * is a filter: every candidate is confirmed on the text itself (`startsWith`), so hashing low bytes only (on both
 * sides: `hashAt`) loses no match.
 */
function lowBytes(text: string): Buffer {
  // A text past 1 MiB gets a buffer of its own (the scratch one is not grown to it and kept).
  if (text.length > SCRATCH_MAX) return Buffer.from(text, 'latin1');
  if (text.length > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(text.length, scratch.length * 2));
  scratch.write(text, 0, 'latin1');
  return scratch;
}
const SCRATCH_MAX = 1024 * 1024;

/** The first start of a `skip` span at or after `from`, or Infinity. */
function nextSkip(text: string, skip: SkipRule, from: number): number {
  for (let at = text.indexOf(skip.prefix, from); at >= 0; at = text.indexOf(skip.prefix, at + 1)) if (skip.length(text, at) > 0) return at;
  return Infinity;
}

/** A span kept whole wherever it starts: it starts with `prefix`, and `length` confirms it. */
export interface SkipRule {
  prefix: string;
  /** The span's length if one starts at `at`, else 0. */
  length(text: string, at: number): number;
}

interface GramEntry {
  s: string;
  /** The hash of s's gram at `offset`. */
  hash: number;
  offset: number;
}

/**
 * Code units per gram (fewer when the width is smaller). With the registry's width of 8, 4 code units every 5th
 * position hash 0.8 code units per character of the text (5 every 4th: 1.25), with no more hits on real text: a
 * 1.4 KB frame scans in 2.6–3.1 µs against 3.8–4.7 µs with 30 to 4,000 secrets (3 every 6th is faster with few
 * secrets but slower with thousands, whose 3-grams cover most of a frame's; issue 18). Read from the text's
 * low bytes in a scratch buffer rather than with `charCodeAt`, a 775-character frame scans in 0.9–1.1 µs instead
 * of 2.0–2.3 µs (100 to 4,096 secrets, issue 18's fourth pass).
 */
const GRAM = 4;
/** Multiplier of the polynomial hash (odd, with well-mixed bits). */
const BASE = 0x5bd1e995 | 0;
/** 2^32 / golden ratio: spreads hashes over the table's slots by their high bits. */
const GOLDEN = 0x9e3779b1 | 0;
/** The smallest table: 2^10 slots. */
const MIN_BITS = 10;
