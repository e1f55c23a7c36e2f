/**
 * Session store and the live runtime: fixed-step loop per session, one frame per tick to the player
 * and every spectator, endings (GAME_OVER / EXIT), per-socket faults.
 */
import type { Rng } from '../core/rng';
import type { PlatformContext } from '../core/types';
import { Conn } from './connection';
import { MOLT_FAULTS, MoltFaults, num } from './faults';
import { createGame, GameRun } from './game';
import { getMoltStationOptions, mergeOptions, MoltStationOptions, MoltStationOptionsPatch, ShellRunnersParams } from './options';
import { CLOSE, CloseSpec, Slug, Source } from './protocol';
import { TokenStore } from './tokens';

export type SessionStatus = 'created' | 'live' | 'ended';

export interface SnapshotRecord {
  gameSessionHash: string;
  score: number;
  at: number;
}

export interface Session {
  id: string;
  slug: Slug;
  source: Source;
  wallet: string;
  status: SessionStatus;
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  lastHeartbeatAt?: number;
  game: GameRun;
  tickMs: number;
  spectatorCap: number;
  player?: Conn;
  spectators: Set<Conn>;
  interval?: NodeJS.Timeout;
  snapshot?: SnapshotRecord;
}

/** Backpressure: skip frames for a socket with more than this many bytes still buffered. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** …and close it with SLOW_CONSUMER after this many consecutive skipped frames. */
const MAX_SKIPPED = 100;

export class MoltStationState {
  readonly sessions = new Map<string, Session>();
  readonly tokens: TokenStore;
  readonly faults: MoltFaults;
  /** accessToken → wallet. */
  readonly accessTokens = new Map<string, { wallet: string; expiresAt: number }>();
  readonly refreshTokens = new Map<string, string>();
  readonly nonces = new Set<string>();
  readonly conns = new Set<Conn>();
  readonly timers = new Set<NodeJS.Timeout>();
  readonly scorebank = new Map<string, number>();
  private readonly idRng: Rng;
  readonly authRng: Rng;
  private closed = false;

  constructor(readonly ctx: PlatformContext) {
    this.tokens = new TokenStore(ctx.rng.fork('tokens'), ctx.now);
    this.faults = new MoltFaults(ctx);
    this.idRng = ctx.rng.fork('session-ids');
    this.authRng = ctx.rng.fork('auth');
  }

  /** The host's `platformOptions.moltstation` over the process-wide options (which tests adjust). */
  get options(): MoltStationOptions {
    return mergeOptions(getMoltStationOptions(), (this.ctx.options ?? {}) as MoltStationOptionsPatch);
  }

  hex(rng: { next(): number }, words: number): string {
    let s = '';
    for (let i = 0; i < words; i++)
      s += Math.floor(rng.next() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    return s;
  }

  createSession(slug: Slug, source: Source, wallet: string, overrides: { seed?: string; shellrunners?: Partial<ShellRunnersParams> }): Session {
    const id = `ms_${this.hex(this.idRng, 3)}`;
    const opts = mergeOptions(this.options, { shellrunners: overrides.shellrunners ?? {} });
    const seed = overrides.seed ?? `${this.ctx.seed}/${slug}/${id}`;
    const session: Session = {
      id,
      slug,
      source,
      wallet,
      status: 'created',
      createdAt: this.ctx.now(),
      game: createGame(slug, { seed, rng: this.ctx.rng.fork(`game/${seed}`), sr: opts.shellrunners, sessionId: id }),
      tickMs: opts.tickMs,
      spectatorCap: opts.spectatorCap,
      spectators: new Set(),
    };
    this.sessions.set(id, session);
    return session;
  }

  get tickHz(): number {
    return 1000 / this.options.tickMs;
  }

  /** Player authenticated: hello, then (first time) the tick-0 frame and the loop. */
  attachPlayer(s: Session, conn: Conn): void {
    if (s.status === 'ended') return conn.close(CLOSE.GAME_OVER);
    if (s.player && s.player !== conn) s.player.close(CLOSE.SESSION_REPLACED);
    s.player = conn;
    conn.sendText(JSON.stringify({ t: 'hello', role: 'play', tickHz: 1000 / s.tickMs }));
    if (s.status === 'created') {
      s.status = 'live';
      s.startedAt = this.ctx.now();
      this.broadcastFrame(s);
      s.interval = setInterval(() => this.tick(s), s.tickMs);
    }
  }

  attachSpectator(s: Session, conn: Conn): void {
    if (s.status === 'ended') return conn.close(CLOSE.GAME_OVER);
    if (s.spectators.size >= s.spectatorCap) return conn.close(CLOSE.SPECTATORS_FULL);
    s.spectators.add(conn);
    conn.sendText(JSON.stringify({ t: 'hello', role: 'spectate', tickHz: 1000 / s.tickMs }));
  }

  detach(conn: Conn): void {
    this.conns.delete(conn);
    if (!conn.sessionId) return;
    const s = this.sessions.get(conn.sessionId);
    if (!s) return;
    if (s.player === conn) s.player = undefined;
    s.spectators.delete(conn);
  }

  tick(s: Session): void {
    if (s.status !== 'live') return;
    try {
      s.game.step(s.tickMs);
      this.broadcastFrame(s);
      if (s.game.ended) this.finish(s, CLOSE.GAME_OVER);
    } catch (e) {
      this.ctx.log(`tick error in ${s.id}: ${(e as Error).stack ?? e}`);
      this.finish(s, CLOSE.GAME_OVER);
    }
  }

  broadcastFrame(s: Session): void {
    const text = JSON.stringify({ t: 'frame', frame: s.game.frame({ current: s.spectators.size, max: s.spectatorCap }) });
    const delay = this.faults.take(MOLT_FAULTS.DELAY_FRAMES, s.id);
    const batch = this.faults.take(MOLT_FAULTS.BATCH_FRAMES, s.id);
    const sendOpts = { delayMs: delay ? num(delay, 'ms', 200) : 0, batchN: batch ? num(batch, 'n', 5) : undefined };
    for (const conn of [...(s.player ? [s.player] : []), ...s.spectators]) {
      if (!conn.open) continue;
      if (conn === s.player && this.playerFaults(s, conn)) continue;
      if (conn.ws.bufferedAmount > HIGH_WATER_BYTES) {
        if (++conn.skipped >= MAX_SKIPPED) conn.close(CLOSE.SLOW_CONSUMER);
        continue;
      }
      conn.skipped = 0;
      conn.sendText(text, sendOpts);
      conn.framesSent++;
    }
  }

  /** Per-player faults keyed on frames already sent; true = do not send this frame. */
  private playerFaults(s: Session, conn: Conn): boolean {
    const sent = conn.framesSent;
    const due = (name: string): Record<string, unknown> | undefined => {
      const p = this.faults.peek(name, s.id);
      return p && sent >= num(p, 'afterTicks', 0) ? this.faults.take(name, s.id) : undefined;
    };
    if (due(MOLT_FAULTS.DROP_SOCKET)) {
      conn.terminate();
      return true;
    }
    const c1000 = due(MOLT_FAULTS.CLOSE_1000);
    if (c1000) {
      conn.close({ code: 1000, reason: typeof c1000.reason === 'string' ? c1000.reason : '' });
      return true;
    }
    if (due(MOLT_FAULTS.CLOSE_4001)) {
      conn.close(CLOSE.INVALID_TOKEN);
      return true;
    }
    const slow = this.faults.peek(MOLT_FAULTS.SLOW_CONSUMER, s.id);
    if (slow && sent >= num(slow, 'afterTicks', 0)) {
      conn.skipped++;
      if (conn.skipped >= num(slow, 'ticks', 10)) {
        this.faults.take(MOLT_FAULTS.SLOW_CONSUMER, s.id);
        conn.skipped = 0;
        if (slow.close !== false) conn.close(CLOSE.SLOW_CONSUMER);
      }
      return true;
    }
    return false;
  }

  /** Ends a run server-side: cmd exit (close EXIT) or POST …/end (close GAME_OVER). */
  endRun(s: Session, kind: 'exit' | 'session_ended'): void {
    if (s.status === 'ended') return;
    s.game.end(kind);
    if (s.status === 'live') this.broadcastFrame(s);
    this.finish(s, kind === 'exit' ? CLOSE.EXIT : CLOSE.GAME_OVER);
  }

  private finish(s: Session, close: CloseSpec): void {
    if (s.interval) clearInterval(s.interval);
    s.interval = undefined;
    s.status = 'ended';
    s.endedAt = this.ctx.now();
    for (const conn of [...(s.player ? [s.player] : []), ...s.spectators]) conn.close(close);
    this.ctx.log(`session ${s.id} (${s.slug}) ended: ${close.reason}, score ${s.game.score.current}`);
  }

  addTimer(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  clearTimer(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.timers.delete(t);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  shutdown(): void {
    this.closed = true;
    for (const s of this.sessions.values()) if (s.interval) clearInterval(s.interval);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.conns) c.destroy();
    this.conns.clear();
  }
}
