/**
 * Which values are secrets, as data: JSON keys, `parent.key` paths, URL query parameters and headers (all
 * matched case-insensitively). Each platform module lists its own; the common list holds the credentials any
 * HTTP client may send. The recorder's redactor uses the union of all of them by default.
 *
 * A key names a credential where it holds one: a string or number, or an object or array of them. The same
 * key holding a JSON Schema definition (`"password":{"type":"string","description":"…"}`), or anywhere in an
 * OpenAPI / JSON Schema document, is documentation and is kept (libs/redaction, `documentation.ts`); so a
 * platform lists the names its authentication exchanges use, without having to spare its own API docs.
 */
export interface RedactionRules {
  /** JSON keys whose value is a secret. */
  keys: readonly string[];
  /** `parent.key` pairs: the value of `key` inside an object held by `parent` (SpaceMolt: `{"session":{"id":…}}`). */
  paths: readonly string[];
  /** Query parameters whose value is a credential. */
  queryParams: readonly string[];
  /** Headers whose whole value is a credential (`authorization` keeps its scheme, cookies their names). */
  headers: readonly string[];
}

/** Credentials of no platform in particular: bearer and OAuth tokens, passwords, API keys, cookies, signatures. */
export const COMMON_REDACTION: RedactionRules = {
  keys: ['token', 'access_token', 'refresh_token', 'idToken', 'id_token', 'password', 'passphrase', 'secret', 'client_secret', 'apiKey', 'api_key', 'authorization', 'proxy-authorization'],
  paths: [],
  queryParams: ['token', 'access_token', 'apiKey', 'api_key', 'key', 'password', 'secret', 'signature', 'sig'],
  headers: ['authorization', 'proxy-authorization', 'x-api-key', 'x-auth-token', 'cookie', 'set-cookie'],
};

/** The union of rule sets, each name once (first spelling kept), in order. */
export function unionOfRules(rules: readonly RedactionRules[]): RedactionRules {
  const merge = (pick: (r: RedactionRules) => readonly string[]): string[] => {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const name of rules.flatMap(pick)) {
      if (seen.has(name.toLowerCase())) continue;
      seen.add(name.toLowerCase());
      out.push(name);
    }
    return out;
  };
  return { keys: merge((r) => r.keys), paths: merge((r) => r.paths), queryParams: merge((r) => r.queryParams), headers: merge((r) => r.headers) };
}
