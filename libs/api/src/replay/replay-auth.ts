import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { ApiKeys } from '../auth/api-keys';

export const REPLAY_TOKEN_INFO = 'rewind replay token v1';

export type ReplayAuthResult = { ok: true; via: 'api-key' | 'replay-token' } | { ok: false; reason: string };

/**
 * Who may watch a replay: a holder of an API key with the `replay` scope (compared by SHA-256 digest in
 * constant time; keys are never logged or stored), or of a replay token minted for that one session: `rt1.<payload>.<hmac>`,
 * payload = base64url JSON `{sid, exp}` (exp: ms since the epoch), HMAC-SHA256 with a key derived (HKDF) from
 * the installation's secret.
 */
export class ReplayAuth {
  private readonly keys: ApiKeys;
  private readonly tokenKey: Buffer;

  /** `apiKeys`: REWIND_API_KEYS entries (`<key>` or `<key>:<scopes>`); a key watches replays with the `replay` scope. */
  constructor(
    apiKeys: readonly string[] | ApiKeys,
    secret: Buffer,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = apiKeys instanceof ApiKeys ? apiKeys : new ApiKeys(apiKeys);
    this.tokenKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), REPLAY_TOKEN_INFO, 32));
  }

  mint(sessionId: string, ttlMs: number): { token: string; expiresAt: string } {
    const exp = this.now() + ttlMs;
    const payload = Buffer.from(JSON.stringify({ sid: sessionId, exp })).toString('base64url');
    return { token: `rt1.${payload}.${this.sign(payload)}`, expiresAt: new Date(exp).toISOString() };
  }

  /** Checks an API key or a replay token for `sessionId` (the platform-compatible endpoints pass the recorded session's id). */
  check(sessionId: string, credential: { apiKey?: string; token?: string }): ReplayAuthResult {
    if (credential.apiKey !== undefined) {
      const k = this.keys.check(credential.apiKey, 'replay');
      if (k.ok) return { ok: true, via: 'api-key' };
      // A key alone that does not do is refused with its reason; with a token too, the token decides.
      if (credential.token === undefined) return { ok: false, reason: k.reason };
    }
    const token = credential.token;
    if (!token) return { ok: false, reason: 'an API key or a replay token is required' };
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== 'rt1') return { ok: false, reason: 'not a replay token' };
    const [, payload, sig] = parts as [string, string, string];
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'replay token signature is invalid' };
    let claims: { sid?: unknown; exp?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sid?: unknown; exp?: unknown };
    } catch {
      return { ok: false, reason: 'replay token is malformed' };
    }
    if (!claims || typeof claims !== 'object' || Array.isArray(claims)) return { ok: false, reason: 'replay token is malformed' };
    if (claims.sid !== sessionId) return { ok: false, reason: 'replay token is for another session' };
    if (typeof claims.exp !== 'number' || claims.exp < this.now()) return { ok: false, reason: 'replay token has expired' };
    return { ok: true, via: 'replay-token' };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.tokenKey).update(payload).digest('base64url');
  }
}
