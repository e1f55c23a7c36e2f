import type { SimulatedPlatform } from '@rewind/platforms';

/**
 * Which captured stream a fact belongs to, per platform — pure functions over the raw exchange, so every
 * rule is unit-tested on its own (attribution.spec.ts). Secrets only ever leave here as keyed fingerprints
 * (`fp`), never as characters: stream keys and `agent` values are safe to store and log.
 */

/** A keyed fingerprint function (the Redactor's): `[redacted:<16 hex>]`. */
export type Fingerprint = (secret: string) => string;

export interface StreamIdentity {
  /**
   * The stream key, unique per platform: `session:<platform session id>` (a run: MoltStation and cloud-play
   * session ids, the RGS session id, a SpaceMolt WebSocket connection or HTTP session) or
   * `account:<credential fingerprint|anonymous>` (traffic that belongs to no run: logins, lists).
   */
  key: string;
  /** The platform's own session id when it is not a credential (stored in `sessions.platform_session_id`). */
  platformSessionId?: string | null;
  game?: string | null;
  /** A non-secret agent name (wallet, username, player id) or a credential fingerprint. */
  agent?: string | null;
  /** MoltStation start `source` (`agent_api` / `browser_ws`). */
  source?: string | null;
}

/** The run is over: the event that carried the signal is recorded, then the outcome, then the stream ends. */
export interface EndSignal {
  reason: string;
  outcome: Record<string, unknown>;
}

/** Tokens the recorder should remember as the latest for a run (for its pollers; never stored in clear). */
export interface LearnedCredential {
  /** Stream key of the run it belongs to. */
  key: string;
  name: 'bearer' | 'sessionToken';
  value: string;
  /** When the platform said it expires (ms since epoch), if it did. */
  expiresAtMs?: number;
}

export interface HttpExchange {
  platform: SimulatedPlatform;
  method: string;
  /** The platform path with query, as the client asked. */
  path: string;
  requestHeaders: [string, string][];
  requestBody: Buffer;
  /** Absent when the upstream never answered (proxy error). */
  status?: number;
  responseBody?: Buffer;
}

export interface HttpAttribution {
  identity: StreamIdentity;
  /** A capture task the recorder should start for this run (spectator / poller), if any. */
  task?: { kind: 'moltstation-spectate' | 'cloudplay-poll' | 'rgs-poll'; params: Record<string, unknown> };
  credentials: LearnedCredential[];
  /** Another key the run is also known by from now on (RGS: the fingerprint of a refreshed token). */
  aliases: string[];
  end?: EndSignal;
  /** RGS: the expiry the platform stated for the run (launch, refresh), ms since the epoch. */
  expiresAtMs?: number;
  /** RGS: an authenticated call that moves the run's expiry to at least one TTL from now. */
  activity?: boolean;
}

export function header(pairs: readonly [string, string][], name: string): string | undefined {
  const lower = name.toLowerCase();
  return pairs.find(([k]) => k.toLowerCase() === lower)?.[1];
}

export function bearerOf(pairs: readonly [string, string][]): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header(pairs, 'authorization') ?? '');
  return m?.[1];
}

export function jsonObject(bytes: Buffer | undefined): Record<string, unknown> | null {
  if (!bytes || bytes.length === 0) return null;
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const ok = (status: number | undefined): boolean => status !== undefined && status >= 200 && status < 300;

function accountOf(x: HttpExchange, fp: Fingerprint, issued?: string): StreamIdentity {
  const credential = bearerOf(x.requestHeaders) ?? issued;
  const agent = credential ? fp(credential) : null;
  return { key: `account:${agent ?? 'anonymous'}`, agent };
}

function queryParam(path: string, name: string): string | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(path.slice(q + 1)).get(name) ?? undefined;
}

function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

// ——— MoltStation ———

const MS_SESSION_PATH = /^\/api\/games\/([^/]+)\/sessions\/([^/]+)(?:\/([^/]+))?$/;

function moltstationHttp(x: HttpExchange, fp: Fingerprint): HttpAttribution {
  const p = pathOnly(x.path);
  const req = jsonObject(x.requestBody);
  const res = jsonObject(x.responseBody);
  const none: HttpAttribution = { identity: accountOf(x, fp, str(res?.['accessToken'])), credentials: [], aliases: [] };
  const start = /^\/api\/games\/([^/]+)\/sessions\/start$/.exec(p);
  if (start && x.method === 'POST') {
    const sessionId = str(res?.['sessionId']);
    if (!ok(x.status) || !sessionId) return none;
    const source = str(res?.['source']) ?? str(req?.['source']) ?? 'browser_ws';
    const bearer = bearerOf(x.requestHeaders);
    return {
      identity: { key: `session:${sessionId}`, platformSessionId: sessionId, game: start[1] ?? null, agent: none.identity.agent ?? null, source },
      // Only agent_api sessions appear in the live list; the spectator is started for those.
      ...(source === 'agent_api' ? { task: { kind: 'moltstation-spectate' as const, params: { slug: start[1], platformSessionId: sessionId } } } : {}),
      credentials: bearer ? [{ key: `session:${sessionId}`, name: 'bearer', value: bearer }] : [],
      aliases: [],
    };
  }
  // The owner's bearer of a run: the outcome pipeline submits the run's snapshot with it (vault only).
  const owner = (key: string): LearnedCredential[] => {
    const bearer = bearerOf(x.requestHeaders);
    return bearer ? [{ key, name: 'bearer', value: bearer }] : [];
  };
  const m = MS_SESSION_PATH.exec(p);
  if (m && m[2] !== 'live' && m[2] !== 'start') {
    const key = `session:${m[2]}`;
    return { identity: { key, platformSessionId: m[2] ?? null, game: m[1] ?? null }, credentials: owner(key), aliases: [] };
  }
  if (p === '/api/rewards/snapshot') {
    const sessionId = str(req?.['sessionId']);
    if (sessionId) return { identity: { key: `session:${sessionId}`, platformSessionId: sessionId, game: str(req?.['gameSlug']) ?? null }, credentials: owner(`session:${sessionId}`), aliases: [] };
  }
  return none;
}

// ——— SpaceMolt ———

function spacemoltHttp(x: HttpExchange, fp: Fingerprint): HttpAttribution {
  const p = pathOnly(x.path);
  const res = jsonObject(x.responseBody);
  const sent = header(x.requestHeaders, 'x-session-id');
  const created = /^\/api\/v[12]\/session$/.test(p) && x.method === 'POST' && ok(x.status) ? str((res?.['session'] as Record<string, unknown> | undefined)?.['id']) : undefined;
  const sessionSecret = sent ?? created;
  if (!sessionSecret) return { identity: accountOf(x, fp), credentials: [], aliases: [] };
  const identity: StreamIdentity = { key: `session:${fp(sessionSecret)}`, platformSessionId: null, game: 'spacemolt' };
  const command = /^\/api\/v[12]\/(?:spacemolt_auth\/)?(login|register|logout)$/.exec(p)?.[1];
  if ((command === 'login' || command === 'register') && ok(x.status)) {
    const username = str(jsonObject(x.requestBody)?.['username']);
    if (username) identity.agent = username;
  }
  const end = command === 'logout' && ok(x.status) ? { reason: 'logout', outcome: { reason: 'logout', via: 'http' } } : undefined;
  return { identity, credentials: [], aliases: [], ...(end ? { end } : {}) };
}

// ——— Cloud-play ———

function cloudplayHttp(x: HttpExchange, fp: Fingerprint): HttpAttribution {
  const p = pathOnly(x.path);
  const req = jsonObject(x.requestBody);
  const res = jsonObject(x.responseBody);
  const bearer = bearerOf(x.requestHeaders);
  const agent = bearer ? fp(bearer) : null;
  let sessionId: string | undefined;
  let game: string | null | undefined;
  let task: HttpAttribution['task'];
  if (p === '/api/game/launch' && x.method === 'POST') {
    sessionId = ok(x.status) ? str(res?.['sessionId']) : undefined;
    game = str(req?.['gameSlug']) ?? null;
    if (sessionId) task = { kind: 'cloudplay-poll', params: { sessionId } };
  } else if (p === '/api/game/session-status') {
    sessionId = queryParam(x.path, 'sessionId');
  } else if (p === '/api/game/keepalive' || p === '/api/game/stop') {
    sessionId = str(req?.['sessionId']);
  }
  if (!sessionId) return { identity: accountOf(x, fp), credentials: [], aliases: [] };
  const key = `session:${sessionId}`;
  const identity: StreamIdentity = { key, platformSessionId: sessionId, agent, ...(game !== undefined ? { game } : {}) };
  const credentials: LearnedCredential[] = bearer ? [{ key, name: 'bearer', value: bearer }] : [];
  let end: EndSignal | undefined;
  const status = str(res?.['status']);
  if (ok(x.status) && (status === 'stopped' || status === 'error') && (p === '/api/game/stop' || p === '/api/game/session-status')) {
    const { status: _s, ...rest } = res as Record<string, unknown>;
    end = { reason: status, outcome: { reason: status, ...rest } };
  }
  return { identity, credentials, aliases: [], ...(task ? { task } : {}), ...(end ? { end } : {}) };
}

// ——— RGS ———

function rgsHttp(x: HttpExchange, fp: Fingerprint): HttpAttribution {
  const p = pathOnly(x.path);
  const res = jsonObject(x.responseBody);
  if (p === '/operator/launch' && x.method === 'POST') {
    const sessionId = str(res?.['sessionId']);
    const launchUrl = str(res?.['launchUrl']);
    const token = launchUrl ? queryParam(launchUrl.replace(/^[a-z]+:\/\/[^/]+/i, ''), 'sessionToken') : undefined;
    if (!ok(x.status) || !sessionId || !token) return { identity: accountOf(x, fp), credentials: [], aliases: [] };
    const key = `session:${sessionId}`;
    const expiresAtMs = Date.parse(str(res?.['expiresAt']) ?? '');
    const req = jsonObject(x.requestBody);
    return {
      identity: { key, platformSessionId: sessionId, game: str(req?.['gameCode']) ?? null, agent: str(req?.['playerId']) ?? null },
      task: { kind: 'rgs-poll', params: { rgsSessionId: sessionId } },
      credentials: [{ key, name: 'sessionToken', value: token, ...(Number.isFinite(expiresAtMs) ? { expiresAtMs } : {}) }],
      aliases: [`token:${fp(token)}`],
      ...(Number.isFinite(expiresAtMs) ? { expiresAtMs } : {}),
    };
  }
  const bearer = bearerOf(x.requestHeaders);
  if (!bearer) return { identity: accountOf(x, fp), credentials: [], aliases: [] };
  // Until the launch is known, the run is keyed by its token's fingerprint (resolved through aliases).
  const identity: StreamIdentity = { key: `token:${fp(bearer)}` };
  const aliases: string[] = [];
  const credentials: LearnedCredential[] = [];
  let expiresAtMs: number | undefined;
  let activity = false;
  if (p === '/session/refresh' && x.method === 'POST' && ok(x.status)) {
    const fresh = str(res?.['sessionToken']);
    const at = Date.parse(str(res?.['expiresAt']) ?? '');
    if (fresh) {
      aliases.push(`token:${fp(fresh)}`);
      credentials.push({ key: identity.key, name: 'sessionToken', value: fresh, ...(Number.isFinite(at) ? { expiresAtMs: at } : {}) });
    }
    if (Number.isFinite(at)) expiresAtMs = at;
  } else if (x.status !== undefined && x.status !== 401) {
    // Every authenticated call moves the expiry to at least an hour (the platform's TTL) from now.
    activity = true;
  }
  const error = str(res?.['error']);
  const end = x.status === 401 && error === 'session_expired' ? { reason: 'expired', outcome: { reason: 'expired', observedBy: 'proxy' } } : undefined;
  return { identity, credentials, aliases, activity, ...(expiresAtMs !== undefined ? { expiresAtMs } : {}), ...(end ? { end } : {}) };
}

/** The stream an HTTP exchange belongs to, and what it tells about the run. */
export function attributeHttp(x: HttpExchange, fp: Fingerprint): HttpAttribution {
  switch (x.platform) {
    case 'moltstation':
      return moltstationHttp(x, fp);
    case 'spacemolt':
      return spacemoltHttp(x, fp);
    case 'cloudplay':
      return cloudplayHttp(x, fp);
    case 'rgs':
      return rgsHttp(x, fp);
  }
}

// ——— WebSockets ———

export interface WsAttribution {
  identity: StreamIdentity;
}

/** The stream of a WebSocket connection, from its path (MoltStation `?sessionId=`; SpaceMolt: the connection). */
export function attributeWs(platform: SimulatedPlatform, path: string, connectionId: string): WsAttribution {
  if (platform === 'moltstation') {
    const slug = /^\/ws\/([^/]+)\/(?:play|spectate)$/.exec(pathOnly(path))?.[1] ?? null;
    const sessionId = queryParam(path, 'sessionId');
    if (sessionId) return { identity: { key: `session:${sessionId}`, platformSessionId: sessionId, game: slug } };
  }
  if (platform === 'spacemolt') return { identity: { key: `session:ws-${connectionId}`, platformSessionId: null, game: 'spacemolt' } };
  return { identity: { key: `connection:${connectionId}`, platformSessionId: null } };
}

/**
 * What a WebSocket message tells about its run: a SpaceMolt login/register names the agent; a SpaceMolt
 * logout ends the run once the connection closes; a MoltStation frame with `phase:"ended"` is the final frame.
 */
export interface WsMessageSignal {
  agent?: string;
  finalFrame?: Record<string, unknown>;
  logout?: boolean;
}

/** Messages that can carry a signal at all: the rest (nearly every frame) are not parsed a second time here. */
const MAY_SIGNAL = {
  moltstationFrame: /"phase"\s*:\s*"ended"/,
  spacemoltCommand: /"(?:login|register|logout)"/,
};

export function inspectWsMessage(platform: SimulatedPlatform, fromClient: boolean, text: string): WsMessageSignal {
  if (text.length > 1_000_000 || text[0] !== '{') return {};
  // The encoder has already parsed each message once; on the hot path only candidates are parsed again.
  // (Text with \u escapes could spell a key differently: it is always parsed.)
  const candidate = (re: RegExp): boolean => re.test(text) || text.includes('\\u');
  if (platform === 'moltstation' ? fromClient || !candidate(MAY_SIGNAL.moltstationFrame) : platform !== 'spacemolt' || !fromClient || !candidate(MAY_SIGNAL.spacemoltCommand)) return {};
  let msg: Record<string, unknown> | null = null;
  try {
    const v = JSON.parse(text) as unknown;
    msg = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    // NDJSON batches and malformed text carry no signal the recorder needs
  }
  if (!msg) return {};
  if (platform === 'moltstation' && !fromClient && msg['t'] === 'frame') {
    const frame = msg['frame'];
    if (frame && typeof frame === 'object' && (frame as Record<string, unknown>)['phase'] === 'ended') return { finalFrame: frame as Record<string, unknown> };
  }
  if (platform === 'spacemolt' && fromClient) {
    const type = msg['type'];
    const payload = msg['payload'] as Record<string, unknown> | undefined;
    if ((type === 'login' || type === 'register') && payload) {
      const username = str(payload['username']);
      if (username) return { agent: username };
    }
    if (type === 'logout') return { logout: true };
  }
  return {};
}

/** The MoltStation outcome from the final frame and the closing reason. */
export function moltstationOutcome(finalFrame: Record<string, unknown> | null, closeReason: string | null): Record<string, unknown> {
  const score = finalFrame?.['score'];
  const current = typeof score === 'number' ? score : score && typeof score === 'object' ? (score as Record<string, unknown>)['current'] : undefined;
  return {
    reason: closeReason ?? 'ended',
    phase: finalFrame?.['phase'] ?? null,
    tick: finalFrame?.['tick'] ?? null,
    score: typeof current === 'number' ? current : null,
    lives: typeof finalFrame?.['lives'] === 'number' ? finalFrame['lives'] : null,
    gameOverReason: finalFrame?.['gameOverReason'] ?? null,
  };
}
