import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { versionInfo } from './commands';
import { GameError } from './errors';
import { Game, takeFault } from './game';
import { parseClientFrame, wsFrame } from './messages';
import type { Player, Sink } from './state';
import { GAMESERVER_VERSION, RELEASE_DATE, releaseNotes } from './version';

export interface WsOptions {
  /** Largest accepted inbound frame; larger ones are closed by `ws` with 1009 "Max payload size exceeded". */
  maxPayload: number;
  /** How often the server pings (the real period is undocumented; ~54 s is the usual Go pattern). */
  pingMs: number;
  /** No inbound frame and no pong for this long → close 1000 (docs: ~60 s). */
  idleMs: number;
}

export const CLOSE_REASONS = {
  goingAway: 'server going away',
  idle: 'connection idle',
  logout: 'logout',
  replaced: 'session replaced: logged in from another connection',
} as const;

/** Commands a connection may send before login. */
const PRE_AUTH = new Set(['register', 'login', 'logout', 'get_version']);

/** One WebSocket client: the player's push sink while logged in. */
export class WsConnection implements Sink {
  readonly kind = 'ws' as const;
  player?: Player;
  lastSeen: number;
  private queue: string[] = [];
  private flushScheduled = false;
  private closed = false;

  constructor(
    readonly ws: WebSocket,
    private readonly gateway: WsGateway,
  ) {
    this.lastSeen = gateway.game.ctx.now();
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  /** A direct reply (request_id echoed when given) or a push (never a request_id). */
  send(type: string, payload: Record<string, unknown> | undefined, requestId?: string): void {
    this.enqueue(wsFrame(type, payload, requestId));
  }

  push(type: string, payload: Record<string, unknown>): void {
    this.send(type, payload);
  }

  /** Several messages in ONE frame, newline-delimited (NDJSON), as the real server does under load. */
  sendBatch(frames: string[]): void {
    this.flush();
    if (this.isOpen) this.ws.send(frames.join('\n'));
  }

  private enqueue(frame: string): void {
    if (!this.isOpen) return;
    this.queue.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what is queued: one message per frame, unless a batch-ndjson fault groups them. */
  flush(): void {
    this.flushScheduled = false;
    const frames = this.queue;
    this.queue = [];
    if (!this.isOpen || !frames.length) return;
    const ctx = this.gateway.game.ctx;
    const batch = frames.length > 1 ? takeFault(ctx, 'batch-ndjson', [this.player?.username]) : undefined;
    if (batch) {
      const n = Math.max(1, Number(batch['n'] ?? frames.length) || frames.length);
      for (let i = 0; i < frames.length; i += n) this.ws.send(frames.slice(i, i + n).join('\n'));
      return;
    }
    for (const f of frames) this.ws.send(f);
  }

  closeWith(code: number, reason: string): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.closed = true;
    this.queue = [];
    this.ws.terminate();
  }
}

export class WsGateway {
  readonly wss: WebSocketServer;
  readonly connections = new Set<WsConnection>();
  private readonly pinger: NodeJS.Timeout;

  constructor(
    readonly game: Game,
    readonly options: WsOptions,
    /** Unbinds a replaced HTTP session (one connection per account). */
    private readonly replaceSink: (previous: Sink) => void,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });
    this.pinger = setInterval(() => this.keepalive(), options.pingMs);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const ctx = this.game.ctx;
    if (takeFault(ctx, 'status-503', [])) {
      const body = JSON.stringify({ error: 'service_unavailable', message: 'The game server is temporarily unavailable. Reconnect with backoff.' });
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    const conn = new WsConnection(ws, this);
    this.connections.add(conn);
    ws.on('error', () => undefined);
    ws.on('pong', () => (conn.lastSeen = this.game.ctx.now()));
    ws.on('close', () => {
      this.connections.delete(conn);
      if (conn.player) this.game.detach(conn.player, conn);
    });
    ws.on('message', (data, isBinary) => {
      try {
        this.onFrame(conn, data as Buffer, isBinary);
      } catch (e) {
        this.game.ctx.log(`ws frame error: ${(e as Error).stack ?? e}`);
        conn.send('error', { code: 'internal_error', message: 'simulator error' });
      }
    });
    conn.send('welcome', this.welcome());
  }

  welcome(): Record<string, unknown> {
    const ctx = this.game.ctx;
    return {
      version: GAMESERVER_VERSION,
      release_date: RELEASE_DATE,
      release_notes: releaseNotes(),
      tick_rate: this.game.options.tickMs / 1000,
      current_tick: this.game.tick,
      server_time: Math.floor(ctx.now() / 1000),
      motd: 'Welcome to the Rewind SpaceMolt simulator.',
      game_info: 'SpaceMolt is a multiplayer online game for AI agents: mine, trade, fight and explore. (Simulated by Rewind.)',
      website: 'https://www.spacemolt.com',
      help_text:
        'Register with {"type":"register","payload":{"username","empire","registration_code"}} or login with {"type":"login","payload":{"username","password"}}. Send {"type":"help"} for commands.',
      terms: 'By playing SpaceMolt, you agree to the terms at https://www.spacemolt.com/terms. This is a simulator.',
    };
  }

  private onFrame(conn: WsConnection, data: Buffer, isBinary: boolean): void {
    const ctx = this.game.ctx;
    conn.lastSeen = ctx.now();
    const user = conn.player?.username;
    if (takeFault(ctx, 'drop-socket', [user])) return conn.terminate();
    if (takeFault(ctx, 'close-1000', [user])) return conn.closeWith(1000, CLOSE_REASONS.goingAway);
    if (takeFault(ctx, 'close-4001', [user])) return conn.closeWith(4001, CLOSE_REASONS.replaced);

    const parsed = parseClientFrame(data, isBinary);
    if ('error' in parsed) return conn.send('error', { code: parsed.error.code, message: parsed.error.message }, parsed.requestId);
    const { type, payload, requestId } = parsed;
    const reply = (t: string, p: Record<string, unknown>): void => conn.send(t, p, requestId);
    const error = (e: GameError): void => reply('error', { code: e.code, message: e.message });

    const limited = takeFault(ctx, 'status-429', [user]);
    if (limited) {
      const wait = Number(limited['retryAfter'] ?? 10);
      return reply('error', { code: 'rate_limited', message: `Too many requests. Wait ${wait} seconds.`, wait_seconds: wait });
    }

    try {
      if (type === 'register') return this.register(conn, payload, requestId);
      if (type === 'login') return this.login(conn, payload, requestId);
      if (type === 'logout') {
        reply('ok', { message: 'Logged out. Your state has been saved.' });
        return conn.closeWith(1000, CLOSE_REASONS.logout);
      }
      if (type === 'login_token') throw new GameError('not_implemented', 'login_token is not implemented in this simulator: use login with username and password.');
      if (!this.game.isKnown(type)) throw new GameError('unknown_command', `Unknown command: ${type}. Send {"type":"help"} for the command list.`);
      const player = conn.player;
      if (!player) {
        if (!PRE_AUTH.has(type)) throw new GameError('not_authenticated', 'You must login first.');
        return reply('version_info', versionInfo()); // get_version, the only other pre-auth command
      }
      if (type === 'session') throw new GameError('invalid_payload', 'session is an HTTP-only endpoint; WebSocket connections are their own session.');
      if (this.game.isMutation(type)) {
        const ok = this.game.submit(player, type, payload, { sink: conn, reply: (t, p) => conn.send(t, p, requestId) });
        return reply('ok', ok);
      }
      const result = this.game.query(player, type, payload, 'v1');
      return reply(type === 'get_version' ? 'version_info' : 'ok', result);
    } catch (e) {
      if (e instanceof GameError) return error(e);
      throw e;
    }
  }

  private register(conn: WsConnection, payload: Record<string, unknown>, requestId?: string): void {
    if (conn.player) throw new GameError('already_logged_in', 'You are already logged in on this connection.');
    const player = this.game.register(payload);
    this.bind(conn, player);
    conn.send('registered', { password: player.password, player_id: player.id }, requestId);
    conn.send('logged_in', this.game.loginPayload(player, `Welcome to SpaceMolt, ${player.username}!`));
  }

  private login(conn: WsConnection, payload: Record<string, unknown>, requestId?: string): void {
    if (conn.player) throw new GameError('already_logged_in', 'You are already logged in on this connection.');
    const player = this.game.authenticate(payload);
    const previous = this.bind(conn, player);
    const loggedIn = wsFrame('logged_in', this.game.loginPayload(player, `Welcome back, ${player.username}!`), requestId);
    if (previous) {
      // The documented NDJSON batch: reconnected push + logged_in reply in one frame.
      const reconnected = wsFrame('reconnected', { message: 'You reconnected; your previous connection was closed.', was_pilotless: false, ticks_remaining: 0 });
      conn.sendBatch([reconnected, loggedIn]);
    } else conn.sendBatch([loggedIn]);
  }

  /** Binds the player to this connection; closes (4001) or unbinds the previous one. */
  private bind(conn: WsConnection, player: Player): Sink | undefined {
    conn.player = player;
    const previous = this.game.attach(player, conn);
    if (previous instanceof WsConnection) previous.closeWith(4001, CLOSE_REASONS.replaced);
    else if (previous) this.replaceSink(previous);
    return previous;
  }

  /** Fault checks at every tick (close-1000, close-4001, drop-socket for logged-in players). */
  onTick(): void {
    const ctx = this.game.ctx;
    for (const conn of [...this.connections]) {
      const user = conn.player?.username;
      if (!user || !conn.isOpen) continue;
      if (ctx.faults.peek('spacemolt', 'drop-socket', user) && takeFault(ctx, 'drop-socket', [user])) conn.terminate();
      else if (ctx.faults.peek('spacemolt', 'close-1000', user) && takeFault(ctx, 'close-1000', [user])) conn.closeWith(1000, CLOSE_REASONS.goingAway);
      else if (ctx.faults.peek('spacemolt', 'close-4001', user) && takeFault(ctx, 'close-4001', [user])) conn.closeWith(4001, CLOSE_REASONS.replaced);
    }
  }

  private keepalive(): void {
    const now = this.game.ctx.now();
    for (const conn of this.connections) {
      if (!conn.isOpen) continue;
      if (now - conn.lastSeen > this.options.idleMs) conn.closeWith(1000, CLOSE_REASONS.idle);
      else conn.ws.ping();
    }
  }

  /** Shutdown: every client gets close 1000 "server going away" (the documented restart close), then the rest is cut. */
  async close(): Promise<void> {
    clearInterval(this.pinger);
    const open = [...this.connections].filter((c) => c.isOpen);
    const closed = Promise.all(open.map((c) => new Promise<void>((resolve) => c.ws.once('close', () => resolve()))));
    for (const conn of open) conn.closeWith(1000, CLOSE_REASONS.goingAway);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, 500)))]);
    clearTimeout(timer);
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
