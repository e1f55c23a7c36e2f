import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import WebSocket, { WebSocketServer } from 'ws';
import { decodeReplayMessage, replayRoute, ReplayRoute, requestUrl } from './routes';

/** The API's own HTTP server (port 0 in a gateway's decorator: the gateway shares the API's port). */
const API_PORT = 0;

type PathServer = WebSocketServer & { path: string };

/**
 * `@nestjs/platform-ws`'s adapter, adapted to the replay gateway:
 * - path routing by prefix: a gateway declared with `path: '/replay'` serves every `/replay/…` upgrade (the
 *   session id and the platform streams are in the path), where the stock adapter matches the path exactly; an
 *   upgrade to a path no gateway serves is answered `404 Not Found` at once (the stock adapter drops the socket);
 * - client messages decoded by endpoint (`routes.ts`): the replay protocols' envelopes (`{"type":…}`,
 *   MoltStation's `{"t":"auth"}`) become the events of the gateway's `@SubscribeMessage` handlers, without the
 *   stock `{event, data}` envelope on the wire; a handler's return value is sent back as JSON;
 * - a client's protocol violation (a frame over `maxPayload`, bad UTF-8): ws closes that socket (1009/1007/1002)
 *   and emits 'error', which is the client's fault and not logged as the server's.
 * Replayed events are sent by the gateway straight on the socket: nothing here is on that path.
 */
export class ReplayWsAdapter extends WsAdapter {
  /** The endpoint of each socket, known from its upgrade request before any message arrives. */
  private readonly routes = new WeakMap<WebSocket, ReplayRoute>();

  protected override ensureHttpServerExists(port: number, httpServer?: Server): Server | undefined {
    if (port !== API_PORT || !httpServer) return super.ensureHttpServerExists(port, httpServer);
    if (this.httpServersRegistry.has(port)) return undefined;
    this.httpServersRegistry.set(port, httpServer);
    httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(port, req, socket, head));
    return httpServer;
  }

  private upgrade(port: number, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined); // a peer that resets mid-handshake is not the server's error
    let pathname: string;
    try {
      pathname = requestUrl(req.url).pathname;
    } catch {
      return refuse(socket, '400 Bad Request');
    }
    const servers = (this.wsServersRegistry.get(port) ?? []) as PathServer[];
    const server = servers.find((s) => pathname === s.path || pathname.startsWith(`${s.path}/`));
    if (!server) return refuse(socket, '404 Not Found');
    server.handleUpgrade(req, socket, head, (ws) => {
      this.routes.set(ws, replayRoute(pathname));
      server.emit('connection', ws, req);
    });
  }

  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    server.on('connection', (ws: WebSocket) => ws.on('error', (err) => this.logger.debug(`client socket: ${err.message}`)));
    server.on('error', (err) => this.logger.error(err));
    return server;
  }

  override bindMessageHandlers(client: WebSocket, handlers: MessageMappingProperties[], transform: (data: unknown) => Observable<unknown>): void {
    const byEvent = new Map<string, MessageMappingProperties>(handlers.map((h) => [String(h.message), h]));
    const route: ReplayRoute = this.routes.get(client) ?? { kind: 'unknown' };
    client.on('message', (data: Buffer, binary: boolean) => {
      const message = decodeReplayMessage(route, data, binary);
      const handler = message && byEvent.get(message.event);
      if (!message || !handler) return;
      transform(handler.callback(message.data, message.event)).subscribe({
        next: (reply) => {
          if (reply !== undefined && reply !== null && client.readyState === WebSocket.OPEN) client.send(JSON.stringify(reply));
        },
        error: (err: unknown) => this.logger.error(err),
      });
    });
  }
}

/** Answers an upgrade with an HTTP error and ends the socket (a client sees it at once, never a hang). */
function refuse(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
