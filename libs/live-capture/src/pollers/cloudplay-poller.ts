import * as http from 'node:http';
import type { CaptureTaskContext, CaptureTaskResult } from '@rewind/capture-facts';
import { exchange, PollExchange } from './http-exchange';
import { backoffMs, headerValue, parseJsonBody, PollRecorder, retryAfterMs, routeOf, sleep } from './poll-common';

export interface CloudplayPollerOptions {
  /** The platform's base URL, e.g. `http://127.0.0.1:4100/cloudplay`. */
  baseUrl: string;
  /** The platform session to follow (`ses…`). */
  sessionId: string;
  /** The user's bearer token: the latest one the recording proxy saw. `undefined` = none yet (the poller waits). */
  getToken: () => string | undefined;
  /** Pause between status polls (default 1000 ms). */
  intervalMs?: number;
  /** Cap on the network-error backoff (default 30 s). */
  maxBackoffMs?: number;
  /** Cap on one `Retry-After` wait (default 10 min). */
  maxRetryAfterMs?: number;
  /** One request's time limit (default 30 s). */
  requestTimeoutMs?: number;
}

/** States after which a cloud-play session never changes again. */
const FINAL_STATUSES = new Set(['stopped', 'error']);
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Follows one cloud-play session through `GET /api/game/session-status` until it is over, recording
 * (origin `poller`) the first poll, every poll whose status code or body differs from the previous one, and
 * every poll that is not a 200; identical polls are only counted. Each status change is a `status-transition`
 * marker `{from, to, skippedPolls}`. Once over, `GET /api/game/sessions` is read and recorded once.
 * See docs/capture/pollers.md.
 */
export async function pollCloudplaySession(options: CloudplayPollerOptions, ctx: CaptureTaskContext): Promise<CaptureTaskResult> {
  const intervalMs = Math.max(1, options.intervalMs ?? 1000);
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const maxRetryAfter = options.maxRetryAfterMs ?? 600_000;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const { signal, log } = ctx;
  const rec = new PollRecorder('cloudplay', ctx.sink, log);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const statusPath = `/api/game/session-status?sessionId=${encodeURIComponent(options.sessionId)}`;

  let polls = 0;
  let skippedSinceMarker = 0;
  let skippedTotal = 0;
  let previous: { status: number; body: Buffer } | undefined;
  let lastStatus: string | undefined;
  let seen = false;
  let rejectedToken: string | undefined;
  let tokenRejections = 0;
  let networkFailures = 0;
  let networkFailuresInRow = 0;
  let busyInRow = 0;
  let retryAfterWaits = 0;
  let waitingForTokenLogged = false;
  let gapStated = ctx.resumed === undefined;
  const transitions: { from: string | null; to: string; skippedPolls: number }[] = [];

  const call = (path: string, token: string): Promise<PollExchange> =>
    exchange(options.baseUrl, { method: 'GET', path, headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal, timeoutMs, agent, maxBodyBytes: MAX_BODY_BYTES });

  const summary = (): Record<string, unknown> => ({
    sessionId: options.sessionId,
    finalStatus: lastStatus ?? null,
    polls,
    recordedExchanges: rec.recordedExchanges,
    skippedPolls: skippedTotal,
    transitions,
    tokenRejections,
    retryAfterWaits,
    networkFailures,
  });

  try {
    let endReason: string | undefined;
    while (!signal.aborted && endReason === undefined) {
      const token = options.getToken();
      if (token === undefined || token === rejectedToken) {
        if (token === undefined && !waitingForTokenLogged) {
          waitingForTokenLogged = true;
          log.info(`cloudplay poller ${options.sessionId}: no token yet, waiting`);
        }
        await sleep(intervalMs, signal);
        continue;
      }
      if (rejectedToken !== undefined) {
        log.info(`cloudplay poller ${options.sessionId}: a new token is available, polling again`);
        rejectedToken = undefined;
      }

      const ex = await call(statusPath, token);
      if (signal.aborted) break;
      polls++;
      if (!ex.response) {
        networkFailures++;
        const wait = backoffMs(++networkFailuresInRow, intervalMs, maxBackoff);
        rec.marker('poll-error', { method: 'GET', path: routeOf(statusPath), error: ex.error, attempt: networkFailuresInRow, retryInMs: wait });
        log.warn(`cloudplay poller ${options.sessionId}: GET ${routeOf(statusPath)} failed (${ex.error}), retrying in ${wait} ms`);
        await sleep(wait, signal);
        continue;
      }
      networkFailuresInRow = 0;
      const res = ex.response;
      const differs = !previous || previous.status !== res.status || !previous.body.equals(res.body);
      if (differs || res.status !== 200) {
        rec.exchange(ex);
        if (res.status !== 200) log.warn(`cloudplay poller ${options.sessionId}: GET ${routeOf(statusPath)} → ${res.status}`);
      } else {
        skippedSinceMarker++;
        skippedTotal++;
      }
      previous = { status: res.status, body: res.body };

      if (!gapStated) {
        gapStated = true;
        rec.note('gap', 'poller-resumed', { lastSeenAtMs: ctx.resumed?.lastSeenAtMs ?? null, lastSeq: ctx.resumed?.lastSeq ?? null, status: res.status });
      }

      let waitMs = intervalMs;
      if (res.status === 200) {
        const body = parseJsonBody(res.body) as Record<string, unknown> | undefined;
        const status = body && typeof body === 'object' && typeof body['status'] === 'string' ? (body['status'] as string) : undefined;
        if (status === undefined) {
          rec.marker('bad-response', { method: 'GET', path: routeOf(statusPath), status: res.status, reason: body === undefined ? 'body is not JSON' : 'no status field' });
          log.warn(`cloudplay poller ${options.sessionId}: GET ${routeOf(statusPath)} → 200 with an unreadable body`);
        } else {
          seen = true;
          if (status !== lastStatus) {
            const t = { from: lastStatus ?? null, to: status, skippedPolls: skippedSinceMarker };
            transitions.push(t);
            rec.marker('status-transition', t);
            log.info(`cloudplay poller ${options.sessionId}: ${t.from ?? '(none)'} → ${t.to}`);
            skippedSinceMarker = 0;
            lastStatus = status;
          }
          if (FINAL_STATUSES.has(status)) endReason = status;
        }
      } else if (res.status === 401) {
        rejectedToken = token;
        tokenRejections++;
        rec.marker('token-rejected', { method: 'GET', path: routeOf(statusPath), status: 401, waitingForNewToken: true });
        log.warn(`cloudplay poller ${options.sessionId}: token rejected (401), waiting for a new one`);
        continue;
      } else if (res.status === 404 && seen) {
        rec.marker('session-gone', { method: 'GET', path: routeOf(statusPath), status: 404, lastStatus: lastStatus ?? null });
        endReason = 'not_found';
      } else if (res.status === 429 || res.status === 503) {
        const after = retryAfterMs(headerValue(res.headers, 'retry-after'));
        waitMs = Math.min(maxRetryAfter, after ?? backoffMs(++busyInRow, intervalMs, maxBackoff));
        retryAfterWaits++;
        rec.marker('retry-after', { method: 'GET', path: routeOf(statusPath), status: res.status, retryAfterHeader: headerValue(res.headers, 'retry-after') ?? null, waitMs });
      }
      if (res.status !== 429 && res.status !== 503) busyInRow = 0;
      if (endReason === undefined) await sleep(waitMs, signal);
    }
    if (signal.aborted) return { status: 'aborted' };

    // The list shows the final state (a stopped session is no longer listed). One read, retried on busy/network only.
    for (let attempt = 1; attempt <= 3 && !signal.aborted; attempt++) {
      const token = options.getToken();
      if (token === undefined) break;
      const ex = await call('/api/game/sessions', token);
      if (signal.aborted) break;
      if (!ex.response) {
        rec.marker('poll-error', { method: 'GET', path: '/api/game/sessions', error: ex.error, attempt });
        await sleep(backoffMs(attempt, intervalMs, maxBackoff), signal);
        continue;
      }
      rec.exchange(ex);
      if (ex.response.status !== 429 && ex.response.status !== 503) break;
      await sleep(Math.min(maxRetryAfter, retryAfterMs(headerValue(ex.response.headers, 'retry-after')) ?? backoffMs(attempt, intervalMs, maxBackoff)), signal);
    }
    if (signal.aborted) return { status: 'aborted' };
    log.info(`cloudplay poller ${options.sessionId}: ended (${endReason}) after ${polls} polls, ${skippedTotal} identical skipped`);
    return { status: 'ended', reason: endReason as string, summary: summary() };
  } finally {
    agent.destroy();
  }
}
