/**
 * A persistent string-keyed map: every write returns a new map and leaves the old one as it was, sharing
 * every bucket it did not touch. The lifecycle state is folded once per captured message on the proxy's
 * forwarding path, with thousands of streams and connections open: copying a whole `Map` per event would
 * cost O(open streams) per message; this costs O(open streams / 64).
 */
export class PMap<V> {
  private static readonly BUCKETS = 64;

  private constructor(
    private readonly buckets: readonly (ReadonlyMap<string, V> | undefined)[],
    readonly size: number,
  ) {}

  static empty<V>(): PMap<V> {
    return new PMap<V>(new Array<undefined>(PMap.BUCKETS).fill(undefined), 0);
  }

  static of<V>(entries: Iterable<readonly [string, V]>): PMap<V> {
    let m = PMap.empty<V>();
    for (const [k, v] of entries) m = m.set(k, v);
    return m;
  }

  get(key: string): V | undefined {
    return this.buckets[bucketOf(key)]?.get(key);
  }

  has(key: string): boolean {
    return this.buckets[bucketOf(key)]?.has(key) ?? false;
  }

  set(key: string, value: V): PMap<V> {
    const b = bucketOf(key);
    const bucket = new Map(this.buckets[b] ?? []);
    const had = bucket.has(key);
    bucket.set(key, value);
    const buckets = this.buckets.slice();
    buckets[b] = bucket;
    return new PMap(buckets, this.size + (had ? 0 : 1));
  }

  delete(key: string): PMap<V> {
    const b = bucketOf(key);
    if (!this.buckets[b]?.has(key)) return this;
    const bucket = new Map(this.buckets[b]);
    bucket.delete(key);
    const buckets = this.buckets.slice();
    buckets[b] = bucket.size > 0 ? bucket : undefined;
    return new PMap(buckets, this.size - 1);
  }

  *entries(): IterableIterator<[string, V]> {
    for (const bucket of this.buckets) if (bucket) yield* bucket.entries();
  }

  *values(): IterableIterator<V> {
    for (const bucket of this.buckets) if (bucket) yield* bucket.values();
  }
}

/** FNV-1a over the UTF-16 units, folded onto the buckets. */
function bucketOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 63;
}

/**
 * A bounded memory of the newest entries (recently closed sockets, finished exchanges, sealed runs): two
 * generations of at most `max / 2` each; when the young one fills up it becomes the old one and the oldest
 * generation is forgotten. Persistent like `PMap`.
 */
export interface Memory<V> {
  readonly young: PMap<V>;
  readonly old: PMap<V>;
  readonly max: number;
}

export function memory<V>(max: number): Memory<V> {
  return { young: PMap.empty(), old: PMap.empty(), max };
}

export function recall<V>(m: Memory<V>, key: string): V | undefined {
  return m.young.get(key) ?? m.old.get(key);
}

export function remember<V>(m: Memory<V>, key: string, value: V): Memory<V> {
  const young = m.young.set(key, value);
  if (young.size < Math.max(1, Math.floor(m.max / 2))) return { ...m, young };
  return { young: PMap.empty(), old: young, max: m.max };
}
