import { createHash } from 'node:crypto';
import { backoff } from '@rewind/backoff';
import type { BotOptions } from '../traffic-log';
import { HttpReply, CloudplayHttpClient } from './http-client';

export interface CloudplayLauncherOptions extends BotOptions {
  /** The API key / bearer token (the simulator accepts any 8–512 character b64token). */
  token: string;
  gameSlug?: string;
  saveSlotId?: string;
  fresh?: boolean;
  /** Keepalives to send once running (default 3). */
  keepalives?: number;
  keepaliveIntervalMs?: number;
  /** Status poll interval while starting (default 2000: the document's play page polls every 2 s). */
  pollIntervalMs?: number;
  /** Give up waiting for running after this long (default 120 s: downloads take up to 60 s). */
  startTimeoutMs?: number;
  /** On 409 session_active: stop the active session and launch again (default), or reuse it. */
  onConflict?: 'stop' | 'reuse';
  /** 429 / 503 retries per call (default 5). */
  maxRetries?: number;
  /** Cap on one wait for Retry-After / backoff (default 60 s). */
  maxRetryWaitMs?: number;
}

export interface StatusTransition {
  status: string;
  /** Bot clock (Date.now()) when first seen. */
  atMs: number;
}

export interface StopStatistics {
  status: string;
  duration: number;
  cpuSeconds: number;
  peakMemoryMb: number;
}

export interface CloudplayLauncherResult {
  sessionId: string;
  /** True when an already active session was reused after a 409. */
  reused: boolean;
  /** Every status change the bot saw, in order, ending with the stop answer's `stopped`. */
  transitions: StatusTransition[];
  /** The `expiresAt` of each keepalive answer. */
  keepalives: string[];
  stop: StopStatistics;
  /** 429/503 answers waited out. */
  retries: number;
  /** Sessions the bot stopped to resolve a 409. */
  stoppedConflicting: string[];
}

export class CloudplayBotError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly body?: string,
  ) {
    super(message);
  }
}

const DEFAULTS = {
  gameSlug: 'garden-of-forking-paths',
  keepalives: 3,
  keepaliveIntervalMs: 60_000,
  pollIntervalMs: 2_000,
  startTimeoutMs: 120_000,
  onConflict: 'stop' as const,
  maxRetries: 5,
  maxRetryWaitMs: 60_000,
};

/**
 * A cloud-play client: launch → poll session-status until running → keepalives → stop, reading the stop
 * statistics. Handles 429 (waits Retry-After), 503 (Retry-After or jittered backoff) and 409 (stops the
 * active session and launches again, or reuses it with `onConflict: 'reuse'`).
 */
export async function runCloudplayLauncher(options: CloudplayLauncherOptions): Promise<CloudplayLauncherResult> {
  const o = { ...DEFAULTS, ...stripUndefined(options) };
  const log = options.log ?? (() => undefined);
  const http = new CloudplayHttpClient(options.baseUrl, options.token, options.traffic, log, options.signal);
  // 1 s after the first refusal, doubling, ±50 % (seeded: a bot's run is reproducible); `maxRetryWaitMs` caps it below.
  const retryDelay = backoff({ baseMs: 1000, maxMs: Infinity, jitter: { spread: 0.5 }, random: seededRandom(options.seed ?? 'cloudplay-launcher') });
  const result: CloudplayLauncherResult = {
    sessionId: '',
    reused: false,
    transitions: [],
    keepalives: [],
    stop: { status: '', duration: 0, cpuSeconds: 0, peakMemoryMb: 0 },
    retries: 0,
    stoppedConflicting: [],
  };
  const seen = (status: string): void => {
    if (result.transitions.at(-1)?.status !== status) result.transitions.push({ status, atMs: Date.now() });
  };

  /** One call, waiting out 429/503 up to maxRetries times. */
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<HttpReply> => {
    for (let attempt = 0; ; attempt++) {
      const reply = await http.request(method, path, body);
      if ((reply.status !== 429 && reply.status !== 503) || attempt >= o.maxRetries) return reply;
      const waitMs = Math.min(o.maxRetryWaitMs, retryAfterMs(reply.headers.get('retry-after')) ?? retryDelay(attempt + 1));
      log(`${reply.status} on ${method} ${path}: retrying in ${waitMs} ms`);
      result.retries++;
      await sleep(waitMs, options.signal);
    }
  };
  const expect = (reply: HttpReply, status: number, what: string): Record<string, unknown> => {
    if (reply.status !== status || !isObject(reply.json)) throw new CloudplayBotError(`${what}: HTTP ${reply.status} ${reply.text}`, reply.status, reply.text);
    return reply.json;
  };

  // 1. Launch (409 → stop the active session and retry once per active session, or reuse it).
  const launchBody: Record<string, unknown> = { gameSlug: o.gameSlug };
  if (o.saveSlotId !== undefined) launchBody['saveSlotId'] = o.saveSlotId;
  if (o.fresh !== undefined) launchBody['fresh'] = o.fresh;
  for (let conflicts = 0; !result.sessionId; conflicts++) {
    const reply = await call('POST', '/api/game/launch', launchBody);
    if (reply.status === 202) {
      const body = expect(reply, 202, 'launch');
      result.sessionId = String(body['sessionId']);
      seen(String(body['status']));
      break;
    }
    if (reply.status !== 409 || conflicts >= 3) expect(reply, 202, 'launch');
    const list = expect(await call('GET', '/api/game/sessions'), 200, 'sessions');
    const active = Array.isArray(list['sessions']) ? (list['sessions'] as unknown[]).filter(isObject) : [];
    const reusable = active.find((s) => s['gameSlug'] === o.gameSlug && (s['status'] === 'starting' || s['status'] === 'running'));
    if (o.onConflict === 'reuse' && reusable) {
      result.sessionId = String(reusable['sessionId']);
      result.reused = true;
      log(`409: reusing active session ${result.sessionId}`);
      seen(String(reusable['status']));
      break;
    }
    for (const s of active) {
      const id = String(s['sessionId']);
      log(`409: stopping active session ${id}`);
      expect(await call('POST', '/api/game/stop', { sessionId: id }), 200, 'stop (conflicting session)');
      result.stoppedConflicting.push(id);
    }
  }
  const sessionId = result.sessionId;
  const statusPath = `/api/game/session-status?sessionId=${encodeURIComponent(sessionId)}`;

  // 2. Poll until running.
  const deadline = Date.now() + o.startTimeoutMs;
  for (;;) {
    const status = String(expect(await call('GET', statusPath), 200, 'session-status')['status']);
    seen(status);
    if (status === 'running') break;
    if (status !== 'starting') {
      if (status === 'error') await call('POST', '/api/game/stop', { sessionId });
      throw new CloudplayBotError(`session ${sessionId} ended in ${status} before running`);
    }
    if (Date.now() > deadline) throw new CloudplayBotError(`session ${sessionId} not running after ${o.startTimeoutMs} ms`);
    await sleep(o.pollIntervalMs, options.signal);
  }

  // 3. Keepalives (each followed by a status read, so a reclaim shows up as a transition).
  for (let i = 0; i < o.keepalives; i++) {
    await sleep(o.keepaliveIntervalMs, options.signal);
    const k = expect(await call('POST', '/api/game/keepalive', { sessionId }), 200, 'keepalive');
    result.keepalives.push(String(k['expiresAt']));
    seen(String(expect(await call('GET', statusPath), 200, 'session-status')['status']));
  }

  // 4. Stop and read the statistics.
  const stopped = expect(await call('POST', '/api/game/stop', { sessionId }), 200, 'stop');
  result.stop = { status: String(stopped['status']), duration: Number(stopped['duration']), cpuSeconds: Number(stopped['cpuSeconds']), peakMemoryMb: Number(stopped['peakMemoryMb']) };
  seen(result.stop.status);
  log(`session ${sessionId} stopped: ${JSON.stringify(result.stop)}`);
  return result;
}

/** Retry-After: delta-seconds or an HTTP date. */
export function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CloudplayBotError('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new CloudplayBotError('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** mulberry32 seeded from the bot seed: backoff jitter only. */
function seededRandom(seed: string): () => number {
  let a = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
