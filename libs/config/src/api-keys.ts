/** What an API key may do: read recorded data, watch replays, operate (retry jobs, re-audit, rebuild). */
export const SCOPES = ['read', 'replay', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const SCOPE_SUFFIX = /^(.+):((?:read|replay|admin)(?:\+(?:read|replay|admin))*)$/;

export interface ApiKeyEntry {
  key: string;
  scopes: Scope[];
}

/**
 * An entry of REWIND_API_KEYS: `<key>` (every scope) or `<key>:<scope>[+<scope>…]`, e.g.
 * `k3y…:read+replay`. The suffix is only taken as scopes when it names scopes, so a key may contain ':'.
 */
export function parseApiKeyEntry(entry: string): ApiKeyEntry {
  const m = SCOPE_SUFFIX.exec(entry);
  if (!m) return { key: entry, scopes: [...SCOPES] };
  return { key: m[1] as string, scopes: [...new Set((m[2] as string).split('+') as Scope[])] };
}
