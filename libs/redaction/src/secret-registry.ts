import { FINGERPRINT_PREFIX, fingerprintLengthAt } from './fingerprint';
import { PrefixIndex, SkipRule } from './prefix-index';

export interface SecretRegistryOptions {
  /** Most secrets remembered; the least recently seen is forgotten first (default 4096). */
  maxSecrets?: number;
  /** Shorter values are never remembered: they would match too much unrelated text (default 8). */
  minLength?: number;
}

interface Entry {
  fingerprint: string;
  /** The forms in which the secret is searched: as is, URL-encoded, JSON-escaped. */
  variants: string[];
}

/** Fingerprints already in a text are kept whole: no secret is "found" inside one, and redacting twice is a no-op. */
const FINGERPRINTS: SkipRule = { prefix: FINGERPRINT_PREFIX, length: fingerprintLengthAt };

/**
 * Secrets seen once (a token in a response body, a bearer header, a credential query parameter),
 * remembered so that any later occurrence anywhere is replaced by the same fingerprint. Bounded (LRU).
 *
 * Searching costs per character of the text, not per remembered secret: every variant is indexed by
 * hashes of short grams within its first `minLength` code units, sampled at a stride (`PrefixIndex`);
 * learning and forgetting a secret update that index in place. The result is exactly a global RegExp of the fingerprint pattern then every variant
 * longest first: at each position a fingerprint is kept whole, else the longest variant starting there is
 * replaced, else the search moves on one character (the spec checks this against such a RegExp).
 */
export class SecretRegistry {
  private readonly entries = new Map<string, Entry>();
  /** Every searched variant and the fingerprint it becomes (a variant shared by two secrets: the later one's). */
  private readonly byVariant = new Map<string, string>();
  private readonly maxSecrets: number;
  readonly minLength: number;
  /** The keys of `byVariant`. */
  private readonly textIndex: PrefixIndex;
  /**
   * The UTF-8 bytes of the variants as latin1 strings (one code unit per byte), built on the first binary
   * frame: each byte string lists its variants in `byVariant`'s order (two variants with lone surrogates
   * can share bytes; the first one's fingerprint is used, as a search variant by variant would).
   */
  private bytes: { index: PrefixIndex; owners: Map<string, string[]> } | null = null;

  constructor(
    private readonly fingerprint: (secret: string) => string,
    options: SecretRegistryOptions = {},
  ) {
    this.maxSecrets = Math.max(1, options.maxSecrets ?? 4096);
    this.minLength = Math.max(1, options.minLength ?? 8);
    this.textIndex = new PrefixIndex(this.minLength);
  }

  get size(): number {
    return this.entries.size;
  }

  has(secret: string): boolean {
    return this.entries.has(secret);
  }

  /** Remembers a secret (if long enough) and returns its fingerprint either way. */
  remember(secret: string): string {
    const known = this.entries.get(secret);
    if (known) {
      this.entries.delete(secret);
      this.entries.set(secret, known);
      return known.fingerprint;
    }
    const fingerprint = this.fingerprint(secret);
    if (secret.length < this.minLength) return fingerprint;
    const variants = [...new Set([secret, safeEncodeUri(secret), JSON.stringify(secret).slice(1, -1)])];
    this.entries.set(secret, { fingerprint, variants });
    for (const v of variants) {
      if (!this.byVariant.has(v)) this.indexVariant(v);
      this.byVariant.set(v, fingerprint);
    }
    while (this.entries.size > this.maxSecrets) this.evictOldest();
    return fingerprint;
  }

  /** Replaces every known secret in the text; existing fingerprints are left alone. */
  replaceIn(text: string): string {
    if (this.entries.size === 0 || text.length < this.minLength) return text;
    let out = '';
    let last = 0;
    this.textIndex.scan(
      text,
      (at, variant) => {
        out += text.slice(last, at) + (this.byVariant.get(variant) as string);
        last = at + variant.length;
      },
      FINGERPRINTS,
    );
    return last === 0 ? text : out + text.slice(last);
  }

  /** Replaces the UTF-8 bytes of every known secret in binary data (a new Buffer only if one occurs). */
  replaceInBytes(data: Buffer): Buffer {
    if (this.entries.size === 0 || data.length < this.minLength) return data;
    const bytes = this.bytes ?? this.indexBytes();
    const parts: Buffer[] = [];
    let last = 0;
    bytes.index.scan(data.toString('latin1'), (at, key) => {
      const fingerprint = this.byVariant.get((bytes.owners.get(key) as string[])[0] as string) as string;
      parts.push(data.subarray(last, at), Buffer.from(fingerprint, 'utf8'));
      last = at + key.length;
    });
    if (parts.length === 0) return data;
    parts.push(data.subarray(last));
    return Buffer.concat(parts);
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (oldest.done) return;
    const entry = this.entries.get(oldest.value) as Entry;
    this.entries.delete(oldest.value);
    for (const v of entry.variants) {
      if (this.byVariant.get(v) !== entry.fingerprint) continue;
      this.byVariant.delete(v);
      this.unindexVariant(v);
    }
  }

  /** A variant new to `byVariant` (called before it is set there, so byte owners keep its order). */
  private indexVariant(v: string): void {
    this.textIndex.add(v);
    if (this.bytes) addByteOwner(this.bytes, v);
  }

  private unindexVariant(v: string): void {
    this.textIndex.delete(v);
    if (!this.bytes) return;
    const key = Buffer.from(v, 'utf8').toString('latin1');
    const owners = this.bytes.owners.get(key);
    if (!owners) return;
    const at = owners.indexOf(v);
    if (at >= 0) owners.splice(at, 1);
    if (owners.length === 0) {
      this.bytes.owners.delete(key);
      this.bytes.index.delete(key);
    }
  }

  private indexBytes(): { index: PrefixIndex; owners: Map<string, string[]> } {
    this.bytes = { index: new PrefixIndex(this.minLength), owners: new Map() };
    for (const v of this.byVariant.keys()) addByteOwner(this.bytes, v);
    return this.bytes;
  }
}

/** Indexes a variant's UTF-8 bytes (as latin1): the variants sharing those bytes are its owners, in learning order. */
function addByteOwner(bytes: { index: PrefixIndex; owners: Map<string, string[]> }, v: string): void {
  const key = Buffer.from(v, 'utf8').toString('latin1');
  const owners = bytes.owners.get(key);
  if (owners) owners.push(v);
  else {
    bytes.owners.set(key, [v]);
    bytes.index.add(key);
  }
}

function safeEncodeUri(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s; // lone surrogates
  }
}
