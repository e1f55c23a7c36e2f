import { fingerprintOf, isFingerprint } from './fingerprint';
import { HeaderPair, redactHeaderValue } from './headers';
import { JsonScanRules, redactJsonValues } from './json-scan';
import { DEFAULT_SENSITIVE_HEADERS, DEFAULT_SENSITIVE_KEYS, DEFAULT_SENSITIVE_PATHS, DEFAULT_SENSITIVE_QUERY_PARAMS, lowerSet, RedactorOptions } from './options';
import { SecretRegistry } from './secret-registry';
import { redactQueryValues } from './url';

export const MIN_REDACTION_KEY_BYTES = 32;

const AUTH_KEYS = new Set(['authorization', 'proxy-authorization']);
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Redacts secrets before anything is stored or logged: each secret becomes `[redacted:<keyed
 * fingerprint>]` (HMAC-SHA256 under this Redactor's key), so two tokens stay distinguishable in audits.
 * Every secret found by key, header or query parameter is remembered (`registry`), and any later
 * occurrence anywhere (URLs, other bodies, binary frames) gets the same fingerprint.
 *
 * Not thread-shared state: one Redactor per process (or per recorder), fed in capture order.
 */
export class Redactor {
  readonly registry: SecretRegistry;
  private readonly keys: Set<string>;
  private readonly paths: Set<string>;
  private readonly queryParams: Set<string>;
  private readonly headers: Set<string>;
  private readonly jsonRules: JsonScanRules;
  /** A quick test: can the text hold a sensitive key at all? */
  private readonly keyHint: RegExp;

  constructor(
    private readonly key: Buffer,
    options: RedactorOptions = {},
  ) {
    if (!Buffer.isBuffer(key) || key.length < MIN_REDACTION_KEY_BYTES) {
      throw new Error(`a redaction key must be a Buffer of at least ${MIN_REDACTION_KEY_BYTES} bytes`);
    }
    this.keys = lowerSet(options.keys ?? DEFAULT_SENSITIVE_KEYS);
    this.paths = lowerSet(options.paths ?? DEFAULT_SENSITIVE_PATHS);
    this.queryParams = lowerSet(options.queryParams ?? DEFAULT_SENSITIVE_QUERY_PARAMS);
    this.headers = lowerSet(options.headers ?? DEFAULT_SENSITIVE_HEADERS);
    const registryOptions: { maxSecrets?: number; minLength?: number } = {};
    if (options.maxKnownSecrets !== undefined) registryOptions.maxSecrets = options.maxKnownSecrets;
    if (options.minSecretLength !== undefined) registryOptions.minLength = options.minSecretLength;
    // Every sensitive situation needs a sensitive key (or a path's parent key) in quotes; a key disguised
    // with \u escapes is caught by always scanning text that holds one.
    const hintNames = [...this.keys, ...[...this.paths].map((p) => p.split('.')[0] as string)];
    this.keyHint = hintNames.length > 0 ? new RegExp(`"(?:${hintNames.map(escapeRegExp).join('|')})"|\\\\u`, 'i') : /\\u/;
    this.registry = new SecretRegistry((s) => fingerprintOf(this.key, s), registryOptions);
    this.jsonRules = {
      isSensitive: (k, parent) => {
        const lower = k.toLowerCase();
        return this.keys.has(lower) || (parent !== null && this.paths.has(`${parent.toLowerCase()}.${lower}`));
      },
      replaceString: (value, k) => (AUTH_KEYS.has(k.toLowerCase()) ? redactHeaderValue(k, value, this.secret) : this.secret(value)),
      replaceNumber: (raw) => `"${this.fingerprint(raw)}"`,
    };
  }

  /** `[redacted:<first 16 hex of HMAC-SHA256(key, secret)>]`. */
  fingerprint(secret: string | Buffer): string {
    return fingerprintOf(this.key, secret);
  }

  /** Remembers a secret learnt elsewhere (e.g. a token handed to the recorder) and returns its fingerprint. */
  remember(secret: string): string {
    return this.secret(secret);
  }

  /**
   * JSON / NDJSON (or any) text: the values of sensitive keys are replaced by their fingerprints, then
   * every known secret anywhere. All other characters are kept exactly.
   */
  redactText(text: string): string {
    const scanned = this.keyHint.test(text) ? redactJsonValues(text, this.jsonRules) : text;
    return this.registry.replaceIn(scanned);
  }

  /** A path and query: credential query parameters and known secrets anywhere are replaced. */
  redactUrl(pathAndQuery: string): string {
    const scanned = redactQueryValues(pathAndQuery, (name) => this.queryParams.has(name.toLowerCase()), this.secret);
    return this.registry.replaceIn(scanned);
  }

  /** Header pairs (order and names kept): credential headers fingerprinted, known secrets replaced in the rest. */
  redactHeaders(pairs: readonly HeaderPair[]): HeaderPair[] {
    // Credential headers first, so a secret repeated in another header of the same request is known.
    const values = pairs.map(([name, value]) => (this.headers.has(name.toLowerCase()) ? redactHeaderValue(name, value, this.secret) : null));
    return pairs.map(([name, value], i) => [name, values[i] ?? this.registry.replaceIn(value)]);
  }

  /** Binary data: the UTF-8 bytes of every known secret are replaced by the fingerprint's. */
  redactBinary(data: Buffer): Buffer {
    return this.registry.replaceInBytes(data);
  }

  /** A body as captured: text through `redactText`, bytes through `redactBinary`. */
  redactBody<T extends string | Buffer | null>(body: T): T {
    if (body === null) return body;
    return (typeof body === 'string' ? this.redactText(body) : this.redactBinary(body as Buffer)) as T;
  }

  /** Any value as a log-safe string (secrets replaced; binary data summarised, never dumped). */
  redactForLog(value: unknown): string {
    if (typeof value === 'string') return this.redactText(value);
    if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
    if (value instanceof Error) return `${value.name}: ${this.redactText(value.message)}`;
    if (value === undefined) return 'undefined';
    let text: string;
    try {
      text =
        JSON.stringify(value, (_k, v: unknown) => {
          if (typeof v === 'bigint') return v.toString();
          if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
            return `<${(v as { data: unknown[] }).data.length} bytes>`;
          }
          return v;
        }) ?? String(value);
    } catch {
      text = String(value);
    }
    return this.redactText(text);
  }

  /** Fingerprints (and remembers) one secret; an existing fingerprint is kept as is. */
  private readonly secret = (value: string): string => (isFingerprint(value) ? value : this.registry.remember(value));
}
