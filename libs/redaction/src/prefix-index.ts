/**
 * A set of strings (each at least `width` code units long) that can say, for any position of a text, which
 * of them start there — at the cost of a few arithmetic operations and one array read per position,
 * however many strings it holds. It replaces a RegExp alternation of every string (recompiled whenever one
 * is added, and tried alternative by alternative at every position) in the secret registry.
 *
 * Each string is indexed by a Rabin–Karp hash of its first `width` code units (32-bit, `Math.imul`); a text
 * is scanned with the same hash rolled one code unit at a time. The hash picks a slot of an open table of
 * 2^bits slots (Fibonacci hashing: the high bits of hash × golden ratio); an empty slot, by far the most
 * common case (read from a bitset of the slots, small enough to stay in cache), ends the position's work. A slot lists its strings longest first with their full hashes, so
 * a candidate is only confirmed (`startsWith`) when all 32 bits agree. Adding and removing a string touch
 * its slot only; the table doubles (amortised O(1) per string) when it is an eighth full.
 *
 * Code units, not code points: as a RegExp without the `u` flag, a string starting with a lone surrogate
 * matches inside a surrogate pair. The byte matcher uses the same index over `latin1` strings (one code
 * unit per byte).
 */
export class PrefixIndex {
  /** Slots by hash; each lists its strings longest first (a slot holds few: the table is at most 1/8 full). */
  private slots: (IndexedString[] | undefined)[];
  /** One bit per slot, set while the slot holds a string: the common empty case reads 1/256 of the table's memory. */
  private occupied: Int32Array;
  private shift: number;
  private count = 0;
  /** B^(width-1) mod 2^32: the weight of the code unit that leaves the rolling window. */
  private readonly outWeight: number;

  constructor(readonly width: number) {
    if (!Number.isInteger(width) || width < 1) throw new Error(`a prefix index needs a width of at least 1 (got ${width})`);
    let w = 1;
    for (let i = 1; i < width; i++) w = Math.imul(w, BASE);
    this.outWeight = w;
    this.shift = 32 - MIN_BITS;
    this.slots = new Array<IndexedString[] | undefined>(1 << MIN_BITS).fill(undefined);
    this.occupied = new Int32Array((1 << MIN_BITS) >>> 5);
  }

  get size(): number {
    return this.count;
  }

  /** Adds a string (at least `width` code units); adding one already held is a no-op. */
  add(s: string): void {
    if (s.length < this.width) throw new Error(`a string shorter than the index width ${this.width} cannot be indexed`);
    const hash = this.hashAt(s, 0);
    const slot = this.slotOf(hash);
    const list = this.slots[slot];
    if (!list) {
      this.slots[slot] = [{ s, hash }];
      this.occupied[slot >>> 5] |= 1 << (slot & 31);
    } else {
      if (list.some((e) => e.s === s)) return;
      // Longest first: at one position the longest string that starts there wins.
      let at = 0;
      while (at < list.length && (list[at] as IndexedString).s.length >= s.length) at++;
      list.splice(at, 0, { s, hash });
    }
    this.count++;
    if (this.count > this.slots.length >>> 3) this.grow();
  }

  /** Removes a string; removing one not held is a no-op. */
  delete(s: string): void {
    if (s.length < this.width) return;
    const slot = this.slotOf(this.hashAt(s, 0));
    const list = this.slots[slot];
    if (!list) return;
    const at = list.findIndex((e) => e.s === s);
    if (at < 0) return;
    if (list.length === 1) {
      this.slots[slot] = undefined;
      this.occupied[slot >>> 5] &= ~(1 << (slot & 31));
    } else list.splice(at, 1);
    this.count--;
  }

  /**
   * Walks the text left to right. At each position starting with `skip.first`, `skip.length(text, p)` may
   * claim a span first (it returns its length, or 0: a fingerprint is kept whole; reported only if it is
   * itself a held string); otherwise the longest held string starting at p, if any, is reported
   * (`onMatch(p, s)`) and the walk resumes after it; otherwise it moves on one code unit. This is the
   * leftmost-first match of a global RegExp whose alternatives are the skip pattern, then every string
   * longest first. Positions closer than `width` to the end are not visited (no held string fits there).
   */
  scan(text: string, onMatch: (at: number, s: string) => void, skip?: SkipRule): void {
    const width = this.width;
    const last = text.length - width;
    if (last < 0 || this.count === 0) return;
    const slots = this.slots;
    const occupied = this.occupied;
    const shift = this.shift;
    const outWeight = this.outWeight;
    const skipFirst = skip ? skip.first : -1;
    let hash = this.hashAt(text, 0);
    let p = 0;
    while (p <= last) {
      const first = text.charCodeAt(p);
      if (first === skipFirst) {
        const span = (skip as SkipRule).length(text, p);
        if (span > 0) {
          // A skipped span that is itself a held string is still reported (as the RegExp's replacer sees it).
          const held = span >= width ? slots[Math.imul(hash, GOLDEN) >>> shift] : undefined; // rare: no filter
          if (held !== undefined) {
            for (let i = 0; i < held.length; i++) {
              const e = held[i] as IndexedString;
              if (e.hash === hash && e.s.length === span && text.startsWith(e.s, p)) {
                onMatch(p, e.s);
                break;
              }
            }
          }
          p += span;
          if (p <= last) hash = this.hashAt(text, p);
          continue;
        }
      }
      const slot = Math.imul(hash, GOLDEN) >>> shift;
      if ((occupied[slot >>> 5] & (1 << (slot & 31))) !== 0) {
        const list = slots[slot] as IndexedString[];
        let found: string | null = null;
        for (let i = 0; i < list.length; i++) {
          const e = list[i] as IndexedString;
          if (e.hash === hash && text.startsWith(e.s, p)) {
            found = e.s;
            break;
          }
        }
        if (found !== null) {
          onMatch(p, found);
          p += found.length;
          if (p <= last) hash = this.hashAt(text, p);
          continue;
        }
      }
      if (p < last) hash = (Math.imul(hash - Math.imul(first, outWeight), BASE) + text.charCodeAt(p + width)) | 0;
      p++;
    }
  }

  /** The hash of `width` code units of s from `from`. */
  private hashAt(s: string, from: number): number {
    let h = 0;
    for (let i = from, end = from + this.width; i < end; i++) h = (Math.imul(h, BASE) + s.charCodeAt(i)) | 0;
    return h;
  }

  private slotOf(hash: number): number {
    return Math.imul(hash, GOLDEN) >>> this.shift;
  }

  private grow(): void {
    const old = this.slots;
    this.shift--;
    this.slots = new Array<IndexedString[] | undefined>(old.length * 2).fill(undefined);
    this.occupied = new Int32Array((old.length * 2) >>> 5);
    for (const list of old) {
      if (!list) continue;
      for (const e of list) {
        const slot = this.slotOf(e.hash);
        const into = this.slots[slot];
        // Lists stay longest first: each old list is, and entries of two old lists meet here in merge order.
        if (!into) {
          this.slots[slot] = [e];
          this.occupied[slot >>> 5] |= 1 << (slot & 31);
        } else {
          let at = 0;
          while (at < into.length && (into[at] as IndexedString).s.length >= e.s.length) at++;
          into.splice(at, 0, e);
        }
      }
    }
  }
}

/** A span kept whole wherever it starts (checked only where the code unit `first` is). */
export interface SkipRule {
  first: number;
  /** The span's length if one starts at `at`, else 0. */
  length(text: string, at: number): number;
}

interface IndexedString {
  s: string;
  hash: number;
}

/** Multiplier of the polynomial hash (odd, with well-mixed bits). */
const BASE = 0x5bd1e995 | 0;
/** 2^32 / golden ratio: spreads hashes over the table's slots by their high bits. */
const GOLDEN = 0x9e3779b1 | 0;
/** The smallest table: 2^10 slots. */
const MIN_BITS = 10;
