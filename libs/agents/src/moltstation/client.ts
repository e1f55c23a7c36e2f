/**
 * MoltStation client plumbing shared by the bots: HTTP calls with traffic logging, SIWE-style login
 * against the (stubbed) auth endpoints, token requests, and a WebSocket opener that logs every message.
 */
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { httpExchange, transportError } from '../http-exchange';
import type { BotOptions, TrafficLog } from '../traffic-log';

export type MoltSlug = 'shellrunners' | 'flappybots';
export type AuthStyle = 'message' | 'query';
export const TOKEN_RECOVERY_REASONS = ['TOKEN_REPLAYED', 'TOKEN_EXPIRED', 'TOKEN_NOT_FOUND', 'INVALID_TOKEN'];

export interface HttpResult {
  status: number;
  text: string;
  json: any;
}

export class MoltHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: any,
    what: string,
  ) {
    super(`${what} → HTTP ${status} ${body?.code ?? ''} ${body?.error ?? ''}`.trim());
  }
}

/** Deterministic fake wallet for a bot seed. */
export function walletFor(seed: string): string {
  return `0x${createHash('sha256').update(`molt-wallet/${seed}`).digest('hex').slice(0, 40)}`;
}

export class MoltClient {
  accessToken: string | undefined;
  private readonly base: string;
  constructor(private readonly opts: Pick<BotOptions, 'baseUrl' | 'traffic' | 'log' | 'signal'>) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
  }

  get wsBase(): string {
    return this.base.replace(/^http/, 'ws');
  }

  async request(method: string, path: string, body?: unknown, auth = true): Promise<HttpResult> {
    const stream = `${method} ${path.split('?')[0]}`;
    const text = body === undefined ? '' : JSON.stringify(body);
    const traffic = this.opts.traffic;
    traffic?.record({ stream, channel: 'http', direction: 'sent', data: text, meta: { method, path } });
    const headers: Record<string, string> = {};
    if (text) headers['content-type'] = 'application/json';
    if (auth && this.accessToken) headers.authorization = `Bearer ${this.accessToken}`;
    let res: Response;
    let resText: string;
    try {
      ({ res, body: resText } = await httpExchange(`${this.base}${path}`, { method, headers, body: text || undefined }, this.opts.signal, (r) => r.text()));
    } catch (e) {
      // No answer (connection refused or reset, aborted…): recorded as the exchange's end, without a status.
      traffic?.record({ stream, channel: 'http', direction: 'received', data: '', meta: { method, path, error: transportError(e) } });
      throw e;
    }
    traffic?.record({ stream, channel: 'http', direction: 'received', data: resText, meta: { method, path, status: res.status } });
    let json: any;
    try {
      json = resText ? JSON.parse(resText) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, text: resText, json };
  }

  async requestOk(method: string, path: string, body?: unknown, auth = true): Promise<any> {
    const r = await this.request(method, path, body, auth);
    if (r.status < 200 || r.status >= 300) throw new MoltHttpError(r.status, r.json, `${method} ${path}`);
    return r.json;
  }

  /** nonce → SIWE-like message → verify (the simulator accepts any signature). */
  async login(slug: MoltSlug, wallet: string): Promise<void> {
    const n = await this.requestOk('POST', `/api/games/${slug}/auth/nonce`, undefined, false);
    const message = [
      `${n.domain ?? 'moltstation.games'} wants you to sign in with your Ethereum account:`,
      wallet,
      '',
      'Sign in with Ethereum to MoltStation.',
      '',
      `URI: ${n.uri ?? 'https://moltstation.games'}`,
      'Version: 1',
      `Chain ID: ${n.chainId ?? 8453}`,
      `Nonce: ${n.nonce}`,
      `Issued At: ${n.issuedAt ?? new Date().toISOString()}`,
    ].join('\n');
    const signature = `0x${createHash('sha256').update(message).digest('hex').repeat(2)}1b`;
    const v = await this.requestOk('POST', `/api/games/${slug}/auth/verify`, { message, signature }, false);
    this.accessToken = v.accessToken;
  }

  /** Starts an agent_api session; snapshots a pending one first if the server answers SNAPSHOT_REQUIRED. */
  async startSession(slug: MoltSlug, source: 'agent_api' | 'browser_ws', simulatorOptions?: Record<string, unknown>): Promise<string> {
    const body: Record<string, unknown> = { source };
    if (simulatorOptions) body.simulatorOptions = simulatorOptions;
    let r = await this.request('POST', `/api/games/${slug}/sessions/start`, body);
    if (r.status === 409 && r.json?.code === 'SNAPSHOT_REQUIRED' && typeof r.json.sessionId === 'string') {
      await this.snapshot(slug, r.json.sessionId);
      r = await this.request('POST', `/api/games/${slug}/sessions/start`, body);
    }
    if (r.status !== 200 && r.status !== 201) throw new MoltHttpError(r.status, r.json, 'sessions/start');
    return (r.json.sessionId ?? r.json.session_id) as string;
  }

  async playToken(slug: MoltSlug, sessionId: string): Promise<string> {
    const j = await this.requestOk('POST', `/api/games/${slug}/sessions/${encodeURIComponent(sessionId)}/play-token`);
    return (j.playToken ?? j.token) as string;
  }

  async spectateToken(slug: MoltSlug, sessionId: string, isPublic: boolean): Promise<string> {
    const j = await this.requestOk('POST', `/api/games/${slug}/sessions/${encodeURIComponent(sessionId)}/spectate-token${isPublic ? '-public' : ''}`, undefined, !isPublic);
    return (j.spectateToken ?? j.token) as string;
  }

  snapshot(slug: MoltSlug, sessionId: string): Promise<any> {
    return this.requestOk('POST', '/api/rewards/snapshot', { gameSlug: slug, sessionId });
  }

  log(line: string): void {
    this.opts.log?.(line);
  }
}

export interface SocketRun {
  hello: unknown;
  frames: any[];
  closeCode: number;
  closeReason: string;
}

/**
 * Opens `/ws/{slug}/{role}?sessionId=…`, authenticates (first message or query token), logs every
 * message exactly as on the wire into `traffic`, hands each parsed message to `onMessage`, and
 * resolves on close.
 */
export function runSocket(opts: {
  wsBase: string;
  slug: MoltSlug;
  role: 'play' | 'spectate';
  sessionId: string;
  token: string;
  authStyle: AuthStyle;
  stream: string;
  traffic?: TrafficLog;
  signal?: AbortSignal;
  onOpen?: (send: (msg: unknown) => void, ws: WebSocket) => void;
  onMessage?: (msg: any, send: (msg: unknown) => void, ws: WebSocket) => void;
}): Promise<SocketRun> {
  const q = new URLSearchParams({ sessionId: opts.sessionId });
  if (opts.authStyle === 'query') q.set('token', opts.token);
  const ws = new WebSocket(`${opts.wsBase}/ws/${opts.slug}/${opts.role}?${q.toString()}`);
  const run: SocketRun = { hello: undefined, frames: [], closeCode: 0, closeReason: '' };
  const send = (msg: unknown): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    const text = typeof msg === 'string' ? msg : JSON.stringify(msg);
    opts.traffic?.record({ stream: opts.stream, channel: 'ws', direction: 'sent', data: text });
    ws.send(text);
  };
  return new Promise((resolve, reject) => {
    const onAbort = (): void => ws.close(1000);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    ws.on('open', () => {
      if (opts.authStyle === 'message') send({ t: 'auth', token: opts.token });
      opts.onOpen?.(send, ws);
    });
    ws.on('message', (data, isBinary) => {
      const payload = isBinary ? Buffer.from(data as Buffer) : (data as Buffer).toString('utf8');
      opts.traffic?.record({ stream: opts.stream, channel: 'ws', direction: 'received', data: payload });
      if (isBinary) return;
      let msg: any;
      try {
        msg = JSON.parse(payload as string);
      } catch {
        return;
      }
      if (msg?.t === 'hello') run.hello = msg;
      if (msg?.t === 'frame') run.frames.push(msg.frame);
      opts.onMessage?.(msg, send, ws);
    });
    ws.on('error', (e) => {
      if (ws.readyState === WebSocket.CONNECTING) {
        opts.signal?.removeEventListener('abort', onAbort);
        reject(e);
      }
    });
    ws.on('close', (code, reason) => {
      opts.signal?.removeEventListener('abort', onAbort);
      run.closeCode = code;
      run.closeReason = reason.toString('utf8');
      opts.traffic?.record({ stream: opts.stream, channel: 'ws', direction: 'received', data: '', meta: { event: 'close', code, reason: run.closeReason } });
      resolve(run);
    });
  });
}
