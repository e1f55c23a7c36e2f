import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SPECTATE_TOKEN_PATHS } from './cors';
import { REPLAY_PATH, replayRoute, requestUrl } from './routes';

/** The platforms whose clients the replay gateway serves at the root of a port of their own. */
export type RootPlatform = 'moltstation' | 'spacemolt';

/** The replay gateway's per-platform ports (REWIND_REPLAY_PORT_MOLTSTATION / _SPACEMOLT; 0 or absent: off) and the address they listen on. */
export interface ReplayPorts {
  moltstation?: number;
  spacemolt?: number;
  /** Default 127.0.0.1, as the API's own port. */
  host?: string;
}

/** Injection token of the per-platform ports (AppModule provides it from the API's options). */
export const REPLAY_PORTS = Symbol('REPLAY_PORTS');

/** What one root port serves: its platform's paths, which are the gateway's `/replay/<platform>/…` paths with the prefix dropped. */
interface RootLayout {
  title: string;
  /** The configuration variable of its port, named in a failure to listen. */
  variable: string;
  /** The gateway's path prefix of this platform: a root path `/p` is the gateway's `<prefix>/p`. */
  prefix: string;
  /** The plain HTTP endpoints served there (as prefixed paths): MoltStation's spectate-token endpoints; SpaceMolt has none. */
  http: readonly RegExp[];
}

const LAYOUTS: Record<RootPlatform, RootLayout> = {
  moltstation: { title: 'MoltStation', variable: 'REWIND_REPLAY_PORT_MOLTSTATION', prefix: `${REPLAY_PATH}/moltstation`, http: SPECTATE_TOKEN_PATHS },
  spacemolt: { title: 'SpaceMolt', variable: 'REWIND_REPLAY_PORT_SPACEMOLT', prefix: `${REPLAY_PATH}/spacemolt`, http: [] },
};

/**
 * The gateway's path of a root path on `platform`'s port (`/ws/flappybots/spectate?…` → `/replay/moltstation/ws/flappybots/spectate?…`),
 * or null when the port does not serve it: an upgrade must be the platform's replay stream (`routes.ts`), a plain request
 * one of its HTTP endpoints. The path is the parsed, normalised one (dot segments resolved), so what is checked here is
 * exactly what the gateway routes.
 */
export function rootToGatewayPath(platform: RootPlatform, rawUrl: string | undefined, upgrade: boolean): string | null {
  const layout = LAYOUTS[platform];
  let url: URL;
  try {
    url = requestUrl(rawUrl);
  } catch {
    return null;
  }
  const path = `${layout.prefix}${url.pathname}`;
  if (upgrade) {
    const route = replayRoute(path);
    if (route.kind !== 'platform' || route.platform.id !== platform) return null;
  } else if (!layout.http.some((re) => re.test(path))) {
    return null;
  }
  return `${path}${url.search}`;
}

/**
 * The replay gateway's per-platform listeners, owned by the API's lifecycle: an HTTP server per configured port,
 * listening at bootstrap and closed on shutdown. Each serves its platform's own paths at the root, for unmodified
 * clients that build their URLs from a bare origin with absolute paths (MoltStation's runtimes:
 * `new URL('/ws/' + slug + '/spectate', base)` drops any path of the base, so `/replay/moltstation` cannot be in it).
 *
 * No replay logic here: a request this port serves gets the gateway's own path (`rootToGatewayPath`) and is handed to
 * the API's HTTP server as it is — an upgrade to `ReplayWsAdapter` and so the gateway's one `play()` wiring, a token
 * request to the same CORS, guards and `ReplayTokenController` as on the prefixed form. Authentication, the recording's
 * selection and every answer are therefore identical on both forms. Anything else is answered `404` at once, a
 * WebSocket upgrade included (never a hang).
 */
@Injectable()
export class ReplayPlatformListeners implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly servers = new Map<RootPlatform, Server>();
  /** Every socket accepted by these servers (upgraded ones included, which the HTTP server no longer tracks): cut on shutdown. */
  private readonly sockets = new Set<Duplex>();
  private closing = false;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(REPLAY_PORTS) private readonly ports: ReplayPorts,
  ) {}

  /** The port each listener is bound to (the ones that are on). */
  addresses(): Partial<Record<RootPlatform, number>> {
    const out: Partial<Record<RootPlatform, number>> = {};
    for (const [platform, server] of this.servers) {
      const a = server.address() as AddressInfo | null;
      if (a) out[platform] = a.port;
    }
    return out;
  }

  async onApplicationBootstrap(): Promise<void> {
    const api = this.adapterHost.httpAdapter.getHttpServer() as Server;
    const host = this.ports.host ?? '127.0.0.1';
    try {
      for (const platform of Object.keys(LAYOUTS) as RootPlatform[]) {
        const port = this.ports[platform];
        if (!port || this.closing) continue;
        const server = this.serve(platform, api);
        this.servers.set(platform, server);
        await listen(server, port, host).catch((e: NodeJS.ErrnoException) => {
          throw new Error(`the ${LAYOUTS[platform].title} replay port ${host}:${port} (${LAYOUTS[platform].variable}) cannot listen: ${e.code ?? e.message}`);
        });
      }
    } catch (e) {
      await this.close(); // a start that fails half-way leaves no listener behind
      throw e;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  private serve(platform: RootPlatform, api: Server): Server {
    const layout = LAYOUTS[platform];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = this.closing ? null : rootToGatewayPath(platform, req.url, false);
      if (path === null) return notFound(res, layout, req.url);
      req.url = path;
      api.emit('request', req, res);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined); // a peer that resets mid-handshake is not the server's error
      const path = this.closing ? null : rootToGatewayPath(platform, req.url, true);
      if (path === null || api.listenerCount('upgrade') === 0) return void socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      req.url = path;
      api.emit('upgrade', req, socket, head);
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    return server;
  }

  /** Stops listening and cuts every connection (the gateway stops their replays on its own destruction). Idempotent. */
  private async close(): Promise<void> {
    this.closing = true;
    const servers = [...this.servers.values()];
    this.servers.clear();
    const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A request the port does not serve: 404 with a body that says what the port serves. */
function notFound(res: ServerResponse, layout: RootLayout, url: string | undefined): void {
  const body = JSON.stringify({ error: 'not_found', message: `no ${layout.title} replay endpoint at ${(url ?? '/').split('?')[0]!.slice(0, 80)}` });
  res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
