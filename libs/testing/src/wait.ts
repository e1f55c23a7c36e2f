import { inspect } from 'node:util';

/**
 * The one way a test waits: for a condition, never for a fixed time. The default timeout is generous because the
 * suite runs on two cores shared with Postgres, Redis, the other Jest worker and, at times, a benchmark: a wait
 * that passes in 50 ms on an idle machine can take seconds there. A test that waits for something that never
 * happens still fails, with what it waited for, the last value or error the check gave, and how long it waited.
 */
export const WAIT_FOR_TIMEOUT_MS = 20_000;

export interface WaitForOptions<T> {
  /** How long to wait before failing (default {@link WAIT_FOR_TIMEOUT_MS}); keep it below Jest's test timeout (60 s). */
  timeoutMs?: number;
  /** Pause between two checks (default 25 ms). */
  intervalMs?: number;
  /** When given, the check's value is done once `until(value)` holds (e.g. `until: (n) => n >= 3` for a count); otherwise once it is not undefined, null or false. */
  until?: (value: T) => boolean;
}

/**
 * Polls `check` until it is done (see {@link WaitForOptions.until}) and returns its value. A check that throws
 * (an `expect` that does not hold yet, a connection refused) counts as not done; its last error is in the
 * failure message. `options` may be just the timeout in ms (then `intervalMs` may follow).
 *
 *   await waitFor('the run sealed', async () => (await prisma.session.findUnique({ where: { id } }))?.sealedAt);
 *   await waitFor('3 failed jobs', () => queue.getFailedCount(), { until: (n) => n >= 3 });
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: number | WaitForOptions<T> = {},
  intervalMs?: number,
): Promise<T> {
  const o: WaitForOptions<T> = typeof options === 'number' ? { timeoutMs: options, intervalMs } : options;
  const { timeoutMs = WAIT_FOR_TIMEOUT_MS, until } = o;
  const pauseMs = o.intervalMs ?? 25;
  const started = Date.now();
  let checks = 0;
  let last: { value: unknown } | { error: unknown } | undefined;
  for (;;) {
    checks++;
    try {
      const value = await check();
      if (until ? until(value as T) : value !== undefined && value !== null && value !== false) return value as T;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() - started >= timeoutMs) throw new Error(waitForFailure(what, Date.now() - started, checks, last));
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

/** The failure message of {@link waitFor}: what, how long, how many checks, and the last value or error. Exported for its unit test. */
export function waitForFailure(what: string, elapsedMs: number, checks: number, last: { value: unknown } | { error: unknown } | undefined): string {
  const lastText = !last
    ? 'no check completed'
    : 'error' in last
      ? `last error: ${last.error instanceof Error ? last.error.message : inspect(last.error)}`
      : `last value: ${inspect(last.value, { depth: 3, breakLength: Infinity }).slice(0, 500)}`;
  return `waitFor: timed out after ${elapsedMs} ms (${checks} checks) waiting for ${what}; ${lastText}`;
}
