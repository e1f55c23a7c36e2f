import type { IncomingMessage } from 'node:http';
import { ArgumentsHost, Catch, ExceptionFilter, Inject, Logger, OnModuleDestroy, Optional, UseFilters } from '@nestjs/common';
import { ConnectedSocket, MessageBody, OnGatewayConnection, OnGatewayDisconnect, SubscribeMessage, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import WebSocket, { WebSocketServer as WsServer } from 'ws';
import type { Pool } from '@rewind/db';
import { PG_POOL } from '@rewind/db';
import { EventStore, ReplayRow, SessionRecord } from '@rewind/event-store';
import { envelope, EventSource, followSource, ReplayMarker, ReplayOptions, replayRowSource, ReplayError, ReplaySession, ReplaySummary, SeekTarget, SharedTimers, validateSpeed } from '@rewind/replay';
import type { WsCloseFrame } from '@rewind/platforms';
import { findRunRecording } from './recordings';
import { ReplayAuth } from './replay-auth';
import { ControlMessage, REPLAY_EVENTS, REPLAY_PATH, replayRoute, ReplayRoute, requestUrl } from './routes';
import { REPLAY_FLOW_DEFAULTS, ReplayFlowOptions, SendFlow, SLOW_READER_CLOSE } from './send-flow';
import { replayStreamSources, rewindMetrics } from '@rewind/observability';

export { REPLAY_FLOW_DEFAULTS, ReplayFlowOptions, SLOW_READER_CLOSE } from './send-flow';

/** rewind_replay_lateness_seconds, bound once: the send path only adds to numbers. */
const replayLateness = rewindMetrics.replayLateness.labels();

/** Close codes of the replay gateway (4xxx: the request was wrong; the reason says what). */
export const REPLAY_CLOSE = { badRequest: 4400, unauthorized: 4401, notFound: 4404, done: 1000, server: 1011 } as const;

/** Injection token of the gateway's flow limits (`ReplayFlowOptions`); optional, the defaults otherwise. */
export const REPLAY_FLOW = Symbol('REPLAY_FLOW');

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

/** A replay being played on a socket: what its controls act on. */
interface Playing {
  replay: ReplaySession<ReplayRow>;
  flow: SendFlow;
}

/**
 * The first message of a MoltStation spectate socket (its auth message), whenever it comes: before the
 * gateway looked the recording up, or up to 10 s after it asks; later messages are ignored (spectators may not talk).
 */
class FirstMessage {
  private value: string | null | undefined;
  private waiter: ((token: string | null) => void) | null = null;

  offer(token: string | null): void {
    if (this.value !== undefined) return;
    this.value = token;
    this.waiter?.(token);
  }

  wait(timeoutMs: number): Promise<string | null> {
    if (this.value !== undefined) return Promise.resolve(this.value);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.offer(null), timeoutMs);
      this.waiter = (token) => {
        clearTimeout(timer);
        resolve(token);
      };
    });
  }
}

/** One socket of the gateway, from its upgrade to its close. */
class Conn {
  /** Aborted when the socket closes: stops a follow stream's polling, and a stream still being set up. */
  readonly closed = new AbortController();
  /** The auth message, on a platform stream that authenticates by message (MoltStation's spectate socket). */
  readonly firstMessage: FirstMessage | null;
  /** The replay once started (set by the one wiring, `play`), stopped when the socket closes. */
  playing: Playing | null = null;
  /** Settles once the stream started (its replay) or could not (null): controls wait for it, in their order. */
  readonly ready: Promise<Playing | null>;
  settle!: (playing: Playing | null) => void;

  constructor(
    readonly ws: WebSocket,
    readonly route: ReplayRoute,
  ) {
    this.firstMessage = route.kind === 'platform' && route.stream.authMessage ? new FirstMessage() : null;
    this.ready = new Promise((resolve) => (this.settle = resolve));
  }
}

/** How one endpoint turns a replay into its wire protocol; the wiring (`play`) is the same for all. */
interface StreamProtocol {
  /** The frame to send for a replayed row, or undefined to send none (checked: the socket is open). */
  event(row: ReplayRow): string | Buffer | undefined;
  /** The recorded close that ends the stream when `row` is it (a platform stream): the socket closes with it then, nothing more is played. */
  close?(row: ReplayRow): WsCloseFrame | undefined;
  marker?(m: ReplayMarker): string;
  /** The replay reached its end (the socket is open). */
  end(summary: ReplaySummary): void;
  /** The replay's source failed mid-stream (the socket is open). */
  error(e: unknown): void;
}

/** A control message's error answer `{type:"error",code:"bad_control",message}`; the stream goes on. */
@Catch()
class ControlErrors implements ExceptionFilter {
  catch(e: unknown, host: ArgumentsHost): void {
    const ws = host.switchToWs().getClient<WebSocket>();
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'error', code: 'bad_control', message: e instanceof Error ? e.message : String(e) }));
  }
}

/**
 * The replay gateway's WebSockets, on the API's HTTP server (a Nest gateway, through `ReplayWsAdapter`):
 * - `/replay/:sessionId?speed=&fromSeq=|from=&skipIdle=&follow=` — every event in the documented envelope, with
 *   control messages (pause, resume, speed, seek: the `@SubscribeMessage` handlers below);
 * - `/replay/moltstation/ws/{slug}/spectate?sessionId=<platform session id>` — MoltStation's own spectate
 *   protocol (both auth styles, `hello`, the recorded frames' exact text, the recorded `1000 GAME_OVER`/`EXIT`),
 *   so an unmodified spectator client pointed at `/replay/moltstation` watches the recorded run as if live;
 * - `/replay/spacemolt/ws?sessionId=<recorded session id>` — SpaceMolt's server→client stream as recorded.
 * Platform streams end with the recording's own close at its recorded time (the platform module's rule), or,
 * when the recording was cut short, with the module's end close after the last event.
 * Authentication: an API key (`Authorization: Bearer`, or `apiKey=`) or a replay token (`token=` or the
 * MoltStation auth message). See docs/replay.md.
 *
 * Nest owns the sockets: `handleConnection` looks the session up and checks the credential, `handleDisconnect`
 * stops the socket's replay, control messages come through the handlers, and the module's destruction stops every
 * replay before the database pool closes. The replayed events do not go through Nest: each is sent on its socket
 * by the replay's own listener (`play`), the stored bytes as they are.
 */
@WebSocketGateway({ path: REPLAY_PATH, maxPayload: 64 * 1024 })
@UseFilters(new ControlErrors())
export class ReplayGateway implements OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy {
  /** The gateway's ws server (created by the adapter; its `clients` are the open sockets). */
  @WebSocketServer() server!: WsServer;
  private readonly logger = new Logger('ReplayGateway');
  private readonly conns = new Map<WebSocket, Conn>();
  private readonly sessions = new Set<ReplaySession<ReplayRow>>();
  private readonly flowLimits: Required<ReplayFlowOptions>;
  private slowReaderCloses = 0;
  private closing = false;
  /** One scheduler for every replay of this gateway (one host timer, not one per stream per event). */
  private readonly timers = new SharedTimers();

  constructor(
    private readonly store: EventStore,
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly auth: ReplayAuth,
    @Optional() @Inject(REPLAY_FLOW) flow: ReplayFlowOptions | null = null,
  ) {
    this.flowLimits = { ...REPLAY_FLOW_DEFAULTS, ...(flow ?? {}) };
    // rewind_replay_streams: the replays playing here, read when scraped.
    this.unregisterMetrics = replayStreamSources.add(() => this.sessions.size);
  }

  private readonly unregisterMetrics: () => void;

  /** Live replays, open connections, and readers closed for being too slow (since start). */
  stats(): { replays: number; connections: number; slowReaderCloses: number } {
    return { replays: this.sessions.size, connections: this.server?.clients.size ?? 0, slowReaderCloses: this.slowReaderCloses };
  }

  /** A new socket (its upgrade request alongside): routed by its path; refusals close it with the reason. */
  handleConnection(ws: WebSocket, req: IncomingMessage): void {
    const url = requestUrl(req.url);
    const conn = new Conn(ws, replayRoute(url.pathname));
    this.conns.set(ws, conn);
    if (this.closing) return void ws.terminate();
    void this.open(conn, req, url);
  }

  handleDisconnect(ws: WebSocket): void {
    const conn = this.conns.get(ws);
    if (!conn) return;
    this.conns.delete(ws);
    conn.closed.abort();
    conn.firstMessage?.offer(null);
    if (conn.playing) this.release(conn.playing);
  }

  /** Shutdown: every replay stops and every socket is cut before the database pool closes (DbModule's own destroy hook, after this one). */
  onModuleDestroy(): void {
    this.closing = true;
    this.unregisterMetrics();
    for (const s of this.sessions) s.stop();
    this.sessions.clear();
    for (const c of this.server?.clients ?? []) c.terminate();
  }

  @SubscribeMessage(REPLAY_EVENTS.pause)
  async pause(@ConnectedSocket() ws: WebSocket) {
    const p = await this.controlled(ws);
    if (!p) return undefined;
    p.flow.pauseByClient();
    return stateOf(p);
  }

  @SubscribeMessage(REPLAY_EVENTS.resume)
  async resume(@ConnectedSocket() ws: WebSocket) {
    const p = await this.controlled(ws);
    if (!p) return undefined;
    p.flow.resumeByClient();
    return stateOf(p);
  }

  @SubscribeMessage(REPLAY_EVENTS.speed)
  async speed(@ConnectedSocket() ws: WebSocket, @MessageBody() msg: ControlMessage) {
    const p = await this.controlled(ws);
    if (!p) return undefined;
    p.replay.setSpeed(Number(msg['speed']));
    return stateOf(p);
  }

  @SubscribeMessage(REPLAY_EVENTS.seek)
  async seek(@ConnectedSocket() ws: WebSocket, @MessageBody() msg: ControlMessage) {
    const p = await this.controlled(ws);
    if (!p) return undefined;
    const seeking = rewindMetrics.replaySeek.startTimer();
    if (typeof msg['seq'] === 'number') await p.replay.seek({ seq: msg['seq'] });
    else if (typeof msg['offsetUs'] === 'number') await p.replay.seek({ offsetUs: msg['offsetUs'] });
    else throw new BadRequest(REPLAY_CLOSE.badRequest, 'seek needs a numeric "seq" or "offsetUs"');
    seeking();
    return stateOf(p);
  }

  /** Not a control message (not JSON, too big, an unknown type): the error answer, in its turn among the controls. */
  @SubscribeMessage(REPLAY_EVENTS.badControl)
  async badControl(@ConnectedSocket() ws: WebSocket, @MessageBody() problem: string): Promise<void> {
    if (await this.controlled(ws)) throw new BadRequest(REPLAY_CLOSE.badRequest, problem);
  }

  @SubscribeMessage(REPLAY_EVENTS.spectateAuth)
  spectateAuth(@ConnectedSocket() ws: WebSocket, @MessageBody() token: string | null): void {
    this.conns.get(ws)?.firstMessage?.offer(token);
  }

  /** The socket's started replay: controls sent early wait for the start (after `hello`), in the order sent. */
  private controlled(ws: WebSocket): Promise<Playing | null> | null {
    return this.conns.get(ws)?.ready ?? null;
  }

  private async open(conn: Conn, req: IncomingMessage, url: URL): Promise<void> {
    try {
      conn.settle((await this.route(conn, req, url)) ?? null);
    } catch (e) {
      conn.settle(null);
      this.fail(conn.ws, e);
    }
  }

  private route(conn: Conn, req: IncomingMessage, url: URL): Promise<Playing | undefined> {
    const r = conn.route;
    if (r.kind === 'session') return this.generic(conn, req, url, r.sessionId);
    if (r.kind === 'platform') return r.stream.authCloses ? this.platformAuthStream(conn, url, r) : this.platformStream(conn, req, url, r);
    throw new BadRequest(REPLAY_CLOSE.notFound, `no replay endpoint at ${url.pathname.slice(0, 80)}`);
  }

  private fail(ws: WebSocket, e: unknown): void {
    const code = e instanceof BadRequest ? e.code : e instanceof ReplayError ? REPLAY_CLOSE.badRequest : REPLAY_CLOSE.server;
    const message = e instanceof Error ? e.message : String(e);
    if (code === REPLAY_CLOSE.server) this.logger.warn(`replay stream failed: ${message}`);
    if (ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: 'error', code, message }));
      ws.close(code, message.slice(0, 120));
    }
  }

  /**
   * A stream's source (of a session the caller has just read): pages of 100 rows, the first page 40–160 rows at
   * random, so that streams started together do not all refill in the same instant (hundreds of page reads at once
   * stall the event loop).
   * A seek (or a start at a position) reads 16 rows first: its first event is what the viewer waits for.
   */
  private source(sessionId: string) {
    // Every caller has just read the session (`session()`): the source does not read it again before its first page.
    return replayRowSource(this.store, sessionId, { pageSize: 100, firstPageSize: 40 + Math.floor(Math.random() * 121), seekPageSize: 16, sessionKnown: true });
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

  /**
   * The one wiring of a replay to a socket, for every endpoint: the replay is counted while it lives, flow
   * control watches every send, and the replay is stopped and uncounted whichever way it ends (its end, a source
   * error, a failed start, the socket's close, a stalled reader). The send path is the replay's listener: a
   * frame from the endpoint's protocol, `ws.send`, the flow check.
   */
  private async play(conn: Conn, source: EventSource<ReplayRow>, options: ReplayOptions, protocol: StreamProtocol): Promise<Playing | undefined> {
    const ws = conn.ws;
    if (conn.closed.signal.aborted) return undefined; // the client left while the stream was being set up
    const replay = new ReplaySession<ReplayRow>(source, { ...options, clock: this.timers });
    const playing: Playing = { replay, flow: this.flow(ws, replay) };
    const flow = playing.flow;
    this.sessions.add(replay);
    conn.playing = playing;
    const recordedClose = protocol.close;
    replay.on('event', ({ event, latenessMs }) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const close = recordedClose?.(event);
      if (close) {
        // The recording's own close, at its recorded time: the socket closes first, so the stopped replay's 'end' sends nothing more.
        closeWith(ws, close);
        this.release(playing);
        return;
      }
      const frame = protocol.event(event);
      if (frame === undefined) return;
      ws.send(frame);
      flow.sent();
      replayLateness.observe(latenessMs > 0 ? latenessMs / 1000 : 0);
    });
    const marker = protocol.marker;
    if (marker) {
      replay.on('marker', (m) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        ws.send(marker(m));
        flow.sent();
      });
    }
    replay.on('end', (summary) => {
      this.release(playing);
      if (ws.readyState === WebSocket.OPEN) protocol.end(summary);
    });
    replay.on('error', (e) => {
      this.release(playing);
      if (ws.readyState === WebSocket.OPEN) protocol.error(e);
    });
    try {
      await replay.start();
    } catch (e) {
      this.release(playing);
      throw e;
    }
    return playing;
  }

  /** A replay ends: stopped (if it still plays), uncounted, its flow poll cleared. Idempotent. */
  private release(p: Playing): void {
    p.replay.stop();
    p.flow.dispose();
    this.sessions.delete(p.replay);
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

  private async generic(conn: Conn, req: IncomingMessage, url: URL, id: string): Promise<Playing | undefined> {
    const ws = conn.ws;
    const record = await this.session(id);
    this.authorize(record.id, req, url);
    const speed = speedOf(url.searchParams.get('speed'));
    const from = startOf(url);
    const skipIdleMs = skipIdleOf(url.searchParams.get('skipIdle'));
    // follow=1: a session still being recorded plays on as events are stored (live view), until it ends.
    const follow = flagOf(url.searchParams.get('follow'), 'follow');
    const source = follow ? followSource(this.source(record.id), async () => (await this.store.getSession(record.id))?.status === 'open', { signal: conn.closed.signal }) : this.source(record.id);
    if (ws.readyState === WebSocket.OPEN)
      ws.send(JSON.stringify({ type: 'hello', session: { id: record.id, platform: record.platform, game: record.game, events: record.headSeq, status: record.status }, speed }));
    return this.play(
      conn,
      source,
      { speed, ...(from ? { from } : {}), ...(skipIdleMs !== undefined ? { skipIdleMs } : {}) },
      {
        event: (e) => JSON.stringify(envelope(e)),
        marker: (m) => JSON.stringify({ type: 'marker', ...m }),
        end: (summary) => {
          ws.send(JSON.stringify({ type: 'end', emitted: summary.emitted, lastSeq: summary.lastSeq, stopped: summary.stopped }));
          ws.close(REPLAY_CLOSE.done, 'end of session');
        },
        error: (e) => this.fail(ws, e),
      },
    );
  }

  /**
   * A platform stream that authenticates as the platform does (MoltStation's spectate socket): the run found by
   * the platform's own session id, a token in the query or the first message, the platform's own close codes
   * and reasons for a refusal, its hello, then the recording in its protocol at speed 1.
   */
  private async platformAuthStream(conn: Conn, url: URL, route: Extract<ReplayRoute, { kind: 'platform' }>): Promise<Playing | undefined> {
    const ws = conn.ws;
    const { stream } = route;
    const closes = stream.authCloses as NonNullable<typeof stream.authCloses>;
    const close = (c: WsCloseFrame) => closeWith(ws, c);
    const platformSessionId = url.searchParams.get('sessionId');
    if (!platformSessionId) return void close(closes.invalid);
    let record: SessionRecord;
    try {
      // Any game: a token for the run on the wrong game's path is refused below as the platform does.
      const id = stream.lookup === 'platform-session-id' ? await findRunRecording(this.pool, route.platform.id, platformSessionId) : platformSessionId;
      if (!id) throw new BadRequest(closes.notFound.code, closes.notFound.reason);
      record = await this.session(id);
    } catch {
      return void close(closes.notFound);
    }
    if (record.platform !== route.platform.id || (record.game && route.params['slug'] !== undefined && record.game !== route.params['slug'])) return void close(closes.invalid);
    const queryToken = url.searchParams.get('token');
    const token = queryToken !== null ? queryToken : await (conn.firstMessage as FirstMessage).wait(10_000);
    if (!token) return void close(closes.invalid);
    const checked = this.auth.check(record.id, { token });
    if (!checked.ok) return void close(checked.reason.includes('expired') ? closes.expired : closes.invalid);
    if (stream.hello !== undefined && ws.readyState === WebSocket.OPEN) ws.send(stream.hello);
    const encoder = stream.encoder();
    return this.play(
      conn,
      this.source(record.id),
      { speed: 1 },
      { event: (e) => encoder.frame(e), close: (e) => encoder.close?.(e), end: () => close(encoder.end()), error: (e) => (encoder.error ? close(encoder.error()) : this.fail(ws, e)) },
    );
  }

  /**
   * A platform stream of a session named by its id (SpaceMolt's `/ws`), authorised like the generic stream (an
   * API key or a replay token); the recording in the platform's protocol, at the asked speed.
   */
  private async platformStream(conn: Conn, req: IncomingMessage, url: URL, route: Extract<ReplayRoute, { kind: 'platform' }>): Promise<Playing | undefined> {
    const ws = conn.ws;
    const record = await this.session(url.searchParams.get('sessionId') ?? '');
    if (record.platform !== route.platform.id) throw new BadRequest(REPLAY_CLOSE.badRequest, `session ${record.id} is not a ${route.platform.title} session`);
    this.authorize(record.id, req, url);
    const encoder = route.stream.encoder();
    return this.play(
      conn,
      this.source(record.id),
      { speed: speedOf(url.searchParams.get('speed')) },
      {
        event: (e) => encoder.frame(e),
        close: (e) => encoder.close?.(e),
        end: () => closeWith(ws, encoder.end()),
        error: (e) => (encoder.error ? closeWith(ws, encoder.error()) : this.fail(ws, e)),
      },
    );
  }
}

/** The answer to a control: `{type:"state",state,speed}` (a flow pause alone shows as playing). */
function stateOf(p: Playing): { type: 'state'; state: string; speed: number } {
  return { type: 'state', state: p.flow.state, speed: p.replay.speed };
}

/**
 * Closes a platform stream's socket (if open) as the recording closed: 1005 (no code was sent) as a close without
 * a code, 1006 (the connection was cut) as a cut, any other code a close frame cannot carry as a close without one;
 * the reason cut to the 123 bytes a close frame holds.
 */
export function closeWith(ws: WebSocket, c: WsCloseFrame): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  if (c.code === 1006) return void ws.terminate();
  if (!sendableCloseCode(c.code)) return void ws.close();
  let reason = Array.from(c.reason);
  while (Buffer.byteLength(reason.join('')) > 123) reason = reason.slice(0, -1);
  ws.close(c.code, reason.join(''));
}

/** A code a close frame may carry (RFC 6455 §7.4: 1000–1003, 1007–1014, 3000–4999). */
function sendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}
