/**
 * How a delay is spread around the grown value `d` (see `backoff`), so that callers refused at the same moment
 * do not all come back at the same moment:
 * - `none`: exactly `d`;
 * - `full`: uniform in `[0, d]` (the most spread; a retry may come at once);
 * - `equal`: uniform in `[d/2, d]` (half fixed, half random: never sooner than half the delay, never above the cap);
 * - `{ spread: s }`: uniform in `[d·(1−s), d·(1+s)]` (mean `d`; with a cap, up to `s` above it), 0 ≤ s ≤ 1.
 */
export type Jitter = 'none' | 'full' | 'equal' | { spread: number };

export interface BackoffOptions {
  /** Delay before the first retry (attempt 1), before jitter, ≥ 0. */
  baseMs: number;
  /** Cap of the grown delay, before jitter (`Infinity`: none). A `spread` jitter may exceed it by its fraction. */
  maxMs: number;
  /** Growth per attempt, ≥ 1 (default 2: the delay doubles). */
  factor?: number;
  /** Default `none`. */
  jitter?: Jitter;
  /** Source of the jitter, uniform in [0, 1) (default Math.random): tests and seeded bots inject theirs. */
  random?: () => number;
}

/** The delay in ms (an integer) before retry number `attempt`, counted from 1. */
export type Backoff = (attempt: number) => number;

/**
 * Rewind's one retry policy: exponential, capped, optionally jittered. Retry `attempt` (1-based: the first retry
 * after the first failure is attempt 1) waits `d = min(maxMs, baseMs · factor^(attempt−1))`, spread by `jitter`,
 * rounded to the ms. An attempt below 1 (0, negative, NaN) counts as 1, so `attempt` may also be a count of
 * failures that starts at 0 or 1; a huge attempt gives the cap (no overflow). Pure apart from `random`.
 */
export function backoff(options: BackoffOptions): Backoff {
  const { baseMs, maxMs } = options;
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 'none';
  const random = options.random ?? Math.random;
  if (!(baseMs >= 0) || baseMs === Infinity) throw new RangeError(`backoff: baseMs must be a finite number ≥ 0 (got ${baseMs})`);
  if (!(maxMs >= 0)) throw new RangeError(`backoff: maxMs must be ≥ 0 (got ${maxMs})`);
  if (!(factor >= 1) || factor === Infinity) throw new RangeError(`backoff: factor must be a finite number ≥ 1 (got ${factor})`);
  const spread = typeof jitter === 'object' ? jitter.spread : 0;
  if (!(spread >= 0 && spread <= 1)) throw new RangeError(`backoff: jitter.spread must be within [0, 1] (got ${spread})`);
  const grown = (attempt: number): number => {
    const n = attempt > 1 ? attempt - 1 : 0;
    // factor ** n may overflow to Infinity (then the cap applies); a base of 0 stays 0 (0 · Infinity is NaN).
    const d = baseMs === 0 ? 0 : baseMs * factor ** n;
    return d < maxMs ? d : maxMs;
  };
  const r = (): number => Math.min(1, Math.max(0, random()));
  if (jitter === 'none') return (attempt) => Math.round(grown(attempt));
  if (jitter === 'full') return (attempt) => Math.round(r() * grown(attempt));
  if (jitter === 'equal')
    return (attempt) => {
      const d = grown(attempt);
      return Math.round(d / 2 + (r() * d) / 2);
    };
  return (attempt) => Math.round(grown(attempt) * (1 - spread + 2 * spread * r()));
}

/** What ioredis takes as `retryStrategy`: the delay before reconnect number `times` (from 1), or null to stop. */
export type RedisRetryStrategy = (times: number) => number | null;

/** Every Rewind Redis connection's reconnect policy: 200 ms, doubling, capped at 2 s, no jitter. */
export const REDIS_RECONNECT: Readonly<BackoffOptions> = Object.freeze({ baseMs: 200, maxMs: 2000 });

/**
 * An ioredis `retryStrategy` that reconnects forever with `policy` (default `REDIS_RECONNECT`), until `stop()`
 * says the connection is being closed (null ends ioredis's reconnecting for good).
 */
export function redisRetryStrategy(policy: Readonly<BackoffOptions> = REDIS_RECONNECT, stop?: () => boolean): RedisRetryStrategy {
  const delay = backoff(policy);
  return stop ? (times) => (stop() ? null : delay(times)) : delay;
}
