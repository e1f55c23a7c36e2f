import { backoff } from '@rewind/backoff';

/** Retry delays of the spectator: exponential, capped, with "equal jitter" (half fixed, half random). */
export interface RetryPolicy {
  /** First delay (before jitter). Default 250 ms. */
  initialDelayMs?: number;
  /** Cap of the exponential part. Default 5000 ms. */
  maxDelayMs?: number;
}

export const DEFAULT_RETRY = { initialDelayMs: 250, maxDelayMs: 5000 } as const;

/**
 * Delay before retry number `attempt` (1-based): `d = min(max, initial·2^(attempt-1))`, then a uniform value
 * in `[d/2, d]`, so concurrent spectators refused at the same moment spread out and never exceed the cap.
 * Rewind's one policy (`@rewind/backoff`, equal jitter); a cap below the initial delay is raised to it.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy = {}, random: () => number = Math.random): number {
  const initial = Math.max(0, policy.initialDelayMs ?? DEFAULT_RETRY.initialDelayMs);
  const max = Math.max(initial, policy.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs);
  return backoff({ baseMs: initial, maxMs: max, jitter: 'equal', random })(attempt);
}
