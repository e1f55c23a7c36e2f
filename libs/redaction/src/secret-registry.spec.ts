import { fingerprintOf, FINGERPRINT_PATTERN } from './fingerprint';
import { PrefixIndex } from './prefix-index';
import { SecretRegistry, SecretRegistryOptions } from './secret-registry';

const KEY = Buffer.alloc(32, 5);
/**
 * Over the JSON form: HMAC over UTF-8 gives two strings differing only in lone surrogates (same UTF-8
 * bytes) the same fingerprint, which would hide which of them the byte search picks.
 */
const fp = (secret: string): string => fingerprintOf(KEY, JSON.stringify(secret));

/**
 * The reference: the registry as it was before the prefix index — one global RegExp of the fingerprint
 * pattern then every variant longest first, and a `Buffer.indexOf` per variant for bytes. The registry
 * must give exactly its results.
 */
class RegexRegistry {
  private readonly entries = new Map<string, { fingerprint: string; variants: string[] }>();
  private readonly byVariant = new Map<string, string>();
  private readonly maxSecrets: number;
  private readonly minLength: number;

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
    while (this.entries.size > this.maxSecrets) {
      const oldest = this.entries.keys().next().value as string;
      const entry = this.entries.get(oldest) as { fingerprint: string; variants: string[] };
      this.entries.delete(oldest);
      for (const v of entry.variants) if (this.byVariant.get(v) === entry.fingerprint) this.byVariant.delete(v);
    }
    return fingerprint;
  }

  replaceIn(text: string): string {
    if (this.entries.size === 0 || text.length < this.minLength) return text;
    const variants = [...this.byVariant.keys()].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    return text.replace(new RegExp(`${FINGERPRINT_PATTERN}|${variants.join('|')}`, 'g'), (match) => this.byVariant.get(match) ?? match);
  }

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
      if (hit.at < last) continue;
      parts.push(data.subarray(last, hit.at), Buffer.from(hit.fingerprint, 'utf8'));
      last = hit.at + hit.length;
    }
    parts.push(data.subarray(last));
    return Buffer.concat(parts);
  }
}

function safeEncodeUri(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A seeded generator (mulberry32): a failing case is reproduced by its seed. */
function prng(seed: number): { int(n: number): number; pick<T>(xs: readonly T[]): T; chance(p: number): boolean } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)] as (typeof xs)[number], chance: (p) => next() < p };
}

/**
 * Small alphabets, so that secrets overlap, contain one another and occur inside fingerprints: characters
 * that URL-encoding and JSON-escaping change, a surrogate pair and its lone halves, fingerprint brackets.
 */
const ALPHABETS: readonly (readonly string[])[] = [
  ['a', 'b', 'c'],
  ['a', 'b', '+', '%', '/', '=', '&', ' '],
  ['0', '1', 'a', 'f', 'e', 'd'],
  ['a', '"', '\\', '\n', '\u0001', 'é', '€'],
  ['a', '😀', '\ud83d', '\ude00', 'b'],
  ['[', ']', 'r', 'e', 'd', 'a', 'c', 't', ':', '0', 'f'],
  ['x', 'y', 'z', '-', '_', '.', '~', '*'],
];

const variantsOf = (s: string): string[] => [s, safeEncodeUri(s), JSON.stringify(s).slice(1, -1)];

describe('SecretRegistry against the RegExp reference', () => {
  it('given random secrets, texts and bytes (overlaps, prefixes, fingerprints, escaped forms, surrogates, eviction), then every result is the reference’s', () => {
    let compared = 0;
    let replaced = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const rnd = prng(seed);
      const alphabet = rnd.pick(ALPHABETS);
      const options = { maxSecrets: 1 + rnd.int(12), minLength: rnd.pick([1, 2, 3, 4, 6, 7, 8, 10]) };
      const registry = new SecretRegistry(fp, options);
      const reference = new RegexRegistry(fp, options);
      const word = (min: number, max: number): string => Array.from({ length: min + rnd.int(max - min + 1) }, () => rnd.pick(alphabet)).join('');
      const pool: string[] = [];
      const fingerprints: string[] = [];
      for (let step = 0; step < 30; step++) {
        // Learn: a new secret, one extending or cut from a known one, a known one again (LRU touch), or a fingerprint itself.
        const base = pool.length > 0 ? rnd.pick(pool) : word(1, 6);
        const secret = rnd.pick([
          () => word(1, 10),
          () => base + word(1, 3),
          () => base.slice(0, Math.max(1, base.length - 1 - rnd.int(3))),
          () => base.slice(1 + rnd.int(2)) || word(2, 4),
          () => base,
          // Its twin in UTF-8: lone surrogates all become the same replacement character's bytes.
          () => base.replace(/[\ud800-\udfff]/g, (c) => (c === '\ud83d' ? '\ude00' : '\ud83d')),
          () => (fingerprints.length > 0 ? rnd.pick(fingerprints) : fp(word(3, 5))),
        ])();
        pool.push(secret);
        const f = registry.remember(secret);
        expect(f).toBe(reference.remember(secret));
        fingerprints.push(f);
        expect(registry.size).toBe(reference.size);
        // A text made of known (and forgotten) secrets in all their forms, their pieces, fingerprints and noise.
        for (let t = 0; t < 4; t++) {
          const chunks: string[] = [];
          for (let c = 0, n = rnd.int(9); c < n; c++) {
            const s = rnd.pick(pool);
            chunks.push(
              rnd.pick([
                () => rnd.pick(variantsOf(s)),
                () => rnd.pick(variantsOf(s)).slice(rnd.int(3)),
                () => rnd.pick(variantsOf(s)).slice(0, -1 - rnd.int(2)),
                () => word(0, 5),
                () => rnd.pick(fingerprints),
                () => `[redacted:${word(16, 16)}]`,
                () => `[redacted:${rnd.pick(fingerprints).slice(10, 10 + rnd.int(10))}${s}`,
              ])(),
            );
          }
          const text = chunks.join('');
          const out = registry.replaceIn(text);
          const expected = reference.replaceIn(text);
          if (out !== expected) expect({ seed, step, text, out }).toEqual({ seed, step, text, out: expected }); // names the failing case
          const bytes = rnd.chance(0.2)
            ? Buffer.concat([Buffer.from([0xff, rnd.int(256)]), Buffer.from(text, 'utf8'), Buffer.from([0xed, 0xa0])])
            : Buffer.from(text, rnd.chance(0.2) ? 'latin1' : 'utf8');
          const outBytes = registry.replaceInBytes(bytes);
          const expectedBytes = reference.replaceInBytes(bytes);
          if (!outBytes.equals(expectedBytes)) expect({ seed, step, text, bytes: outBytes.toString('hex') }).toEqual({ seed, step, text, bytes: expectedBytes.toString('hex') });
          // A new Buffer only if something was replaced.
          if (expectedBytes === bytes) expect(outBytes).toBe(bytes);
          compared++;
          if (out !== text) replaced++;
        }
      }
    }
    // The generator must exercise replacements, not only texts without secrets.
    expect(compared).toBe(400 * 30 * 4);
    expect(replaced).toBeGreaterThan(compared / 4);
  });

  it('given a text holding no secret, then the same string and the same Buffer come back', () => {
    const registry = new SecretRegistry(fp);
    registry.remember('tok-1234567890');
    const text = 'nothing to see here, not even tok-123456789';
    expect(registry.replaceIn(text)).toBe(text);
    const bytes = Buffer.from(text);
    expect(registry.replaceInBytes(bytes)).toBe(bytes);
  });
});

describe('SecretRegistry examples', () => {
  it('given a secret inside, overlapping and adjacent to fingerprints, then fingerprints stay whole and the rest is replaced', () => {
    const registry = new SecretRegistry(fp, { minLength: 4 });
    registry.remember('0123abcd');
    const f = fp('0123abcd');
    expect(registry.replaceIn('[redacted:0123abcd0123abcd]0123abcd')).toBe(`[redacted:0123abcd0123abcd]${f}`);
    expect(registry.replaceIn('0123abcd[redacted:0123abcd0123abcd]')).toBe(`${f}[redacted:0123abcd0123abcd]`);
    // Not a fingerprint (15 hex digits): the secret inside is found.
    expect(registry.replaceIn('[redacted:0123abcd0123abc]')).toBe(`[redacted:${f}0123abc]`);
    expect(registry.replaceIn(f)).toBe(f);
  });

  it('given a remembered value that is itself a fingerprint, then it is replaced by its own fingerprint (as the RegExp replacer did)', () => {
    const registry = new SecretRegistry(fp);
    const inner = fp('inner-secret');
    registry.remember(inner);
    expect(registry.replaceIn(`a ${inner} b`)).toBe(`a ${fp(inner)} b`);
  });

  it('given secrets that are prefixes of one another, then at each position the longest wins and the search resumes after it', () => {
    const registry = new SecretRegistry(fp, { minLength: 3 });
    for (const s of ['abc', 'abcabc', 'bca', 'cab']) registry.remember(s);
    expect(registry.replaceIn('abcabcab')).toBe(`${fp('abcabc')}ab`);
    expect(registry.replaceIn('xabcab')).toBe(`x${fp('abc')}ab`);
    expect(registry.replaceIn('bcabcab')).toBe(`${fp('bca')}${fp('bca')}b`);
  });

  it('given a secret with a surrogate pair, then its raw, percent-encoded and JSON-escaped forms are replaced in text and bytes', () => {
    const registry = new SecretRegistry(fp);
    const secret = 'key-😀-"quoted"';
    registry.remember(secret);
    const f = fp(secret);
    expect(registry.replaceIn(`${secret}|${encodeURIComponent(secret)}|${JSON.stringify(secret)}`)).toBe(`${f}|${f}|"${f}"`);
    expect(registry.replaceInBytes(Buffer.from(`<${secret}>`))).toEqual(Buffer.from(`<${f}>`));
  });

  it('given text whose code units share their low bytes with a secret’s (the scan hashes low bytes), then only true occurrences are replaced', () => {
    const registry = new SecretRegistry(fp);
    registry.remember('AbCdEfGh-Ł€');
    const f = fp('AbCdEfGh-Ł€');
    // Ł is U+0141, its low byte is A's (0x41); ţ (U+0163) and c (0x63); € (U+20AC) and ¬ (U+00AC): the same grams, no match.
    const twins = ['ŁbCdEfGh-Ł€', 'AbţdEfGh-Ł€', 'AbCdEfGh-A€', 'AbCdEfGh-Ł¬'];
    for (const t of twins) expect(registry.replaceIn(`<${t}>`)).toBe(`<${t}>`);
    expect(registry.replaceIn(`${twins.join('')}AbCdEfGh-Ł€ŁAbCdEfGh-Ł€`)).toBe(`${twins.join('')}${f}Ł${f}`);
    // A text longer than the scan's scratch buffer (1 MiB), and one with the secret at its very end.
    const long = `${'Ł'.repeat(1024 * 1024 + 3)}AbCdEfGh-Ł€`;
    expect(registry.replaceIn(long)).toBe(`${'Ł'.repeat(1024 * 1024 + 3)}${f}`);
    expect(registry.replaceIn(`x${long}`)).toBe(`x${'Ł'.repeat(1024 * 1024 + 3)}${f}`);
  });

  it('given two secrets whose UTF-8 bytes are the same (lone surrogates), then bytes get the first-learnt one’s fingerprint', () => {
    const registry = new SecretRegistry(fp, { minLength: 4 });
    registry.remember('ab\ud83dcd');
    registry.remember('ab\ude00cd');
    expect(registry.replaceInBytes(Buffer.from('xab\ude00cdx')).toString()).toBe(`x${fp('ab\ud83dcd')}x`);
    expect(registry.replaceIn('xab\ude00cdx')).toBe(`x${fp('ab\ude00cd')}x`);
  });

  it('given more secrets than the bound, then a forgotten secret is no longer replaced and a new one is', () => {
    const registry = new SecretRegistry(fp, { maxSecrets: 2 });
    registry.remember('secret-aaaa');
    registry.replaceInBytes(Buffer.from('builds the byte index'));
    registry.remember('secret-bbbb');
    registry.remember('secret-cccc');
    expect(registry.has('secret-aaaa')).toBe(false);
    expect(registry.replaceIn('secret-aaaa secret-bbbb secret-cccc')).toBe(`secret-aaaa ${fp('secret-bbbb')} ${fp('secret-cccc')}`);
    expect(registry.replaceInBytes(Buffer.from('secret-aaaa secret-cccc')).toString()).toBe(`secret-aaaa ${fp('secret-cccc')}`);
  });

  it('given thousands of secrets, then each is still found among them, and forgetting them all leaves none', () => {
    const registry = new SecretRegistry(fp, { maxSecrets: 5000 });
    const secrets = Array.from({ length: 5000 }, (_, i) => `tok_${(i * 7919).toString(36)}_${i}_x`);
    for (const s of secrets) registry.remember(s);
    for (const i of [0, 1, 777, 4095, 4999]) expect(registry.replaceIn(`x ${secrets[i]} y`)).toBe(`x ${fp(secrets[i] as string)} y`);
    for (let i = 0; i < 5000; i++) registry.remember(`other-secret-${i}`);
    expect(registry.replaceIn(`x ${secrets[4999]} y`)).toBe(`x ${secrets[4999]} y`);
  });
});

describe('PrefixIndex', () => {
  const matches = (index: PrefixIndex, text: string): [number, string][] => {
    const out: [number, string][] = [];
    index.scan(text, (at, s) => out.push([at, s]));
    return out;
  };

  it('given strings added, grown past its table and removed, then a scan reports exactly the held strings, leftmost then longest', () => {
    const index = new PrefixIndex(3);
    const held = Array.from({ length: 3000 }, (_, i) => `s${i.toString(36).padStart(3, '0')}`);
    for (const s of held) index.add(s);
    index.add('s001');
    index.add('s001-long');
    expect(index.size).toBe(3001);
    expect(matches(index, 'xs001-long s001 s00')).toEqual([
      [1, 's001-long'],
      [11, 's001'],
    ]);
    for (const s of held) index.delete(s);
    index.delete('never-added');
    expect(index.size).toBe(1);
    expect(matches(index, 's001 s001-long')).toEqual([[5, 's001-long']]);
  });

  it('given a string shorter than its width or a width under 1, then it refuses', () => {
    expect(() => new PrefixIndex(4).add('abc')).toThrow(/shorter than the index width/);
    expect(() => new PrefixIndex(0)).toThrow(/width of at least 1/);
  });
});
