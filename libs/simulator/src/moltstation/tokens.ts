/** Single-use, expiring play/spectate tokens (reference §4.1, §4.7). */
import type { Rng } from '../core/rng';
import { CLOSE, CloseSpec, Role, Slug } from './protocol';

export interface TokenRecord {
  kind: Role;
  slug: Slug;
  sessionId: string;
  expiresAt: number;
  used: boolean;
}

export class TokenStore {
  private readonly tokens = new Map<string, TokenRecord>();
  constructor(
    private readonly rng: Rng,
    private readonly now: () => number,
  ) {}

  issue(kind: Role, slug: Slug, sessionId: string, ttlMs: number, opts: { expired?: boolean; used?: boolean } = {}): string {
    let token = '';
    for (let i = 0; i < 4; i++)
      token += Math.floor(this.rng.next() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    token = `${kind === 'play' ? 'pt' : 'st'}_${token}`;
    this.tokens.set(token, { kind, slug, sessionId, expiresAt: opts.expired ? this.now() - 1 : this.now() + ttlMs, used: opts.used ?? false });
    return token;
  }

  /** Checks and (on success) consumes a token for `role` on `slug`/`sessionId`; returns the close to send on failure. */
  consume(token: string, role: Role, slug: Slug, sessionId: string | null): { ok: true; record: TokenRecord } | { ok: false; close: CloseSpec } {
    const rec = this.tokens.get(token);
    if (!rec) return { ok: false, close: CLOSE.TOKEN_NOT_FOUND };
    if (rec.used) return { ok: false, close: CLOSE.TOKEN_REPLAYED };
    if (this.now() >= rec.expiresAt) return { ok: false, close: CLOSE.TOKEN_EXPIRED };
    if (rec.kind !== role || rec.slug !== slug || rec.sessionId !== sessionId) return { ok: false, close: CLOSE.INVALID_TOKEN };
    rec.used = true;
    return { ok: true, record: rec };
  }
}
