import { createHash, timingSafeEqual } from 'node:crypto';
import { parseApiKeyEntry, Scope } from '@rewind/config';

export { parseApiKeyEntry, SCOPES } from '@rewind/config';
export type { ApiKeyEntry, Scope } from '@rewind/config';

export type KeyCheck = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/**
 * The installation's API keys with their scopes. Only SHA-256 digests are kept; a candidate is compared
 * with every digest in constant time. Keys are never logged or stored.
 */
export class ApiKeys {
  private readonly entries: { digest: Buffer; scopes: Set<Scope> }[];

  constructor(entries: readonly string[]) {
    this.entries = entries.map(parseApiKeyEntry).map((e) => ({ digest: createHash('sha256').update(e.key).digest(), scopes: new Set(e.scopes) }));
  }

  /** The scopes of the key `candidate` is, or null when it is none of ours. */
  scopesOf(candidate: string | undefined): Set<Scope> | null {
    if (!candidate) return null;
    const d = createHash('sha256').update(candidate).digest();
    let found: Set<Scope> | null = null;
    for (const e of this.entries) if (timingSafeEqual(e.digest, d)) found = e.scopes;
    return found;
  }

  check(candidate: string | undefined, scope: Scope): KeyCheck {
    if (!candidate) return { ok: false, status: 401, reason: `an API key with the "${scope}" scope is required (Authorization: Bearer <key>)` };
    const scopes = this.scopesOf(candidate);
    if (!scopes) return { ok: false, status: 401, reason: 'the API key is not valid' };
    if (!scopes.has(scope)) return { ok: false, status: 403, reason: `this API key lacks the "${scope}" scope` };
    return { ok: true };
  }
}

/** The key a request carries: `Authorization: Bearer`, `X-API-Key`, or the viewer's `rewind_api_key` cookie. */
export function apiKeyOfHeaders(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers['authorization'];
  const bearer = typeof auth === 'string' ? /^Bearer\s+(\S+)$/i.exec(auth)?.[1] : undefined;
  if (bearer) return bearer;
  const x = headers['x-api-key'];
  if (typeof x === 'string' && x) return x;
  const cookie = headers['cookie'];
  if (typeof cookie === 'string') {
    for (const part of cookie.split(';')) {
      const [name, ...value] = part.trim().split('=');
      if (name === 'rewind_api_key' && value.length) return decodeURIComponent(value.join('='));
    }
  }
  return undefined;
}
