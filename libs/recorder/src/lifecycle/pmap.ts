/**
 * A persistent string-keyed map: every write returns a new map and leaves the old one as it was, sharing
 * every bucket it did not touch. The lifecycle state is folded once per captured message on the proxy's
 * forwarding path, with thousands of streams and connections open: copying a whole `Map` per event would
 * cost O(open streams) per message; this copies 64 slots and one bucket (O(open streams / 1024)).
 */
export class PMap<V> {
  private constructor(
    /** 32 nodes of 32 buckets: a write copies one 32-slot root, one 32-slot node and one bucket. */
    private readonly root: readonly (readonly (ReadonlyMap<string, V> | undefined)[] | undefined)[],
    readonly size: number,
  ) {}

  static empty<V>(): PMap<V> {
    return new PMap<V>(new Array<undefined>(32).fill(undefined), 0);
  }

  static of<V>(entries: Iterable<readonly [string, V]>): PMap<V> {
    let m = PMap.empty<V>();
    for (const [k, v] of entries) m = m.set(k, v);
    return m;
  }

  get(key: string): V | undefined {
    const h = hashOf(key);
    return this.root[h >>> 5]?.[h & 31]?.get(key);
  }

  has(key: string): boolean {
    const h = hashOf(key);
    return this.root[h >>> 5]?.[h & 31]?.has(key) ?? false;
  }

  set(key: string, value: V): PMap<V> {
    const h = hashOf(key);
    const node = this.root[h >>> 5];
    const old = node?.[h & 31];
    const bucket = new Map(old ?? []);
    const had = bucket.has(key);
    bucket.set(key, value);
    return new PMap(this.with(h, bucket), this.size + (had ? 0 : 1));
  }

  delete(key: string): PMap<V> {
    const h = hashOf(key);
    const old = this.root[h >>> 5]?.[h & 31];
    if (!old?.has(key)) return this;
    const bucket = new Map(old);
    bucket.delete(key);
    return new PMap(this.with(h, bucket.size > 0 ? bucket : undefined), this.size - 1);
  }

  *entries(): IterableIterator<[string, V]> {
    for (const node of this.root) if (node) for (const bucket of node) if (bucket) yield* bucket.entries();
  }

  *values(): IterableIterator<V> {
    for (const node of this.root) if (node) for (const bucket of node) if (bucket) yield* bucket.values();
  }

  private with(h: number, bucket: ReadonlyMap<string, V> | undefined): (readonly (ReadonlyMap<string, V> | undefined)[] | undefined)[] {
    const node = (this.root[h >>> 5] ?? new Array<undefined>(32).fill(undefined)).slice();
    node[h & 31] = bucket;
    const root = this.root.slice();
    root[h >>> 5] = node;
    return root;
  }
}

/** FNV-1a over the UTF-16 units, folded onto the 1024 buckets. */
function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h ^ (h >>> 10) ^ (h >>> 20)) & 1023;
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
