import { createHash } from 'node:crypto';
import type { Rng } from '../core/rng';
import { DiceBet, DiceOutcome, GameCode, MinesState, sha256Hex } from '@rewind/platforms';
import { RgsError } from './errors';

/** One server/client seed pair. The server seed is revealed (`revealed`) only when the pair is retired. */
export interface SeedPair {
  serverSeed: string;
  serverSeedHash: string;
  clientSeed: string;
  /** Nonce of the next round played with this pair. */
  nonce: number;
  /** What GET /game/round shows as serverSeed once retired (normally serverSeed; the forge-seed fault changes it). */
  revealed?: string;
}

export interface Round {
  id: string;
  seat: Seat;
  pair: SeedPair;
  clientSeed: string;
  nonce: number;
  amountCents: number;
  /** Set when settled. */
  payoutCents?: number;
  /** Payout multiplier (hundredths) when settled: 0 on a loss. */
  multiplierH?: number;
  createdAt: number;
  completedAt?: number;
  dice?: { bet: DiceBet; outcome: DiceOutcome };
  mines?: MinesState;
}

/** Player + game + currency: owns the seed pairs and the rounds (history survives re-launches). */
export interface Seat {
  key: string;
  playerId: string;
  game: GameCode;
  currency: string;
  pair: SeedPair;
  /** Pre-committed: becomes the active pair's server seed at the next rotation. */
  nextServerSeed: string;
  /** Wallet of player + currency (shared by the player's seats in that currency). */
  wallet: Wallet;
  rounds: Round[];
  /** Settled rounds in settlement order (history is this, newest first). */
  completed: Round[];
  active?: Round;
}

export interface Wallet {
  balanceCents: number;
}

export interface Session {
  id: string;
  seat: Seat;
  token: string;
  expiresAt: number;
  lobbyUrl?: string;
}

type TokenEntry = { session: Session; state: 'active' | 'refreshed' };

export interface StoreOptions {
  rng: Rng;
  now: () => number;
  sessionTtlMs: number;
}

/** In-memory sessions, tokens, wallets and seats. Every random value comes from forks of the platform rng. */
export class RgsStore {
  private readonly tokenRng: Rng;
  private readonly seedRng: Rng;
  private readonly idRng: Rng;
  private readonly wallets = new Map<string, Wallet>();
  private readonly seats = new Map<string, Seat>();
  private readonly sessions = new Map<string, Session>();
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly roundsById = new Map<string, Round>();

  constructor(private readonly opts: StoreOptions) {
    this.tokenRng = opts.rng.fork('tokens');
    this.seedRng = opts.rng.fork('seeds');
    this.idRng = opts.rng.fork('ids');
  }

  hex(rng: Rng, bytes: number): string {
    let s = '';
    for (let i = 0; i < bytes; i++) s += rng.int(0, 255).toString(16).padStart(2, '0');
    return s;
  }

  uuid(): string {
    const h = this.hex(this.idRng, 16);
    const v = ((parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${v}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  newServerSeed(): string {
    return this.hex(this.seedRng, 32);
  }

  /** Operator launch: returns the player's active session for this game + currency, or a new one. */
  launch(playerId: string, game: GameCode, currency: string, initialBalanceCents: number, lobbyUrl: string | undefined): { session: Session; reused: boolean } {
    const now = this.opts.now();
    const seatKey = `${playerId}\u0000${game.code}\u0000${currency}`;
    for (const s of this.sessions.values()) {
      if (s.seat.key === seatKey && s.expiresAt > now) {
        if (lobbyUrl !== undefined) s.lobbyUrl = lobbyUrl;
        return { session: s, reused: true };
      }
    }
    const walletKey = `${playerId}\u0000${currency}`;
    let wallet = this.wallets.get(walletKey);
    if (!wallet) this.wallets.set(walletKey, (wallet = { balanceCents: initialBalanceCents }));
    let seat = this.seats.get(seatKey);
    if (!seat) {
      const serverSeed = this.newServerSeed();
      seat = {
        key: seatKey,
        playerId,
        game,
        currency,
        pair: { serverSeed, serverSeedHash: sha256Hex(serverSeed), clientSeed: this.hex(this.seedRng, 8), nonce: 0 },
        nextServerSeed: this.newServerSeed(),
        wallet,
        rounds: [],
        completed: [],
      };
      this.seats.set(seatKey, seat);
    }
    const session: Session = { id: `rgs-${this.hex(this.idRng, 8)}`, seat, token: this.hex(this.tokenRng, 24), expiresAt: now + this.opts.sessionTtlMs, lobbyUrl };
    this.sessions.set(session.id, session);
    this.tokens.set(session.token, { session, state: 'active' });
    return { session, reused: false };
  }

  /** Resolves a bearer token. `forRefresh`: a token already rotated answers 409 instead of 401. */
  authenticate(token: string | undefined, forRefresh = false): Session {
    if (!token) throw new RgsError('missing_token', 'Authorization: Bearer <sessionToken> is required', { 'www-authenticate': 'Bearer' });
    const entry = this.tokens.get(token);
    if (!entry) throw new RgsError('invalid_token', 'unknown session token', { 'www-authenticate': 'Bearer error="invalid_token"' });
    const now = this.opts.now();
    if (entry.session.expiresAt <= now) throw new RgsError('session_expired', 'session expired; ask the operator for a new launch', { 'www-authenticate': 'Bearer error="invalid_token"' });
    if (entry.state === 'refreshed') {
      if (forRefresh) throw new RgsError('token_already_refreshed', 'this token was already refreshed; use the latest token');
      throw new RgsError('token_rotated', 'this token was replaced by /session/refresh; use the latest token', { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    return entry.session;
  }

  /** Sliding inactivity window: any authenticated call keeps the session alive for another TTL. */
  touch(session: Session): void {
    session.expiresAt = Math.max(session.expiresAt, this.opts.now() + this.opts.sessionTtlMs);
  }

  refresh(session: Session): Session {
    const old = this.tokens.get(session.token);
    if (old) old.state = 'refreshed';
    session.token = this.hex(this.tokenRng, 24);
    session.expiresAt += this.opts.sessionTtlMs;
    this.tokens.set(session.token, { session, state: 'active' });
    return session;
  }

  expire(session: Session): void {
    session.expiresAt = Math.min(session.expiresAt, this.opts.now());
  }

  /** The session a token belongs to (active, rotated or expired alike), without checking it. */
  peekToken(token: string): Session | undefined {
    return this.tokens.get(token)?.session;
  }

  nextHash(seat: Seat): string {
    return sha256Hex(seat.nextServerSeed);
  }

  newRound(seat: Seat, amountCents: number): Round {
    const round: Round = { id: this.uuid(), seat, pair: seat.pair, clientSeed: seat.pair.clientSeed, nonce: seat.pair.nonce, amountCents, createdAt: this.opts.now() };
    seat.pair.nonce += 1;
    seat.rounds.push(round);
    this.roundsById.set(round.id, round);
    return round;
  }

  round(id: string): Round | undefined {
    return this.roundsById.get(id);
  }

  /** Retires the active pair (revealing its server seed) and activates the pre-committed next one. */
  rotate(seat: Seat, newClientSeed: string | undefined, forge: boolean): { previous: SeedPair; current: SeedPair } {
    const previous = seat.pair;
    previous.revealed = forge ? createHash('sha256').update(`forged:${previous.serverSeed}`).digest('hex') : previous.serverSeed;
    const serverSeed = seat.nextServerSeed;
    seat.pair = { serverSeed, serverSeedHash: sha256Hex(serverSeed), clientSeed: newClientSeed ?? previous.clientSeed, nonce: 0 };
    seat.nextServerSeed = this.newServerSeed();
    return { previous, current: seat.pair };
  }
}
