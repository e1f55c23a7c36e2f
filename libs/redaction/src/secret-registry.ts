import { FINGERPRINT_PATTERN } from './fingerprint';

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

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Secrets seen once (a token in a response body, a bearer header, a credential query parameter),
 * remembered so that any later occurrence anywhere is replaced by the same fingerprint. Bounded (LRU).
 */
export class SecretRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly byVariant = new Map<string, string>();
  private readonly maxSecrets: number;
  readonly minLength: number;
  private pattern: RegExp | null = null;
  private dirty = false;

  constructor(
    private readonly fingerprint: (secret: string) => string,
    options: SecretRegistryOptions = {},
  ) {
    this.maxSecrets = Math.max(1, options.maxSecrets ?? 4096);
    this.minLength = Math.max(1, options.minLength ?? 8);
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
    for (const v of variants) this.byVariant.set(v, fingerprint);
    while (this.entries.size > this.maxSecrets) this.evictOldest();
    this.dirty = true;
    return fingerprint;
  }

  /** Replaces every known secret in the text; existing fingerprints are left alone. */
  replaceIn(text: string): string {
    if (this.entries.size === 0 || text.length < this.minLength) return text;
    const pattern = this.regex();
    pattern.lastIndex = 0;
    return text.replace(pattern, (match) => this.byVariant.get(match) ?? match);
  }

  /** Replaces the UTF-8 bytes of every known secret in binary data (a new Buffer only if one occurs). */
  replaceInBytes(data: Buffer): Buffer {
    if (this.entries.size === 0 || data.length < this.minLength) return data;
    const hits: { at: number; length: number; fingerprint: string }[] = [];
    for (const [variant, fingerprint] of this.byVariant) {
      const needle = Buffer.from(variant, 'utf8');
      for (let at = data.indexOf(needle); at >= 0; at = data.indexOf(needle, at + 1)) hits.push({ at, length: needle.length, fingerprint });
    }
    if (hits.length === 0) return data;
    hits.sort((a, b) => a.at - b.at || b.length - a.length);
    const parts: Buffer[] = [];
    let last = 0;
    for (const hit of hits) {
      if (hit.at < last) continue; // overlaps a longer or earlier match already replaced
      parts.push(data.subarray(last, hit.at), Buffer.from(hit.fingerprint, 'utf8'));
      last = hit.at + hit.length;
    }
    parts.push(data.subarray(last));
    return Buffer.concat(parts);
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (oldest.done) return;
    const entry = this.entries.get(oldest.value) as Entry;
    this.entries.delete(oldest.value);
    for (const v of entry.variants) if (this.byVariant.get(v) === entry.fingerprint) this.byVariant.delete(v);
    this.dirty = true;
  }

  private regex(): RegExp {
    if (!this.pattern || this.dirty) {
      const variants = [...this.byVariant.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
      // Fingerprints come first: they are consumed whole, so no secret is "found" inside one.
      this.pattern = new RegExp(`${FINGERPRINT_PATTERN}|${variants.join('|')}`, 'g');
      this.dirty = false;
    }
    return this.pattern;
  }
}

function safeEncodeUri(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s; // lone surrogates
  }
}
