import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, sendCodedError } from '../core/http';
import { authenticate, CloudplayUser } from './auth';
import { discardBody, readJsonObject } from './body';
import { CloudplayError } from './errors';
import { CloudplayFaults, Endpoint, numberParam } from './faults';
import type { LaunchInput, LaunchOverrides, SessionRecord, SessionStore } from './session-store';

/** `2025-03-09T10:15:00Z`: the document's timestamps have whole seconds. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

interface Route {
  method: 'GET' | 'POST';
  endpoint: Endpoint;
}

const ROUTES: Record<string, Route> = {
  '/api/game/launch': { method: 'POST', endpoint: 'launch' },
  '/api/game/session-status': { method: 'GET', endpoint: 'session-status' },
  '/api/game/keepalive': { method: 'POST', endpoint: 'keepalive' },
  '/api/game/stop': { method: 'POST', endpoint: 'stop' },
  '/api/game/sessions': { method: 'GET', endpoint: 'sessions' },
};

export interface ApiDeps {
  store: SessionStore;
  faults: CloudplayFaults;
  seed: string;
  now: () => number;
  maxBodyBytes: number;
  log: (line: string) => void;
}

/** The Sessions API: routing, authentication, body validation, faults, then the store. */
export class CloudplayHttpApi {
  constructor(private readonly deps: ApiDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    let closeAfter = false;
    try {
      // Not splitPath: it decodes segments, and a bad %-escape must be a 404, not a thrown URIError.
      const url = parseUrl(path);
      const pathname = url.pathname;
      const query = url.searchParams;
      const route = ROUTES[pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname];
      if (!route) throw new CloudplayError('not_found', `no such endpoint: ${req.method} ${pathname}`);
      if (req.method !== route.method) throw new CloudplayError('method_not_allowed', `${pathname} accepts ${route.method} only`, { allow: route.method });
      const user = authenticate(req, this.deps.seed);
      let body: Record<string, unknown> = {};
      if (route.method === 'POST') {
        const read = await readJsonObject(req, this.deps.maxBodyBytes);
        closeAfter = read.closeAfter ?? false;
        if (read.error) throw read.error;
        body = read.body as Record<string, unknown>;
      } else discardBody(req);

      const now = this.deps.now();
      const reclaimNow = this.deps.faults.has('reclaim-now')
        ? (s: { id: string; userId: string }, token: string | undefined) => this.deps.faults.take('reclaim-now', [s.id, s.userId, token]) !== undefined
        : undefined;
      this.deps.store.sweep(now, reclaimNow);
      switch (route.endpoint) {
        case 'launch':
          return this.launch(res, user, body, now);
        case 'session-status':
          return this.status(res, user, requireId(query.get('sessionId'), 'sessionId query parameter'));
        case 'keepalive':
          return this.keepalive(res, user, requireId(body['sessionId'], 'sessionId'), now);
        case 'stop':
          return this.stop(res, user, requireId(body['sessionId'], 'sessionId'), now);
        case 'sessions':
          return this.sessions(res, user);
      }
    } catch (e) {
      if (!(e instanceof CloudplayError)) throw e;
      if (closeAfter) e.headers['connection'] = 'close';
      this.deps.log(`${req.method} ${path.split('?')[0]} → ${e.status} ${e.code}: ${e.message}`);
      sendCodedError(res, e);
    }
  }

  private launch(res: ServerResponse, user: CloudplayUser, body: Record<string, unknown>, now: number): void {
    const input = parseLaunch(body);
    this.statusFaults('launch', [user.id, user.token]);
    const wait = this.deps.store.rateLimit(user, now);
    if (wait !== undefined) throw new CloudplayError('rate_limited', 'too many launch requests', { 'retry-after': String(wait) });
    const overrides: LaunchOverrides = {};
    const slow = this.deps.faults.take('slow-start', [user.id, user.token]);
    if (slow) overrides.startDelayMs = numberParam(slow, 'ms', 0);
    const fail = this.deps.faults.take('fail-launch', [user.id, user.token]);
    if (fail) overrides.failLaunch = typeof fail['ms'] === 'number' ? { afterMs: numberParam(fail, 'ms', 0) } : {};
    const rec = this.deps.store.launch(user, input, now, overrides);
    sendJson(res, 202, { sessionId: rec.state.id, status: rec.state.status });
  }

  private status(res: ServerResponse, user: CloudplayUser, sessionId: string): void {
    this.statusFaults('session-status', [sessionId, user.id, user.token]);
    sendJson(res, 200, statusView(this.deps.store.get(user, sessionId)));
  }

  private keepalive(res: ServerResponse, user: CloudplayUser, sessionId: string, now: number): void {
    this.statusFaults('keepalive', [sessionId, user.id, user.token]);
    const rec = this.deps.store.keepalive(user, sessionId, now);
    sendJson(res, 200, { status: 'ok', expiresAt: isoSeconds(rec.state.expiresAt) });
  }

  private stop(res: ServerResponse, user: CloudplayUser, sessionId: string, now: number): void {
    this.statusFaults('stop', [sessionId, user.id, user.token]);
    const rec = this.deps.store.stop(user, sessionId, now);
    const stats = rec.stats as NonNullable<SessionRecord['stats']>;
    sendJson(res, 200, { status: 'stopped', duration: stats.duration, cpuSeconds: stats.cpuSeconds, peakMemoryMb: stats.peakMemoryMb });
  }

  private sessions(res: ServerResponse, user: CloudplayUser): void {
    this.statusFaults('sessions', [user.id, user.token]);
    const sessions = this.deps.store
      .activeOf(user.id)
      .sort((a, b) => a.state.launchedAt - b.state.launchedAt)
      .map((r) => ({ sessionId: r.state.id, gameSlug: r.state.gameSlug, gameTitle: r.gameTitle, status: r.state.status, startedAt: isoSeconds(r.state.launchedAt) }));
    sendJson(res, 200, { sessions });
  }

  /** status-429 / status-503 faults for this endpoint. */
  private statusFaults(endpoint: Endpoint, targets: string[]): void {
    const limited = this.deps.faults.take('status-429', targets, endpoint);
    if (limited) {
      const retryAfter = Math.ceil(numberParam(limited, 'retryAfter', 1));
      throw new CloudplayError('rate_limited', endpoint === 'launch' ? 'too many launch requests' : 'too many requests', { 'retry-after': String(retryAfter) });
    }
    const down = this.deps.faults.take('status-503', targets, endpoint);
    if (down) {
      const headers: Record<string, string> = {};
      if (typeof down['retryAfter'] === 'number') headers['retry-after'] = String(Math.ceil(numberParam(down, 'retryAfter', 1)));
      throw new CloudplayError('no_servers', 'no game servers available', headers);
    }
  }
}

export function statusView(rec: SessionRecord): Record<string, unknown> {
  const s = rec.state;
  return {
    sessionId: s.id,
    status: s.status,
    serverUrl: rec.server.url,
    containerUrl: s.status === 'running' ? `${rec.server.url}/session/${s.id}/` : null,
    gameTitle: rec.gameTitle,
    startedAt: isoSeconds(s.launchedAt),
  };
}

function parseUrl(path: string): URL {
  try {
    return new URL(path.replace(/^\/+/, '/'), 'http://cloudplay.invalid');
  } catch {
    throw new CloudplayError('not_found', 'no such endpoint');
  }
}

function requireId(raw: unknown, what: string): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new CloudplayError('invalid_request', `${what} is required (a non-empty string)`);
  if (raw.length > 128) throw new CloudplayError('invalid_request', `${what} is too long`);
  return raw;
}

/** Unknown fields are ignored; null counts as absent for the optional ones. */
function parseLaunch(body: Record<string, unknown>): LaunchInput {
  const { gameSlug, saveSlotId, fresh } = body;
  if (typeof gameSlug !== 'string' || gameSlug.trim() === '') throw new CloudplayError('invalid_request', 'gameSlug is required (a non-empty string)');
  if (gameSlug.length > 200) throw new CloudplayError('invalid_request', 'gameSlug is too long');
  const input: LaunchInput = { gameSlug };
  if (saveSlotId !== undefined && saveSlotId !== null) {
    if (typeof saveSlotId !== 'string' || saveSlotId.trim() === '' || saveSlotId.length > 128) throw new CloudplayError('invalid_request', 'saveSlotId must be a non-empty string');
    input.saveSlotId = saveSlotId;
  }
  if (fresh !== undefined && fresh !== null) {
    if (typeof fresh !== 'boolean') throw new CloudplayError('invalid_request', 'fresh must be a boolean');
    input.fresh = fresh;
  }
  if (input.fresh === true && input.saveSlotId !== undefined) throw new CloudplayError('invalid_request', 'saveSlotId and fresh: true cannot be combined');
  return input;
}
