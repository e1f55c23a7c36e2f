import type { Rng } from '../core/rng';
import { CLOUDPLAY_GAMES, findGame } from './catalog';
import { CloudplayError } from './errors';
import type { CloudplayUser } from './auth';
import type { CloudplayOptions, ScaledTimes } from './options';
import { GameServer, ServerPool } from './servers';
import { containerRunMs, evolve, initialState, isActive, keepalive, reclaim, SessionState, stop, StopStats } from './session-state';

export interface LaunchInput {
  gameSlug: string;
  saveSlotId?: string;
  fresh?: boolean;
}

/** Per-launch overrides coming from faults. */
export interface LaunchOverrides {
  /** slow-start: exact start delay. */
  startDelayMs?: number;
  /** fail-launch: the launch ends in error (after `afterMs` when given, else its normal start delay). */
  failLaunch?: { afterMs?: number };
}

export interface SessionRecord {
  state: SessionState;
  gameTitle: string;
  server: GameServer;
  saveSlotId: string;
  /** Whether the game was on the selected server at launch. */
  cached: boolean;
  stats?: StopStats;
}

interface ResourceProfile {
  cpuCores: number;
  peakMemoryMb: number;
}

/** Weight of the newest session in the game's resource profile (exponential moving average). */
const PROFILE_ALPHA = 0.2;
const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * Every session, server and user of the simulated platform, and the Sessions API's rules: one active
 * session per user (409), launch rate limit (429), server capacity (503), ownership (404).
 */
export class SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly active = new Set<string>();
  private readonly launches = new Map<string, number[]>();
  private readonly slots = new Map<string, string>();
  private readonly tokens = new Map<string, string>();
  private readonly profiles = new Map<string, ResourceProfile>();
  private readonly ids: Rng;
  readonly pool: ServerPool;

  constructor(
    private readonly options: CloudplayOptions,
    private readonly times: ScaledTimes,
    private readonly rng: Rng,
    private readonly log: (line: string) => void,
  ) {
    this.ids = rng.fork('ids');
    this.pool = new ServerPool(options.servers, options.serverUrlTemplate, CLOUDPLAY_GAMES, rng.fork('cache'));
    for (const g of CLOUDPLAY_GAMES) this.profiles.set(g.slug, { cpuCores: g.cpuCores, peakMemoryMb: g.peakMemoryMb });
  }

  /** Brings every active session up to `now`; `reclaimNow` says which ones a reclaim-now fault hits. */
  sweep(now: number, reclaimNow?: (s: SessionState, token: string | undefined) => boolean): void {
    for (const id of [...this.active]) {
      const rec = this.sessions.get(id) as SessionRecord;
      this.update(rec, evolve(rec.state, now, this.times.stoppingMs), now);
      if (reclaimNow && (rec.state.status === 'starting' || rec.state.status === 'running') && reclaimNow(rec.state, this.tokens.get(rec.state.userId))) {
        this.log(`session ${id} reclaimed (fault reclaim-now)`);
        this.update(rec, reclaim(rec.state, now, this.times.stoppingMs, 'reclaim-now'), now);
        this.update(rec, evolve(rec.state, now, this.times.stoppingMs), now);
      }
    }
  }

  /** Counts a launch request; returns the seconds to wait when over the limit. */
  rateLimit(user: CloudplayUser, now: number): number | undefined {
    const window = this.times.rateWindowMs;
    const recent = (this.launches.get(user.id) ?? []).filter((t) => t > now - window);
    if (recent.length >= this.options.launchRateLimit.max) {
      this.launches.set(user.id, recent);
      return Math.max(1, Math.ceil(((recent[0] as number) + window - now) / 1000));
    }
    recent.push(now);
    this.launches.set(user.id, recent);
    return undefined;
  }

  launch(user: CloudplayUser, input: LaunchInput, now: number, overrides: LaunchOverrides = {}): SessionRecord {
    this.tokens.set(user.id, user.token);
    const game = findGame(input.gameSlug);
    if (!game) throw new CloudplayError('not_found', `game "${input.gameSlug}" not found`);
    const existing = this.activeOf(user.id);
    if (existing.length > 0) throw new CloudplayError('session_active', 'user already has an active session');
    const load = (s: GameServer): number => [...this.active].filter((id) => this.sessions.get(id)?.server === s).length;
    const placement = this.pool.select(game.slug, now, load, this.options.sessionsPerServer);
    if (!placement) throw new CloudplayError('no_servers', 'no game servers available');

    const id = this.newId('ses');
    const srng = this.rng.fork(`session/${id}`);
    const start = srng.int(this.times.containerStartMs[0], this.times.containerStartMs[1]);
    let downloadMs: number;
    if (placement.availableAt === undefined) {
      downloadMs = srng.int(this.times.downloadMs[0], this.times.downloadMs[1]);
      this.pool.markDownloading(placement.server, game.slug, now + downloadMs);
    } else {
      downloadMs = Math.max(0, placement.availableAt - now);
    }
    let delay = downloadMs + start;
    if (overrides.startDelayMs !== undefined) delay = Math.max(0, Math.round(overrides.startDelayMs));
    if (overrides.failLaunch?.afterMs !== undefined) delay = Math.max(0, Math.round(overrides.failLaunch.afterMs));

    const state = initialState({
      id,
      userId: user.id,
      gameSlug: game.slug,
      launchedAt: now,
      startDelayMs: delay,
      failLaunch: overrides.failLaunch !== undefined,
      idleTimeoutMs: this.times.idleTimeoutMs,
    });
    const rec: SessionRecord = { state, gameTitle: game.title, server: placement.server, saveSlotId: this.slotFor(user, game.slug, input), cached: downloadMs === 0 };
    this.sessions.set(id, rec);
    this.active.add(id);
    this.log(`launch ${id} ${game.slug} on ${placement.server.url} (${rec.cached ? 'cached' : `download ${downloadMs} ms`}, ready in ${delay} ms${state.failLaunch ? ', will fail' : ''})`);
    return rec;
  }

  /** The user's own session (404 for unknown ids and other users' sessions alike). */
  get(user: CloudplayUser, sessionId: string): SessionRecord {
    const rec = this.sessions.get(sessionId);
    if (!rec || rec.state.userId !== user.id) throw new CloudplayError('not_found', `session "${sessionId}" not found`);
    return rec;
  }

  keepalive(user: CloudplayUser, sessionId: string, now: number): SessionRecord {
    const rec = this.get(user, sessionId);
    if (rec.state.status !== 'starting' && rec.state.status !== 'running') {
      throw new CloudplayError('not_found', `no active session "${sessionId}" (status ${rec.state.status})`);
    }
    rec.state = keepalive(rec.state, now, this.times.idleTimeoutMs);
    return rec;
  }

  stop(user: CloudplayUser, sessionId: string, now: number): SessionRecord {
    const rec = this.get(user, sessionId);
    this.update(rec, stop(rec.state, now), now);
    return rec;
  }

  activeOf(userId: string): SessionRecord[] {
    return [...this.active].map((id) => this.sessions.get(id) as SessionRecord).filter((r) => r.state.userId === userId);
  }

  private update(rec: SessionRecord, next: SessionState, now: number): void {
    if (next === rec.state) return;
    rec.state = next;
    if (!isActive(next.status)) this.active.delete(next.id);
    if (next.status === 'stopped' && !rec.stats) {
      rec.stats = this.collectStats(rec);
      this.log(
        `session ${next.id} stopped at ${new Date(next.endedAt ?? now).toISOString()} (${next.transitions.at(-1)?.reason}): ${JSON.stringify(rec.stats)}; save slot ${rec.saveSlotId} persisted`,
      );
    }
  }

  /** Container stats at stop, then the game's resource profile moves toward them (EMA). */
  private collectStats(rec: SessionRecord): StopStats {
    const s = rec.state;
    const duration = Math.max(0, Math.floor(((s.endedAt ?? s.launchedAt) - s.launchedAt) / 1000));
    const runMs = containerRunMs(s);
    const profile = this.profiles.get(s.gameSlug) as ResourceProfile;
    const srng = this.rng.fork(`stats/${s.id}`);
    const cpuCores = profile.cpuCores * (0.85 + 0.3 * srng.next());
    const memory = profile.peakMemoryMb * (0.9 + 0.2 * srng.next());
    const stats: StopStats = {
      duration,
      cpuSeconds: Math.round((runMs / 1000) * cpuCores * 10) / 10,
      peakMemoryMb: runMs > 0 ? Math.round(memory) : 0,
    };
    if (runMs > 0) {
      profile.cpuCores = PROFILE_ALPHA * cpuCores + (1 - PROFILE_ALPHA) * profile.cpuCores;
      profile.peakMemoryMb = PROFILE_ALPHA * stats.peakMemoryMb + (1 - PROFILE_ALPHA) * profile.peakMemoryMb;
    }
    return stats;
  }

  private slotFor(user: CloudplayUser, gameSlug: string, input: LaunchInput): string {
    if (input.saveSlotId !== undefined) return input.saveSlotId;
    const key = `${user.id}/${gameSlug}`;
    const current = this.slots.get(key);
    if (current && !input.fresh) return current;
    const slot = this.newId('cls');
    this.slots.set(key, slot);
    return slot;
  }

  private newId(prefix: string): string {
    let id = prefix;
    for (let i = 0; i < 21; i++) id += ID_ALPHABET[this.ids.int(0, ID_ALPHABET.length - 1)];
    return id;
  }
}
