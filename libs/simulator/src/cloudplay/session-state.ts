/**
 * The session life cycle as pure functions of time (given/when/then friendly): a session's future is
 * fixed at launch (readyAt, whether the launch fails) and by keepalives (expiresAt), so its status at any
 * instant is computed, not driven by timers. That keeps transitions exact to the millisecond, deterministic
 * for a seed, and correct under an injected clock.
 *
 *   starting ──readyAt──► running ──expiresAt (no keepalive)──► stopping ──stoppingMs──► stopped
 *      │   └─readyAt, launch fails──► error
 *      └──────────── stop ────────────────► stopped   (stop works from every state but stopped)
 */
export type SessionStatus = 'starting' | 'running' | 'stopping' | 'stopped' | 'error';

export const ACTIVE_STATUSES: readonly SessionStatus[] = ['starting', 'running', 'stopping'];

export interface StopStats {
  /** Whole seconds from launch to stop. */
  duration: number;
  cpuSeconds: number;
  peakMemoryMb: number;
}

export interface Transition {
  status: SessionStatus;
  at: number;
  /** Why: 'launch', 'ready', 'launch-failed', 'idle-timeout', 'reclaim-now', 'stop'. */
  reason: string;
}

export interface SessionState {
  id: string;
  userId: string;
  gameSlug: string;
  status: SessionStatus;
  launchedAt: number;
  /** When the container is up (or the launch fails). */
  readyAt: number;
  failLaunch: boolean;
  /** Last keepalive (or launch) + idle timeout. */
  expiresAt: number;
  runningAt?: number;
  /** Set while stopping: when it becomes stopped. */
  stoppingUntil?: number;
  endedAt?: number;
  transitions: Transition[];
}

export function isActive(status: SessionStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

export function initialState(init: { id: string; userId: string; gameSlug: string; launchedAt: number; startDelayMs: number; failLaunch: boolean; idleTimeoutMs: number }): SessionState {
  return {
    id: init.id,
    userId: init.userId,
    gameSlug: init.gameSlug,
    status: 'starting',
    launchedAt: init.launchedAt,
    readyAt: init.launchedAt + init.startDelayMs,
    failLaunch: init.failLaunch,
    expiresAt: init.launchedAt + init.idleTimeoutMs,
    transitions: [{ status: 'starting', at: init.launchedAt, reason: 'launch' }],
  };
}

function to(s: SessionState, status: SessionStatus, at: number, reason: string, patch: Partial<SessionState> = {}): SessionState {
  return { ...s, ...patch, status, transitions: [...s.transitions, { status, at, reason }] };
}

/**
 * Applies every transition due at `now`, each at its own exact instant. A starting session is never
 * reclaimed; if its idle deadline passed while starting, it is reclaimed the moment it is running.
 */
export function evolve(s: SessionState, now: number, stoppingMs: number): SessionState {
  let cur = s;
  for (;;) {
    if (cur.status === 'starting' && now >= cur.readyAt) {
      cur = cur.failLaunch ? to(cur, 'error', cur.readyAt, 'launch-failed', { endedAt: cur.readyAt }) : to(cur, 'running', cur.readyAt, 'ready', { runningAt: cur.readyAt });
      continue;
    }
    if (cur.status === 'running') {
      const reclaimAt = Math.max(cur.expiresAt, cur.runningAt ?? cur.readyAt);
      if (now >= reclaimAt) {
        cur = to(cur, 'stopping', reclaimAt, 'idle-timeout', { stoppingUntil: reclaimAt + stoppingMs });
        continue;
      }
    }
    if (cur.status === 'stopping' && cur.stoppingUntil !== undefined && now >= cur.stoppingUntil) {
      cur = to(cur, 'stopped', cur.stoppingUntil, 'reclaimed', { endedAt: cur.stoppingUntil });
      continue;
    }
    return cur;
  }
}

/** Keepalive: only an active session's idle deadline moves (to now + idle timeout). */
export function keepalive(s: SessionState, now: number, idleTimeoutMs: number): SessionState {
  if (!isActive(s.status) || s.status === 'stopping') return s;
  return { ...s, expiresAt: Math.max(s.expiresAt, now + idleTimeoutMs) };
}

/** Reclaim now (fault): a starting or running session goes to stopping at `now`. */
export function reclaim(s: SessionState, now: number, stoppingMs: number, reason: string): SessionState {
  if (s.status !== 'starting' && s.status !== 'running') return s;
  return to(s, 'stopping', now, reason, { stoppingUntil: now + stoppingMs });
}

/** Stop: from any state but stopped, the session is stopped at `now`. */
export function stop(s: SessionState, now: number): SessionState {
  if (s.status === 'stopped') return s;
  return to(s, 'stopped', now, 'stop', { endedAt: now, stoppingUntil: undefined });
}

/** Milliseconds the container ran (running → stopping/stopped/end). */
export function containerRunMs(s: SessionState): number {
  if (s.runningAt === undefined) return 0;
  const left = s.transitions.find((t) => t.at >= (s.runningAt as number) && t.status !== 'running' && t.status !== 'starting');
  const end = left ? left.at : (s.endedAt ?? s.runningAt);
  return Math.max(0, end - s.runningAt);
}
