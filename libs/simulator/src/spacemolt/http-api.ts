import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { splitPath } from '../core/http';
import { versionInfo } from './commands';
import { GameError, Outcome } from './errors';
import { Game, PENDING_ENVELOPE_MUTATIONS, outcomeMessage, takeFault } from './game';
import { notificationCategory } from './messages';
import type { Player, Sink } from './state';
import { V2_ACTIONS } from './spec-data';

/** HTTP API v1 (`POST /api/v1/<command>`) and v2 (`POST /api/v2/{tool}/{action}`), sessions and notifications. */

export const SESSION_TTL_MS = 30 * 60 * 1000;
/** Undelivered notifications kept per session (the oldest are dropped beyond this). */
export const MAX_QUEUED_NOTIFICATIONS = 1000;

export interface QueuedNotification {
  id: string;
  type: string;
  msg_type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export class HttpSession implements Sink {
  readonly kind = 'http' as const;
  player?: Player;
  queue: QueuedNotification[] = [];
  lastUsed: number;

  constructor(
    readonly id: string,
    readonly pool: 'v1' | 'v2',
    readonly createdAt: number,
    private readonly api: HttpApi,
  ) {
    this.lastUsed = createdAt;
  }

  push(type: string, payload: Record<string, unknown>): void {
    this.queue.push({ id: this.api.nextNotificationId(), type: notificationCategory(type), msg_type: type, timestamp: this.api.game.nowIso(), data: payload });
    if (this.queue.length > MAX_QUEUED_NOTIFICATIONS) this.queue.splice(0, this.queue.length - MAX_QUEUED_NOTIFICATIONS);
  }

  info(): Record<string, unknown> {
    return {
      id: this.id,
      ...(this.player ? { player_id: this.player.id } : {}),
      created_at: new Date(this.createdAt).toISOString(),
      expires_at: new Date(this.lastUsed + SESSION_TTL_MS).toISOString(),
    };
  }

  drain(): QueuedNotification[] {
    const q = this.queue;
    this.queue = [];
    return q;
  }
}

class HttpFail extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const JSON_TYPE = 'application/json';
/** v2 `id` → the v1 parameter it stands for, per command. */
const V2_ID_PARAM: Record<string, string> = {
  travel: 'target_poi',
  jump: 'target_system',
  sell: 'item_id',
  buy: 'item_id',
  attack: 'target_id',
  scan: 'target_id',
  refuel: 'item_id',
  jettison: 'item_id',
  use_item: 'item_id',
};
/** v2 actions whose v1 command has another name. */
const V2_RENAMES: Record<string, string> = {
  'spacemolt_ship/rename_ship': 'name_ship',
  'spacemolt_storage/view': 'view_storage',
  'spacemolt_storage/deposit': 'deposit_items',
  'spacemolt_storage/withdraw': 'withdraw_items',
};
const V2_KNOWN = new Map(V2_ACTIONS.map(([tool, action, mutation, schema]) => [`${tool}/${action}`, { mutation, schema }]));
const V2_TOOLS = new Set(V2_ACTIONS.map(([tool]) => tool));

export interface HttpOptions {
  maxBody: number;
  specs: { v1?: Buffer; v2?: Buffer; v1Path: string; v2Path: string };
}

export class HttpApi {
  readonly sessions = { v1: new Map<string, HttpSession>(), v2: new Map<string, HttpSession>() };
  private notificationSeq = 0;
  private readonly idRng;

  constructor(
    readonly game: Game,
    readonly options: HttpOptions,
    /** Closes a replaced WebSocket connection (one connection per account). */
    private readonly replaceSink: (previous: Sink) => void,
  ) {
    this.idRng = game.ctx.rng.fork('sessions');
  }

  nextNotificationId(): string {
    return `ntf_${String(++this.notificationSeq).padStart(8, '0')}`;
  }

  /** An expired session: forgotten, and its account no longer has a connection. */
  private expire(session: HttpSession): void {
    if (session.player) this.game.detach(session.player, session);
    this.invalidate(session);
  }

  /** Unbinds a session whose account logged in elsewhere: its next request gets session_invalid. */
  invalidate(session: HttpSession): void {
    session.player = undefined;
    this.sessions[session.pool].delete(session.id);
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const { pathname, query } = splitPath(path);
    if (pathname === '/api/v2/openapi.json' || pathname === '/api/openapi.json') {
      const v2 = pathname === '/api/v2/openapi.json';
      const spec = v2 ? this.options.specs.v2 : this.options.specs.v1;
      if (!spec)
        return (
          this.json(res, 404, {
            error: {
              code: 'not_found',
              message: `OpenAPI ${v2 ? 'v2' : 'v1'} spec is not available on this simulator: ${v2 ? this.options.specs.v2Path : this.options.specs.v1Path} was not found at start-up.`,
            },
          }),
          true
        );
      res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': spec.length });
      res.end(spec);
      return true;
    }
    if (pathname === '/healthz') return (this.json(res, 200, { status: 'ok', version: 'v0.327.2' }), true);
    const v1 = /^\/api\/v1\/([^/]+)\/?$/.exec(pathname);
    const v2 = /^\/api\/v2\/([^/]+)(?:\/([^/]+))?\/?$/.exec(pathname);
    if (!v1 && !v2) return false;
    const pool = v1 ? 'v1' : 'v2';
    const sessionHeader = headerValue(req, 'x-session-id');
    const session = sessionHeader ? this.sessions[pool].get(sessionHeader) : undefined;
    const isIpLimited = v1 ? ['session', 'login', 'register'].includes(v1[1]!) : v2![1] === 'session' || (v2![1] === 'spacemolt_auth' && ['login', 'register'].includes(v2![2] ?? ''));
    try {
      // Faults (target: session id or username).
      const keys = [sessionHeader, session?.player?.username];
      if (takeFault(this.game.ctx, 'drop-socket', keys)) {
        req.socket.destroy();
        return true;
      }
      if (takeFault(this.game.ctx, 'status-503', keys)) throw new HttpFail(503, 'service_unavailable', 'The game server is temporarily unavailable. Retry with backoff.');
      const limited = takeFault(this.game.ctx, 'status-429', keys);
      if (limited) {
        const retryAfter = Math.max(1, Math.round(Number(limited['retryAfter'] ?? 54)));
        const shape = limited['shape'] === 'ip' || limited['shape'] === 'envelope' ? limited['shape'] : isIpLimited ? 'ip' : 'envelope';
        const message = `Rate limited. Retry after ${retryAfter} seconds.`;
        if (shape === 'ip') return (this.json(res, 429, { error: 'rate_limited', message, retry_after: retryAfter }, { 'retry-after': String(retryAfter) }), true);
        throw new HttpFail(429, 'rate_limited', message, pool === 'v1' ? { wait_seconds: retryAfter } : { retry_after: retryAfter });
      }
      if (v1) await this.v1(req, res, v1[1]!, sessionHeader, session);
      else await this.v2(req, res, v2![1]!, v2![2], sessionHeader, session, query);
    } catch (e) {
      if (!(e instanceof HttpFail)) throw e;
      const errorBody = { code: e.code, message: e.message, ...e.extra };
      const headers: Record<string, string> = e.status === 429 ? { 'retry-after': String(e.extra['retry_after'] ?? e.extra['wait_seconds'] ?? 10) } : {};
      const live = session && this.sessions[pool].get(session.id) === session ? session : undefined;
      if (pool === 'v1') this.json(res, e.status, { error: errorBody, ...(live ? { session: live.info() } : {}) }, headers);
      else this.json(res, e.status, { error: errorBody, notifications: live ? live.drain() : [], ...(live ? { session: live.info() } : {}) }, headers);
    }
    return true;
  }

  // ---- v1 -----------------------------------------------------------------------------------------------------

  private async v1(req: IncomingMessage, res: ServerResponse, command: string, sessionHeader: string | undefined, found: HttpSession | undefined): Promise<void> {
    if (req.method !== 'POST') throw new HttpFail(405, 'method_not_allowed', `Use POST /api/v1/${command}.`);
    const body = await this.body(req, 'invalid_payload');
    if (command === 'session') {
      const s = this.createSession('v1');
      return this.json(res, 200, { result: { message: 'Session created. Include the X-Session-Id header with all requests.' }, session: s.info() });
    }
    if (!this.game.isKnown(command)) throw new HttpFail(400, 'unknown_command', `Unknown command: ${command}.`);
    const session = this.requireSession(sessionHeader, found);
    const result = await this.run(session, command, body, 'v1');
    this.json(res, 200, { result: result.result, notifications: session.drain(), session: session.info(), error: null });
  }

  // ---- v2 -----------------------------------------------------------------------------------------------------

  private async v2(
    req: IncomingMessage,
    res: ServerResponse,
    tool: string,
    actionSeg: string | undefined,
    sessionHeader: string | undefined,
    found: HttpSession | undefined,
    query: URLSearchParams,
  ): Promise<void> {
    if (tool === 'session' && !actionSeg) {
      if (req.method !== 'POST') throw new HttpFail(405, 'method_not_allowed', 'Use POST /api/v2/session.');
      await this.body(req, 'invalid_json');
      const s = this.createSession('v2');
      return this.json(res, 200, { result: { message: 'Session created. Include the X-Session-Id header with all requests.' }, notifications: [], session: s.info(), error: null });
    }
    if (tool === 'notifications' && !actionSeg) {
      if (req.method !== 'GET') throw new HttpFail(405, 'method_not_allowed', 'Use GET /api/v2/notifications.');
      const session = this.requireSession(sessionHeader, found, false);
      return this.json(res, 200, { result: this.notifications(session, { limit: query.get('limit'), clear: query.get('clear'), types: query.getAll('types') }), session: session.info(), error: null });
    }
    if (tool === 'agentlogs' && !actionSeg) {
      if (req.method !== 'POST') throw new HttpFail(405, 'method_not_allowed', 'Use POST /api/v2/agentlogs.');
      const body = await this.body(req, 'invalid_json');
      const session = this.requireSession(sessionHeader, found);
      for (const k of ['category', 'severity', 'message']) if (typeof body[k] !== 'string' || !body[k]) throw new HttpFail(400, 'invalid_params', `agentlogs requires "${k}" (string).`);
      this.game.ctx.log(
        `agentlog ${session.player?.username ?? `session#${createHash('sha256').update(session.id).digest('hex').slice(0, 8)}`} [${String(body['severity'])}/${String(body['category'])}] ${String(body['message']).slice(0, 500)}`,
      );
      const result = { message: 'Log entry recorded.' };
      return this.json(res, 200, { result: result.message, structuredContent: result, notifications: session.drain(), session: session.info(), error: null });
    }
    if (!V2_TOOLS.has(tool)) throw new HttpFail(400, 'unknown_command', `Unknown tool: ${tool}. Tools: ${[...V2_TOOLS].join(', ')}.`);
    if (actionSeg === 'help') {
      // GET per the spec (three tools also list a POST help action: answered the same way).
      if (req.method !== 'GET' && req.method !== 'POST') throw new HttpFail(405, 'method_not_allowed', `Use GET /api/v2/${tool}/help.`);
      const actions = V2_ACTIONS.filter(([t]) => t === tool).map(([, a, m, , summary]) => `- ${a || '(no action)'}${m ? ' [mutation]' : ''}: ${summary}`);
      return this.json(res, 200, { result: `${tool} actions:\n${actions.join('\n')}`, notifications: [], error: null });
    }
    if (req.method !== 'POST') throw new HttpFail(405, 'method_not_allowed', `Use POST /api/v2/${tool}/${actionSeg ?? '{action}'}.`);
    const body = await this.body(req, 'invalid_json');
    const action = actionSeg ?? (typeof body['action'] === 'string' ? (body['action'] as string) : tool === 'spacemolt_catalog' ? '' : undefined);
    if (action === undefined) throw new HttpFail(400, 'missing_action', `Missing action: use POST /api/v2/${tool}/{action} or an "action" field.`);
    const key = `${tool}/${action}`;
    const known = V2_KNOWN.get(key);
    if (!known) throw new HttpFail(400, 'unknown_command', `Unknown action "${action}" for ${tool}. See GET /api/v2/${tool}/help.`);
    let command = V2_RENAMES[key] ?? (tool === 'spacemolt_catalog' ? 'catalog' : action);
    if (!this.game.isKnown(command, 'v2') && this.game.isKnown(`faction_${action}`)) command = `faction_${action}`;
    if (!this.game.isKnown(command, 'v2')) throw new HttpFail(400, 'not_implemented', `${tool}/${action} is not implemented in this simulator (Rewind SpaceMolt simulator for gameserver v0.327.2).`);
    const params: Record<string, unknown> = { ...body };
    delete params['action'];
    if (params['id'] !== undefined && V2_ID_PARAM[command] && params[V2_ID_PARAM[command]!] === undefined) {
      params[V2_ID_PARAM[command]!] = params['id'];
      delete params['id'];
    }
    if (command === 'chat' && params['target'] !== undefined && params['channel'] === undefined) params['channel'] = params['target'];
    const session = this.requireSession(sessionHeader, found);
    const out = await this.run(session, command, params, 'v2');
    this.json(res, 200, { result: out.text, structuredContent: out.result, notifications: session.drain(), session: session.info(), error: null });
  }

  // ---- shared -------------------------------------------------------------------------------------------------

  private createSession(pool: 'v1' | 'v2'): HttpSession {
    const now = this.game.ctx.now();
    for (const old of [...this.sessions[pool].values()]) if (now - old.lastUsed > SESSION_TTL_MS) this.expire(old);
    const id = Array.from({ length: 32 }, () => this.idRng.int(0, 15).toString(16)).join('');
    const s = new HttpSession(id, pool, this.game.ctx.now(), this);
    this.sessions[pool].set(id, s);
    return s;
  }

  private requireSession(header: string | undefined, found: HttpSession | undefined, touch = true): HttpSession {
    if (!header) throw new HttpFail(401, 'session_required', 'Missing X-Session-Id header. Create a session first with POST /session.');
    const now = this.game.ctx.now();
    if (!found || now - found.lastUsed > SESSION_TTL_MS) {
      if (found) this.expire(found);
      throw new HttpFail(401, 'session_invalid', 'Session not found or expired. Create a new session, then login again.');
    }
    if (touch) found.lastUsed = now;
    return found;
  }

  /** Runs one command for a session: auth commands, queries at once, mutations after their tick. */
  private async run(session: HttpSession, command: string, body: Record<string, unknown>, flavour: 'v1' | 'v2'): Promise<{ result: unknown; text: unknown }> {
    const game = this.game;
    try {
      if (command === 'register' || command === 'login') {
        const player = command === 'register' ? game.register(body) : game.authenticate(body);
        // A login on an already logged-in session switches it to the (new) account.
        if (session.player && session.player !== player) game.detach(session.player, session);
        session.player = player;
        const previous = game.attach(player, session);
        if (previous instanceof HttpSession) this.invalidate(previous);
        else if (previous) this.replaceSink(previous);
        const login = game.loginPayload(player, command === 'register' ? `Welcome to SpaceMolt, ${player.username}! Save your password.` : `Welcome back, ${player.username}!`);
        const result =
          command === 'register'
            ? { password: player.password, player_id: player.id, player: login['player'], ship: login['ship'], system: login['system'], poi: login['poi'], message: login['message'] }
            : { ...login };
        return { result, text: result['message'] };
      }
      if (command === 'logout') {
        const player = session.player;
        if (player) game.detach(player, session);
        session.player = undefined;
        const result = { message: 'Logged out. Your state has been saved.' };
        return { result, text: result.message };
      }
      if (command === 'login_token') throw new GameError('not_implemented', 'The login_token command is not implemented in this simulator.');
      if (command === 'get_version') {
        const r = versionInfo();
        return { result: r, text: `SpaceMolt gameserver v${String(r['version'])}` };
      }
      const player = session.player;
      if (!player) throw new HttpFail(401, 'not_authenticated', 'You must login first.');
      if (command === 'get_notifications') {
        const r = this.notifications(session, { limit: body['limit'], clear: body['clear'], types: body['types'] });
        return { result: r, text: r };
      }
      if (game.isMutation(command)) {
        const settled = await new Promise<{ outcome: Outcome; tick: number }>((resolve, reject) => {
          try {
            game.submit(player, command, body, { sink: session, done: (o, tick) => resolve({ outcome: o, tick }) });
          } catch (e) {
            reject(e);
          }
        });
        const { outcome, tick } = settled;
        if (PENDING_ENVELOPE_MUTATIONS.has(command)) {
          const [type, payload] = outcomeMessage(command, outcome, tick, outcome.ok ? (outcome.flags ?? {}) : {});
          session.push(type, payload);
          const message = outcome.ok ? String(outcome.result['message'] ?? `${command} completed.`) : outcome.message;
          return { result: { pending: true, command, message }, text: message };
        }
        if (!outcome.ok) throw new GameError(outcome.code, outcome.message, outcome.details);
        const result = { ...outcome.result, ...(outcome.flags ?? {}) };
        return { result, text: typeof result['message'] === 'string' ? result['message'] : result };
      }
      const result = game.query(player, command, body, flavour);
      const text = typeof result['message'] === 'string' ? result['message'] : result;
      return { result, text };
    } catch (e) {
      if (e instanceof GameError) throw new HttpFail(400, e.code, e.message, e.details !== undefined ? { details: e.details } : {});
      throw e;
    }
  }

  private notifications(session: HttpSession, opts: { limit: unknown; clear: unknown; types: unknown }): Record<string, unknown> {
    const limitRaw = Number(opts.limit ?? 50);
    const limit = Number.isFinite(limitRaw) ? Math.min(100, Math.max(1, Math.floor(limitRaw))) : 50;
    const clear = !(opts.clear === false || opts.clear === 'false');
    const types = (Array.isArray(opts.types) ? opts.types : typeof opts.types === 'string' ? [opts.types] : []).flatMap((t) => String(t).split(',')).filter(Boolean);
    const matches = session.queue.filter((n) => !types.length || types.includes(n.type) || types.includes(n.msg_type));
    const picked = matches.slice(0, limit);
    if (clear) session.queue = session.queue.filter((n) => !picked.includes(n));
    return { notifications: picked, count: picked.length, remaining: session.queue.length, current_tick: this.game.tick, timestamp: Math.floor(this.game.ctx.now() / 1000) };
  }

  /** Reads a JSON object body (empty → {}); oversized or malformed bodies are 400s with the platform's codes. */
  private async body(req: IncomingMessage, invalidCode: 'invalid_json' | 'invalid_payload'): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > this.options.maxBody) tooBig = true;
      else chunks.push(chunk as Buffer);
    }
    if (tooBig) throw new HttpFail(400, 'payload_too_large', `Request body over ${this.options.maxBody} bytes.`);
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text.trim()) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new HttpFail(400, invalidCode, `Request body is not valid JSON: ${(e as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpFail(400, invalidCode, 'Request body must be a JSON object.');
    return parsed as Record<string, unknown>;
  }

  json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s && s.trim() ? s.trim() : undefined;
}
