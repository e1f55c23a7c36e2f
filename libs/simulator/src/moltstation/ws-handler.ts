/**
 * /ws/{slug}/play and /ws/{slug}/spectate (reference §4.1): auth by `?token=` (legacy, SR runtime) or by
 * a first `{"t":"auth","token":…}` message (current); hello; client messages; never crashes on bad input.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { splitPath } from '../core/http';
import { Conn } from './connection';
import { CLOSE, errorMessage, isProtocolError, isSlug, parseClientMessage, redact, Role, Slug } from './protocol';
import type { MoltStationState } from './sessions';

/** Hard cap enforced by `ws` itself (close 1009, no reason); our own MESSAGE_TOO_LARGE limit is lower. */
export const WS_MAX_PAYLOAD = 64 * 1024;

export class MoltWsHandler {
  readonly wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD });

  constructor(private readonly state: MoltStationState) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): boolean {
    if (this.state.isClosed) return false;
    const { segments, query } = splitPath(path);
    if (segments.length !== 3 || segments[0] !== 'ws' || !isSlug(segments[1]) || (segments[2] !== 'play' && segments[2] !== 'spectate')) return false;
    const slug = segments[1];
    const role = segments[2] as Role;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, slug, role, query));
    return true;
  }

  private onConnection(ws: WebSocket, slug: Slug, role: Role, query: URLSearchParams): void {
    const state = this.state;
    const conn = new Conn(ws);
    state.conns.add(conn);
    ws.on('error', () => undefined);
    ws.on('close', () => {
      state.clearTimer(authTimer);
      state.detach(conn);
    });
    let authed = false;
    const sessionId = query.get('sessionId');
    const authenticate = (token: string, style: 'query' | 'message'): void => {
      state.clearTimer(authTimer);
      const result = state.tokens.consume(token, role, slug, sessionId);
      if (!result.ok) {
        state.ctx.log(`${role} auth (${style}) refused for ${sessionId ?? '-'} token ${redact(token)}: ${result.close.reason}`);
        return conn.close(result.close);
      }
      const session = state.sessions.get(result.record.sessionId);
      if (!session) return conn.close(CLOSE.INVALID_TOKEN);
      authed = true;
      conn.role = role;
      conn.sessionId = session.id;
      state.ctx.log(`${role} socket authenticated (${style}) for ${session.id}`);
      if (role === 'play') state.attachPlayer(session, conn);
      else state.attachSpectator(session, conn);
    };
    const authTimer = state.addTimer(() => {
      if (!authed) conn.close(CLOSE.INVALID_TOKEN);
    }, state.options.authTimeoutMs);

    ws.on('message', (raw, isBinary) => {
      try {
        const data = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw as ArrayBuffer);
        if (conn.closing) return;
        if (data.length > state.options.maxMessageBytes) return conn.close(CLOSE.MESSAGE_TOO_LARGE);
        if (!authed) {
          // Anything but a well-formed auth message before authentication → INVALID_TOKEN (reference §9.2).
          const msg = isBinary ? undefined : parseClientMessage(data.toString('utf8'));
          if (!msg || isProtocolError(msg) || msg.t !== 'auth') return conn.close(CLOSE.INVALID_TOKEN);
          return authenticate(msg.token, 'message');
        }
        if (isBinary) return conn.sendText(errorMessage({ code: 'BINARY_NOT_SUPPORTED', message: 'send JSON text messages' }));
        const msg = parseClientMessage(data.toString('utf8'));
        if (isProtocolError(msg)) return conn.sendText(errorMessage(msg));
        if (msg.t === 'auth') return; // already authenticated (e.g. query token + auth message): ignored
        const session = conn.sessionId ? state.sessions.get(conn.sessionId) : undefined;
        if (!session || session.status === 'ended') return;
        if (role === 'spectate') return conn.sendText(errorMessage({ code: 'READ_ONLY', message: 'spectate sockets send nothing after auth' }));
        if (msg.t === 'cmd' && msg.cmd === 'exit') return state.endRun(session, 'exit');
        const err = session.game.apply(msg);
        if (err) conn.sendText(errorMessage(err));
      } catch (e) {
        state.ctx.log(`ws message error: ${(e as Error).stack ?? e}`);
      }
    });

    const queryToken = query.get('token');
    if (queryToken !== null) {
      if (queryToken === '') conn.close(CLOSE.INVALID_TOKEN);
      else authenticate(queryToken, 'query');
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}
