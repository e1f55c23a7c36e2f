import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import type { Pool } from 'pg';
import { EventStore, ReplayRow, SessionRecord } from '@rewind/event-store';
import { followSource, replayRowSource, ReplayError, ReplaySession, SeekTarget, validateSpeed } from '@rewind/replay';
import { findMoltstationRecording } from './recordings';
import { ReplayAuth } from './replay-auth';

/** Close codes of the replay gateway (4xxx: the request was wrong; the reason says what). */
export const REPLAY_CLOSE = { badRequest: 4400, unauthorized: 4401, notFound: 4404, done: 1000, server: 1011 } as const;

const MAX_CONTROL_BYTES = 4096;

/**
 * Flow control of a replay stream towards a slow (or stopped) reader: `ws.send` queues without bound, so a
 * client that stops reading at speed 32 would otherwise make the gateway hold the whole session in memory.
 */
export interface ReplayFlowOptions {
  /** Send buffer (`ws.bufferedAmount`) above which the replay is paused. Default 1 MiB. */
  highWaterBytes?: number;
  /** The paused replay resumes once the send buffer drained below this. Default 256 KiB. */
  lowWaterBytes?: number;
  /** Paused for the reader this long without draining: closed 1008 "slow reader". Default 30 s. */
  stallTimeoutMs?: number;
  /** How often a paused stream looks at its send buffer. Default 50 ms. */
  pollMs?: number;
}

export const REPLAY_FLOW_DEFAULTS: Required<ReplayFlowOptions> = { highWaterBytes: 1024 * 1024, lowWaterBytes: 256 * 1024, stallTimeoutMs: 30_000, pollMs: 50 };

/** Close code and reason for a reader that stopped reading for longer than the stall timeout. */
export const SLOW_READER_CLOSE = { code: 1008, reason: 'slow reader' } as const;

/**
 * One stream's flow control: after each send, a send buffer over the high-water mark pauses the replay (it
 * emits nothing more, reads no further page); a poll resumes it once the buffer drained below the low-water mark.
 * A pause asked by the client (control message) is kept apart: draining never resumes a replay the client
 * paused, and the client's resume waits for the drain.
 */
class SendFlow {
  private held = false;
  private heldSince = 0;
  private userPaused = false;
  private poll: NodeJS.Timeout | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly replay: ReplaySession<ReplayRow>,
    private readonly limits: Required<ReplayFlowOptions>,
    private readonly onStall: () => void,
  ) {
    ws.once('close', () => this.dispose());
  }

  /** Call after every send. */
  sent(): void {
    if (this.held || this.ws.bufferedAmount <= this.limits.highWaterBytes) return;
    this.held = true;
    this.heldSince = Date.now();
    this.replay.pause();
    this.poll = setInterval(() => this.check(), this.limits.pollMs);
    this.poll.unref();
  }

  pauseByClient(): void {
    this.userPaused = true;
    this.replay.pause();
  }

  resumeByClient(): void {
    this.userPaused = false;
    if (!this.held) this.replay.resume();
  }

  /** The state as the client sees it: a flow pause alone is not a pause it asked for. */
  get state(): string {
    return this.held && !this.userPaused && this.replay.state === 'paused' ? 'playing' : this.replay.state;
  }

  private check(): void {
    if (this.ws.readyState !== WebSocket.OPEN) return this.dispose();
    if (this.ws.bufferedAmount < this.limits.lowWaterBytes) {
      this.release();
      if (!this.userPaused) this.replay.resume();
      return;
    }
    if (Date.now() - this.heldSince >= this.limits.stallTimeoutMs) {
      this.release();
      this.onStall();
    }
  }

  private release(): void {
    this.held = false;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
  }

  dispose(): void {
    this.release();
  }
}

/** A fresh connection and the messages it sent before its route took over. */
interface Conn {
  ws: WebSocket;
  early: { data: Buffer; binary: boolean }[];
  /** Stops buffering; the route then handles messages itself (first the early ones). */
  stopKeeping(): void;
}

/** Hands the early messages to `handler`, then every later one. */
function onMessages(conn: Conn, handler: (data: Buffer, binary: boolean) => void): void {
  conn.stopKeeping();
  for (const m of conn.early.splice(0)) handler(m.data, m.binary);
  conn.ws.on('message', (data, binary) => handler(data as Buffer, binary));
}

class BadRequest extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers['authorization'];
  return typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h)?.[1] : undefined;
}

function speedOf(raw: string | null): number {
  if (raw === null || raw === '') return 1;
  const n = Number(raw);
  try {
    return validateSpeed(n);
  } catch (e) {
    throw new BadRequest(REPLAY_CLOSE.badRequest, (e as Error).message);
  }
}

function startOf(url: URL): SeekTarget | undefined {
  const seq = url.searchParams.get('fromSeq');
  const from = url.searchParams.get('from');
  if (seq !== null) {
    if (!/^\d+$/.test(seq) || Number(seq) < 1) throw new BadRequest(REPLAY_CLOSE.badRequest, 'fromSeq must be an integer ≥ 1');
    return { seq: Number(seq) };
  }
  if (from !== null) {
    const s = Number(from);
    if (!Number.isFinite(s) || s < 0) throw new BadRequest(REPLAY_CLOSE.badRequest, 'from must be a number of seconds ≥ 0');
    return { offsetUs: Math.round(s * 1e6) };
  }
  return undefined;
}

function skipIdleOf(raw: string | null): number | undefined {
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new BadRequest(REPLAY_CLOSE.badRequest, 'skipIdle must be a number of milliseconds ≥ 0');
  return n;
}

function flagOf(raw: string | null, name: string): boolean {
  if (raw === null || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new BadRequest(REPLAY_CLOSE.badRequest, `${name} must be 1, true, 0 or false`);
}

/** The documented envelope of `/replay/:sessionId`. */
export function envelope(e: ReplayRow) {
  const binary = Buffer.isBuffer(e.body);
  return {
    type: 'event',
    seq: e.seq,
    offsetUs: e.offsetUs,
    kind: e.kind,
    direction: e.direction,
    channel: e.channel,
    msgType: e.msgType,
    tick: e.tick,
    format: e.format,
    encoding: binary ? 'base64' : 'utf8',
    data: binary ? (e.body as Buffer).toString('base64') : e.body,
  };
}

/**
 * The replay gateway's WebSockets, on the API's HTTP server:
 * - `/replay/:sessionId?speed=&fromSeq=|from=&skipIdle=&follow=` — every event in the documented envelope, with
 *   control messages (pause, resume, speed, seek);
 * - `/replay/moltstation/ws/{slug}/spectate?sessionId=<platform session id>` — MoltStation's own spectate
 *   protocol (both auth styles, `hello`, the recorded frames' exact text, close `1000 GAME_OVER`), so an
 *   unmodified spectator client pointed at `/replay/moltstation` watches the recorded run as if live;
 * - `/replay/spacemolt/ws?sessionId=<recorded session id>` — SpaceMolt's server→client stream as recorded.
 * Authentication: an API key (`Authorization: Bearer`, or `apiKey=`) or a replay token (`token=` or the
 * MoltStation auth message). See docs/replay.md.
 */
export class ReplayGateway {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly sessions = new Set<ReplaySession<ReplayRow>>();
  private readonly flowLimits: Required<ReplayFlowOptions>;
  private slowReaderCloses = 0;

  constructor(
    private readonly store: EventStore,
    private readonly pool: Pool,
    private readonly auth: ReplayAuth,
    flow: ReplayFlowOptions = {},
  ) {
    this.flowLimits = { ...REPLAY_FLOW_DEFAULTS, ...flow };
  }

  /** Live replays, open connections, and readers closed for being too slow (since start). */
  stats(): { replays: number; connections: number; slowReaderCloses: number } {
    return { replays: this.sessions.size, connections: this.wss.clients.size, slowReaderCloses: this.slowReaderCloses };
  }

  /** Flow control for one stream; a reader stalled past the timeout is closed 1008 and cut a moment later. */
  private flow(ws: WebSocket, replay: ReplaySession<ReplayRow>): SendFlow {
    return new SendFlow(ws, replay, this.flowLimits, () => {
      this.slowReaderCloses++;
      // Closing first: the stopped replay's 'end' then finds the socket closing and sends no normal end.
      if (ws.readyState === WebSocket.OPEN) ws.close(SLOW_READER_CLOSE.code, SLOW_READER_CLOSE.reason);
      replay.stop();
      this.sessions.delete(replay);
      // The close frame waits behind the unread data: a reader that never reads would hold it for ws's 30 s.
      setTimeout(() => ws.terminate(), 1_000).unref();
    });
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://replay');
      if (!url.pathname.startsWith('/replay/')) return; // not ours: other upgrade handlers (none today) or a 404 by node
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        // A protocol violation by the client (a message over maxPayload, bad UTF-8, a bad frame): ws closes the
        // socket itself (1009/1007/1002) and emits 'error'; without a listener that 'error' is an uncaught
        // exception that ends the whole API process.
        ws.on('error', () => undefined);
        // Messages that arrive while the route looks the session up are kept, not lost (e.g. an auth message
        // sent right after the socket opened).
        const early: { data: Buffer; binary: boolean }[] = [];
        const keep = (data: Buffer, binary: boolean): void => void early.push({ data, binary });
        ws.on('message', keep);
        const conn: Conn = { ws, early, stopKeeping: () => ws.off('message', keep) };
        void this.route(conn, req, url).catch((e: unknown) => this.fail(ws, e));
      });
    });
  }

  close(): void {
    for (const s of this.sessions) s.stop();
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
  }

  private fail(ws: WebSocket, e: unknown): void {
    const code = e instanceof BadRequest ? e.code : e instanceof ReplayError ? REPLAY_CLOSE.badRequest : REPLAY_CLOSE.server;
    const message = e instanceof Error ? e.message : String(e);
    if (ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: 'error', code, message }));
      ws.close(code, message.slice(0, 120));
    }
  }

  private async route(conn: Conn, req: IncomingMessage, url: URL): Promise<void> {
    const ms = /^\/replay\/moltstation\/ws\/([a-z0-9_-]+)\/spectate$/.exec(url.pathname);
    if (ms) return this.moltstation(conn, url, ms[1] as string);
    if (url.pathname === '/replay/spacemolt/ws') return this.spacemolt(conn.ws, req, url);
    const generic = /^\/replay\/([^/]+)$/.exec(url.pathname);
    if (generic) return this.generic(conn, req, url, decodeURIComponent(generic[1] as string));
    throw new BadRequest(REPLAY_CLOSE.notFound, `no replay endpoint at ${url.pathname.slice(0, 80)}`);
  }

  /**
   * A stream's source: pages of 100 rows, the first page 40–160 rows at random, so that streams started
   * together do not all refill in the same instant (hundreds of page reads at once stall the event loop).
   */
  private source(sessionId: string) {
    return replayRowSource(this.store, sessionId, { pageSize: 100, firstPageSize: 40 + Math.floor(Math.random() * 121) });
  }

  private async session(id: string): Promise<SessionRecord> {
    const s = await this.store.getSession(id); // null for an unknown id, or one that is not a uuid
    if (!s) throw new BadRequest(REPLAY_CLOSE.notFound, `session ${id.slice(0, 60)} not found`);
    return s;
  }

  private authorize(sessionId: string, req: IncomingMessage, url: URL, token?: string): void {
    const result = this.auth.check(sessionId, { apiKey: bearer(req) ?? url.searchParams.get('apiKey') ?? undefined, token: token ?? url.searchParams.get('token') ?? undefined });
    if (!result.ok) throw new BadRequest(REPLAY_CLOSE.unauthorized, result.reason);
  }

  private async generic(conn: Conn, req: IncomingMessage, url: URL, id: string): Promise<void> {
    const ws = conn.ws;
    const record = await this.session(id);
    this.authorize(record.id, req, url);
    const speed = speedOf(url.searchParams.get('speed'));
    const from = startOf(url);
    const skipIdleMs = skipIdleOf(url.searchParams.get('skipIdle'));
    // follow=1: a session still being recorded plays on as events are stored (live view), until it ends.
    const follow = flagOf(url.searchParams.get('follow'), 'follow');
    const stopFollowing = new AbortController();
    ws.on('close', () => stopFollowing.abort());
    const source = follow ? followSource(this.source(record.id), async () => (await this.store.getSession(record.id))?.status === 'open', { signal: stopFollowing.signal }) : this.source(record.id);
    const replay = new ReplaySession<ReplayRow>(source, { speed, ...(from ? { from } : {}), ...(skipIdleMs !== undefined ? { skipIdleMs } : {}) });
    this.sessions.add(replay);
    const flow = this.flow(ws, replay);
    ws.send(JSON.stringify({ type: 'hello', session: { id: record.id, platform: record.platform, game: record.game, events: record.headSeq, status: record.status }, speed }));
    replay.on('event', (em) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify(envelope(em.event)));
      flow.sent();
    });
    replay.on('marker', (m) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ type: 'marker', ...m }));
      flow.sent();
    });
    replay.on('end', (summary) => {
      this.sessions.delete(replay);
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ type: 'end', emitted: summary.emitted, lastSeq: summary.lastSeq, stopped: summary.stopped }));
      ws.close(REPLAY_CLOSE.done, 'end of session');
    });
    replay.on('error', (e) => {
      this.sessions.delete(replay);
      this.fail(ws, e);
    });
    ws.on('close', () => {
      replay.stop();
      this.sessions.delete(replay);
    });
    await replay.start();
    // Control messages apply to a started replay (early ones were kept until now).
    onMessages(conn, (data, binary) => void this.control(ws, replay, flow, data, binary));
  }

  /** Control messages: `{type:"pause"|"resume"}`, `{type:"speed",speed}`, `{type:"seek",seq}|{type:"seek",offsetUs}`. */
  private async control(ws: WebSocket, replay: ReplaySession<ReplayRow>, flow: SendFlow, data: Buffer, binary: boolean): Promise<void> {
    const answer = (o: object) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(o));
    if (binary || data.length > MAX_CONTROL_BYTES) return void answer({ type: 'error', code: 'bad_control', message: 'control messages are JSON text under 4 KiB' });
    let msg: Record<string, unknown>;
    try {
      const v = JSON.parse(data.toString('utf8')) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      msg = v as Record<string, unknown>;
    } catch {
      return void answer({ type: 'error', code: 'bad_control', message: 'a control message is a JSON object with a "type"' });
    }
    try {
      switch (msg['type']) {
        case 'pause':
          flow.pauseByClient();
          break;
        case 'resume':
          flow.resumeByClient();
          break;
        case 'speed':
          replay.setSpeed(Number(msg['speed']));
          break;
        case 'seek':
          if (typeof msg['seq'] === 'number') await replay.seek({ seq: msg['seq'] });
          else if (typeof msg['offsetUs'] === 'number') await replay.seek({ offsetUs: msg['offsetUs'] });
          else throw new BadRequest(REPLAY_CLOSE.badRequest, 'seek needs a numeric "seq" or "offsetUs"');
          break;
        default:
          throw new BadRequest(REPLAY_CLOSE.badRequest, `unknown control "${String(msg['type']).slice(0, 40)}" (pause, resume, speed, seek)`);
      }
      answer({ type: 'state', state: flow.state, speed: replay.speed });
    } catch (e) {
      answer({ type: 'error', code: 'bad_control', message: (e as Error).message });
    }
  }

  private async moltstationRecording(platformSessionId: string): Promise<SessionRecord> {
    // Any game: a token for the run on the wrong game's path is refused below as the platform does (4001).
    const id = await findMoltstationRecording(this.pool, platformSessionId);
    if (!id) throw new BadRequest(4404, 'TOKEN_NOT_FOUND');
    return this.session(id);
  }

  private async moltstation(conn: Conn, url: URL, slug: string): Promise<void> {
    const ws = conn.ws;
    const platformSessionId = url.searchParams.get('sessionId');
    // MoltStation's own close codes and reasons, as a real spectator client expects them.
    const close = (code: number, reason: string) => ws.readyState === WebSocket.OPEN && ws.close(code, reason);
    if (!platformSessionId) return void close(4001, 'INVALID_TOKEN');
    let record: SessionRecord;
    try {
      record = await this.moltstationRecording(platformSessionId);
    } catch {
      return void close(4404, 'TOKEN_NOT_FOUND');
    }
    if (record.game && record.game !== slug) return void close(4001, 'INVALID_TOKEN');
    const queryToken = url.searchParams.get('token');
    const token = queryToken !== null ? queryToken : await firstAuthMessage(conn);
    if (!token) return void close(4001, 'INVALID_TOKEN');
    const checked = this.auth.check(record.id, { token });
    if (!checked.ok) return void close(checked.reason.includes('expired') ? 4410 : 4001, checked.reason.includes('expired') ? 'TOKEN_EXPIRED' : 'INVALID_TOKEN');
    ws.send(JSON.stringify({ t: 'hello', role: 'spectate', tickHz: 20 }));
    const replay = new ReplaySession<ReplayRow>(this.source(record.id), { speed: 1 });
    this.sessions.add(replay);
    const flow = this.flow(ws, replay);
    let lastReason = 'GAME_OVER';
    replay.on('event', ({ event: e }) => {
      if (e.kind === 'frame' && e.direction === 'platform_to_client' && typeof e.body === 'string' && ws.readyState === WebSocket.OPEN) {
        ws.send(e.body);
        flow.sent();
      }
      if (e.msgType === 'ws-close' && e.meta) {
        const reason = (JSON.parse(e.meta) as { reason?: string }).reason;
        if (reason === 'GAME_OVER' || reason === 'EXIT') lastReason = reason;
      }
    });
    replay.on('end', () => {
      this.sessions.delete(replay);
      close(1000, lastReason);
    });
    replay.on('error', () => {
      this.sessions.delete(replay);
      close(1011, 'INTERNAL');
    });
    ws.on('close', () => {
      replay.stop();
      this.sessions.delete(replay);
    });
    await replay.start();
  }

  private async spacemolt(ws: WebSocket, req: IncomingMessage, url: URL): Promise<void> {
    const record = await this.session(url.searchParams.get('sessionId') ?? '');
    if (record.platform !== 'spacemolt') throw new BadRequest(REPLAY_CLOSE.badRequest, `session ${record.id} is not a SpaceMolt session`);
    this.authorize(record.id, req, url);
    const replay = new ReplaySession<ReplayRow>(this.source(record.id), { speed: speedOf(url.searchParams.get('speed')) });
    this.sessions.add(replay);
    const flow = this.flow(ws, replay);
    replay.on('event', ({ event: e }) => {
      if (e.channel === 'play_ws' && e.direction === 'platform_to_client' && e.kind !== 'lifecycle' && ws.readyState === WebSocket.OPEN) {
        ws.send(e.body ?? '');
        flow.sent();
      }
    });
    replay.on('end', () => {
      this.sessions.delete(replay);
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'end of recording');
    });
    replay.on('error', (e) => this.fail(ws, e));
    ws.on('close', () => replay.stop());
    await replay.start();
  }
}

/** The MoltStation auth message `{"t":"auth","token":"…"}` (10 s to send it), or null; later messages are ignored, as spectators may not talk. */
function firstAuthMessage(conn: Conn): Promise<string | null> {
  return new Promise((resolve) => {
    let first = true;
    const timer = setTimeout(() => resolve(null), 10_000);
    onMessages(conn, (data, binary) => {
      if (!first) return;
      first = false;
      clearTimeout(timer);
      if (binary) return resolve(null);
      try {
        const m = JSON.parse(data.toString('utf8')) as { t?: unknown; token?: unknown };
        resolve(m.t === 'auth' && typeof m.token === 'string' && m.token ? m.token : null);
      } catch {
        resolve(null);
      }
    });
  });
}
