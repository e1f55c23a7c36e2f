import * as http from 'node:http';
import type { CaptureTaskContext, CaptureTaskResult } from '@rewind/capture-facts';
import { exchange, PollExchange } from './http-exchange';
import { backoffMs, errorCode, headerValue, parseJsonBody, PollRecorder, retryAfterMs, routeOf, sleep } from './poll-common';

export interface RgsPollerOptions {
  /** The platform's base URL, e.g. `http://127.0.0.1:4100/rgs`. */
  baseUrl: string;
  /** The latest `sessionToken` the recording proxy saw (launch URL or refresh answer); `undefined` = none yet. */
  getToken: () => string | undefined;
  /** When the proxy last saw the agent call the RGS with this session (ms, same clock as `now`). */
  lastActivityAtMs: () => number;
  /** The latest `expiresAt` the proxy saw (launch or refresh answer), ms. */
  expiresAtMs?: () => number | undefined;
  /** Pause between ticks (default 1000 ms, wall clock). */
  intervalMs?: number;
  /** The clock `lastActivityAtMs`/`expiresAtMs` are read against (default Date.now). */
  now?: () => number;
  /** The platform's inactivity window, which every authenticated call slides (default 1 h, the document's). */
  sessionTtlMs?: number;
  /** The expiry probe waits this long past the estimated expiry (clock skew; default 1000 ms). */
  expiryGraceMs?: number;
  /** After a probe that found the session not expired (and could not tell when it will be), the next probe waits this long on `now`'s clock (default 60 s). */
  probeRetryMs?: number;
  /** Cap on the network-error backoff (default 30 s). */
  maxBackoffMs?: number;
  /** Cap on one `Retry-After` wait (default 10 min). */
  maxRetryAfterMs?: number;
  /** One request's time limit (default 30 s). */
  requestTimeoutMs?: number;
}

type EndpointKey = 'current' | 'history' | 'seed' | 'balance';

/** How a call (or a whole cycle) went. */
type Outcome =
  | { kind: 'ok'; json: unknown; ex: PollExchange }
  /** An answer that is not usable (not JSON, 4xx/5xx other than auth/busy): recorded, the cycle goes on without it. */
  | { kind: 'bad' }
  | { kind: 'expired' }
  | { kind: 'token' }
  | { kind: 'retry'; waitMs: number };
type Stop = Extract<Outcome, { kind: 'expired' | 'token' | 'retry' }>;
type CycleOutcome = { kind: 'done' } | Stop;

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const HISTORY_PATH = '/game/history?limit=100';

interface RoundSeen {
  revealed: boolean;
  serverSeedHash?: string;
  /** The active pair hash this round was last re-read against (to look for its revealed seed once per rotation). */
  checkedAgainst?: string;
}

/**
 * Records one RGS session while its agent plays: the open round (`POST /game/current`), the history
 * (`GET /game/history?limit=100`), the seed commitment (`GET /seed/current`), each settled round's details
 * (`GET /game/round/{id}`, once, and once more when its server seed is revealed) and the balance
 * (`GET /game/balance`), always with the latest token the proxy saw. It never calls `/session/refresh`
 * and never keeps an idle session alive: every authenticated call slides the session's expiry, so it polls
 * only when the agent was active since its previous poll, plus once after the agent goes idle; after the
 * (estimated) expiry one probe tells whether the session is over. See docs/capture/pollers.md.
 */
export async function pollRgsSession(options: RgsPollerOptions, ctx: CaptureTaskContext): Promise<CaptureTaskResult> {
  const intervalMs = Math.max(1, options.intervalMs ?? 1000);
  const clock = options.now ?? Date.now;
  const ttl = options.sessionTtlMs ?? 60 * 60 * 1000;
  const grace = options.expiryGraceMs ?? 1000;
  const probeRetryMs = options.probeRetryMs ?? 60_000;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const maxRetryAfter = options.maxRetryAfterMs ?? 600_000;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const { signal, log } = ctx;
  const rec = new PollRecorder('rgs', ctx.sink, log);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  const lastRecorded = new Map<EndpointKey, { status: number; body: Buffer }>();
  const rounds = new Map<string, RoundSeen>();
  let seenActivity: number | undefined;
  let idlePollDone = false;
  let pendingCycle = false;
  let rejectedToken: string | undefined;
  let lastOwnCallMs: number | undefined;
  let nextProbeAtMs: number | undefined;
  let networkFailuresInRow = 0;
  let busyInRow = 0;
  let gapStated = ctx.resumed === undefined;
  const stats = { cycles: 0, idleCycles: 0, probes: 0, calls: 0, roundsRecorded: 0, revealedRecorded: 0, tokenRejections: 0, retryAfterWaits: 0, networkFailures: 0 };

  const summary = (): Record<string, unknown> => ({ ...stats, recordedExchanges: rec.recordedExchanges });

  /** One call: classifies the answer; records it when `record(ex)` says so (errors are always recorded). */
  const call = async (method: 'GET' | 'POST', path: string, token: string, record: (status: number, body: Buffer) => boolean): Promise<Outcome> => {
    const ex = await exchange(options.baseUrl, {
      method,
      path,
      headers:
        method === 'POST' ? { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json' } : { authorization: `Bearer ${token}`, accept: 'application/json' },
      body: method === 'POST' ? Buffer.from('{}') : undefined,
      signal,
      timeoutMs,
      agent,
      maxBodyBytes: MAX_BODY_BYTES,
    });
    if (signal.aborted) return { kind: 'retry', waitMs: 0 };
    stats.calls++;
    const route = `${method} ${routeOf(path)}`;
    if (!ex.response) {
      stats.networkFailures++;
      const waitMs = backoffMs(++networkFailuresInRow, intervalMs, maxBackoff);
      rec.marker('poll-error', { method, path: routeOf(path), error: ex.error, attempt: networkFailuresInRow, retryInMs: waitMs });
      log.warn(`rgs poller: ${route} failed (${ex.error}), retrying in ${waitMs} ms`);
      return { kind: 'retry', waitMs };
    }
    networkFailuresInRow = 0;
    const { status, body } = ex.response;
    const ok = status >= 200 && status < 300;
    // A 401 is the agent's token rotation (normal: the poller waits for the new token), not a problem.
    if (!ok && status !== 401) log.warn(`rgs poller: ${route} → ${status}`);
    if (status === 401) {
      rec.exchange(ex);
      const code = errorCode(body);
      if (code === 'session_expired') return { kind: 'expired' };
      if (rejectedToken !== token) {
        rejectedToken = token;
        stats.tokenRejections++;
        rec.marker('token-rejected', { method, path: routeOf(path), status, error: code ?? null, waitingForNewToken: true });
        const line = `rgs poller: ${route} → 401 ${code ?? 'no error code'}; waiting for the agent's new token`;
        if (code === 'token_rotated') log.info(line);
        else log.warn(line);
      }
      return { kind: 'token' };
    }
    // Faulted busy answers come before authentication: they do not slide the session.
    if (status === 429 || status === 503) {
      rec.exchange(ex);
      const header = headerValue(ex.response.headers, 'retry-after');
      const waitMs = Math.min(maxRetryAfter, retryAfterMs(header) ?? backoffMs(++busyInRow, intervalMs, maxBackoff));
      stats.retryAfterWaits++;
      rec.marker('retry-after', { method, path: routeOf(path), status, retryAfterHeader: header ?? null, waitMs });
      return { kind: 'retry', waitMs };
    }
    busyInRow = 0;
    lastOwnCallMs = clock();
    const json = ok ? parseJsonBody(body) : undefined;
    if (!ok || json === undefined || record(status, body)) rec.exchange(ex);
    if (ok && json === undefined) {
      rec.marker('bad-response', { method, path: routeOf(path), status, reason: 'body is not JSON' });
      log.warn(`rgs poller: ${route} → ${status} with a body that is not JSON`);
    }
    return ok && json !== undefined ? { kind: 'ok', json, ex } : { kind: 'bad' };
  };

  /** Dedupe per endpoint: record when status or body differs from the last recorded answer. */
  const changed =
    (key: EndpointKey) =>
    (status: number, body: Buffer): boolean => {
      const last = lastRecorded.get(key);
      if (last && last.status === status && last.body.equals(body)) return false;
      lastRecorded.set(key, { status, body });
      return true;
    };

  const cycle = async (token: string): Promise<CycleOutcome> => {
    const stop = (o: Outcome): o is Stop => o.kind === 'expired' || o.kind === 'token' || o.kind === 'retry';
    const current = await call('POST', '/game/current', token, changed('current'));
    if (stop(current)) return current;
    const history = await call('GET', HISTORY_PATH, token, changed('history'));
    if (stop(history)) return history;
    const seed = await call('GET', '/seed/current', token, changed('seed'));
    if (stop(seed)) return seed;
    const activeHash = seed.kind === 'ok' ? stringField(seed.json, 'serverSeedHash') : undefined;

    // Rounds never recorded (history order is newest first: record oldest first).
    const ids =
      history.kind === 'ok' && Array.isArray(history.json) ? (history.json as unknown[]).map((e) => stringField(e, 'id')).filter((id): id is string => !!id && /^[A-Za-z0-9-]{1,100}$/.test(id)) : [];
    const wanted = ids.filter((id) => !rounds.has(id)).reverse();
    // Rounds recorded without their server seed whose pair has been retired since (the active hash moved on).
    if (activeHash !== undefined) {
      for (const [id, r] of rounds) if (!r.revealed && r.serverSeedHash !== undefined && r.serverSeedHash !== activeHash && r.checkedAgainst !== activeHash) wanted.push(id);
    }
    for (const id of wanted) {
      const seen = rounds.get(id);
      let detail: { revealed: boolean; hash?: string } | undefined;
      const res = await call('GET', `/game/round/${encodeURIComponent(id)}`, token, (status, body) => {
        if (status !== 200) return true;
        detail = roundSeed(parseJsonBody(body));
        return seen === undefined || (!seen.revealed && detail.revealed);
      });
      if (stop(res)) return res;
      if (res.kind !== 'ok' || !detail) continue;
      const d: { revealed: boolean; hash?: string } = detail;
      if (!seen) {
        stats.roundsRecorded++;
        if (d.revealed) stats.revealedRecorded++;
        rounds.set(id, { revealed: d.revealed, serverSeedHash: d.hash, checkedAgainst: activeHash });
      } else {
        if (!seen.revealed && d.revealed) stats.revealedRecorded++;
        seen.revealed = d.revealed;
        seen.checkedAgainst = activeHash;
      }
    }
    const balance = await call('GET', '/game/balance', token, changed('balance'));
    if (stop(balance)) return balance;
    return { kind: 'done' };
  };

  /** When the session will have expired at the earliest, as far as the proxy and this poller know. */
  const estimatedExpiry = (activity: number): number | undefined => {
    const candidates: number[] = [];
    const stated = options.expiresAtMs?.();
    if (stated !== undefined && Number.isFinite(stated)) candidates.push(stated);
    if (Number.isFinite(activity) && activity > 0) candidates.push(activity + ttl);
    if (lastOwnCallMs !== undefined) candidates.push(lastOwnCallMs + ttl);
    return candidates.length ? Math.max(...candidates) : undefined;
  };

  try {
    while (!signal.aborted) {
      const now = clock();
      const activity = options.lastActivityAtMs();
      const token = options.getToken();
      const expiry = estimatedExpiry(activity);

      if (expiry !== undefined && now >= expiry + grace) {
        // Past the expiry: one probe (with the latest token even if it was rejected: an expired session answers
        // session_expired before it checks rotation, and a rotated token does not slide the session).
        if (token === undefined || (nextProbeAtMs !== undefined && now < nextProbeAtMs)) {
          await sleep(intervalMs, signal);
          continue;
        }
        stats.probes++;
        log.info('rgs poller: estimated expiry passed, probing GET /game/balance');
        const probe = await call('GET', '/game/balance', token, changed('balance'));
        if (signal.aborted) break;
        if (probe.kind === 'expired') {
          rec.marker('session-expired', { method: 'GET', path: '/game/balance', estimatedExpiryMs: expiry });
          log.info(`rgs poller: session expired; ended after ${stats.cycles} polls`);
          return { status: 'ended', reason: 'expired', summary: summary() };
        }
        if (probe.kind === 'retry') {
          await sleep(probe.waitMs, signal);
          continue;
        }
        rec.marker('expiry-probe', { method: 'GET', path: '/game/balance', result: probe.kind === 'ok' ? 'alive' : probe.kind });
        // An answered probe slid the session (lastOwnCallMs moved); otherwise wait before probing again.
        nextProbeAtMs = probe.kind === 'ok' ? undefined : clock() + probeRetryMs;
        await sleep(intervalMs, signal);
        continue;
      }

      const active = seenActivity === undefined || activity !== seenActivity;
      const reason: 'active' | 'idle' | undefined = pendingCycle || active ? 'active' : !idlePollDone ? 'idle' : undefined;
      if (reason === undefined || token === undefined || token === rejectedToken) {
        await sleep(intervalMs, signal);
        continue;
      }
      if (rejectedToken !== undefined) {
        rejectedToken = undefined;
        log.info('rgs poller: a new token is available, polling again');
      }
      const out = await cycle(token);
      if (signal.aborted) break;
      if (!gapStated && out.kind !== 'retry') {
        gapStated = true;
        rec.note('gap', 'poller-resumed', { lastSeenAtMs: ctx.resumed?.lastSeenAtMs ?? null, lastSeq: ctx.resumed?.lastSeq ?? null });
      }
      if (out.kind === 'expired') {
        rec.marker('session-expired', { method: 'poll', during: reason });
        return { status: 'ended', reason: 'expired', summary: summary() };
      }
      if (out.kind === 'token' || out.kind === 'retry') {
        pendingCycle = true;
        await sleep(out.kind === 'retry' ? out.waitMs : intervalMs, signal);
        continue;
      }
      stats.cycles++;
      if (reason === 'idle') stats.idleCycles++;
      pendingCycle = false;
      seenActivity = activity;
      idlePollDone = reason === 'idle';
      nextProbeAtMs = undefined;
      await sleep(intervalMs, signal);
    }
    return { status: 'aborted' };
  } finally {
    agent.destroy();
  }
}

function stringField(v: unknown, name: string): string | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const f = (v as Record<string, unknown>)[name];
  return typeof f === 'string' ? f : undefined;
}

/** From a round-details body: whether the server seed is revealed, and the pair's commitment. */
function roundSeed(json: unknown): { revealed: boolean; hash?: string } {
  const seed = json && typeof json === 'object' ? (json as Record<string, unknown>)['seed'] : undefined;
  return { revealed: typeof stringField(seed, 'serverSeed') === 'string', hash: stringField(seed, 'serverSeedHash') };
}
