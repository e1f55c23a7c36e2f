import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { type AdmissionDecision, refuseRequest, refuseUpgrade } from './admission';
import { FactEmitter } from './facts';
import { forwardHttp, sendProxyJson } from './http-forwarder';
import { parseUpstreams, RouteResult, routeRequestTarget, routeRootTarget } from './path-safety';
import {
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_HTTP_BODY_BYTES,
  DEFAULT_MAX_WS_MESSAGE_BYTES,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  ProxiedPlatform,
  RecordingProxyOptions,
  RunningRecordingProxy,
} from './types';
import { forwardUpgrade, rawHttpAnswer, validUpgradeRequest, WsContext } from './ws-forwarder';

const REASONS: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found' };

/**
 * How long an idle connection to a platform is kept for reuse (the upstream agents' `timeout`; a platform's shorter
 * `Keep-Alive: timeout=…` hint, less 1 s, wins). Without it node's agent ignores the hint (it only lowers a timeout
 * that is set) and keeps idle connections until the platform closes them: a platform closes one idle for 6 s (node's
 * default) and the proxy learns it when it reads the FIN. With the proxy's loop seconds late (a recorder under
 * overload), a request taken up in the same turn as that unread FIN went out on the closed connection, was reset, and
 * the agent got a 502 `upstream_unreachable (ECONNRESET)` the platform never caused. With 1 s, an idle connection is
 * destroyed by its timer, which runs before the turn's I/O, unless the loop was more than 5 s late. The cost: a new
 * connection for a request after a second of quiet.
 */
export const UPSTREAM_IDLE_MS = 1000;

/**
 * The server's `timeout` handler: the only socket timeout the listeners arm is node's `keepAliveTimeout` (no
 * `server.timeout`), armed when an answer is complete. node then destroys the connection from the timer. A turn of
 * the event loop runs its timers before its I/O: when the loop was late (a recorder seconds behind under overload), a
 * request the client had sent on the idle connection in time, still unread in the socket, was reset with it; the
 * client saw ECONNRESET and the proxy never saw the request, so nothing was recorded (reliability, open problem 10).
 * Here the close waits for the turn's I/O (`setImmediate`): if bytes arrived (a new request: node serves it and
 * re-arms the timeout after its answer; the rest of a request still being sent: reading it re-armed the timer), the
 * connection stays; otherwise it is destroyed as node would have (an idle connection, or one whose client stopped
 * sending the rest of a body after its answer was out).
 */
export function closeIdleAfterTurn(socket: Duplex): void {
  const s = socket as Duplex & { bytesRead?: number };
  const readBefore = s.bytesRead;
  setImmediate(() => {
    if (!s.destroyed && s.bytesRead === readBefore) s.destroy();
  });
}

/**
 * The recording proxy: `http(s)/ws` under `/<platform>/…` with the platform's own paths beneath, forwarded to the
 * configured upstream base only, every exchange and message handed to `sink` as CapturedFacts. Plain node:http + ws
 * so bytes are forwarded, never re-serialised. With `platformPorts`, each of those platforms is also served at the
 * root of a port of its own, for clients that build URLs with absolute paths (`new URL('/ws/…', base)` drops a
 * base's path): the same forwarders, contexts and facts, only the routing differs (the platform is the listener's).
 */
export async function startRecordingProxy(options: RecordingProxyOptions): Promise<RunningRecordingProxy> {
  const upstreams = parseUpstreams(options.upstreams);
  const configured = new Set<string>(upstreams.keys());
  const log = options.log ?? (() => undefined);
  const emitter = new FactEmitter(options.sink, log);
  const maxWsMessageBytes = options.maxWsMessageBytes ?? DEFAULT_MAX_WS_MESSAGE_BYTES;
  const maxHttpBodyBytes = options.maxHttpBodyBytes ?? DEFAULT_MAX_HTTP_BODY_BYTES;
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  const agents = { http: new http.Agent({ keepAlive: true, timeout: UPSTREAM_IDLE_MS }), https: new https.Agent({ keepAlive: true, timeout: UPSTREAM_IDLE_MS }) };
  const chosenProtocol = new WeakMap<http.IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: maxWsMessageBytes,
    autoPong: false,
    clientTracking: false,
    // The client gets exactly the subprotocol the upstream picked (or none).
    handleProtocols: (_offered, req) => chosenProtocol.get(req) ?? false,
  });
  const wsCtx: WsContext = { emitter, maxWsMessageBytes, maxHttpBodyBytes, upstreamTimeoutMs, log, wss, chosenProtocol, live: new Set(), pendingUpgrades: new Set() };
  const httpCtx = { emitter, maxHttpBodyBytes, upstreamTimeoutMs, log, agents };

  /** One listener: the prefixed one routes by `/<platform>/…`, a platform's own one takes every target as that platform's path. */
  const createListener = (routeOf: (target: string | undefined) => RouteResult): http.Server => {
    const server = http.createServer({ keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS }, (req, res) => {
      try {
        const route = routeOf(req.url);
        if (!route.ok) {
          req.resume();
          sendProxyJson(res, route.status, route.error === 'unknown_platform' ? { error: route.error } : { error: route.error, message: route.message });
          log(`http ${req.method} ? → ${route.status} ${route.error}`);
          return;
        }
        const admitted: AdmissionDecision = options.admit?.({ kind: 'http', platform: route.platform, method: req.method ?? 'GET', path: route.platformPath }) ?? { ok: true };
        if (!admitted.ok) {
          refuseRequest(emitter, req, res, route.platform, route.platformPath, maxHttpBodyBytes, admitted.reason, admitted.retryAfterS);
          log(`http ${req.method} ${route.platform} ${route.pathOnly} → 503 capture_overloaded (${admitted.reason})`);
          return;
        }
        forwardHttp(httpCtx, req, res, route.platform, upstreams.get(route.platform)!, route.platformPath, route.pathOnly);
      } catch (e) {
        log(`http internal error: ${(e as Error).name}`);
        sendProxyJson(res, 500, { error: 'proxy_error' });
      }
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined);
      try {
        const route = routeOf(req.url);
        if (!route.ok) {
          rawHttpAnswer(socket, route.status, REASONS[route.status] ?? 'Error', route.error === 'unknown_platform' ? { error: route.error } : { error: route.error, message: route.message });
          log(`ws ? → ${route.status} ${route.error}`);
          return;
        }
        if (!validUpgradeRequest(req)) {
          rawHttpAnswer(socket, 400, 'Bad Request', { error: 'bad_upgrade', message: 'not a valid WebSocket handshake' });
          return;
        }
        const admitted: AdmissionDecision = options.admit?.({ kind: 'ws', platform: route.platform, method: 'GET', path: route.platformPath }) ?? { ok: true };
        if (!admitted.ok) {
          refuseUpgrade(emitter, socket, route.platform, admitted.reason, admitted.retryAfterS);
          log(`ws ${route.platform} ${route.pathOnly} → 503 capture_overloaded (${admitted.reason})`);
          return;
        }
        forwardUpgrade(wsCtx, req, socket, head, route.platform, upstreams.get(route.platform)!, route.platformPath, route.pathOnly);
      } catch (e) {
        log(`ws internal error: ${(e as Error).name}`);
        socket.destroy();
      }
    });
    server.on('timeout', closeIdleAfterTurn);
    // Never a forward proxy: CONNECT tunnels are refused.
    server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
      socket.on('error', () => undefined);
      rawHttpAnswer(socket, 405, 'Method Not Allowed', { error: 'connect_not_supported' });
    });
    // Malformed HTTP, resets mid-headers…: answer when still possible (431 for a head over node's header limit, 408
    // for a head or request that took too long, else 400), never crash.
    server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
      if (socket.writable && !(socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
        const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
        socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      } else socket.destroy();
    });
    return server;
  };

  const host = options.host ?? '127.0.0.1';
  const urlOf = (port: number): string => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const listen = (server: http.Server, port: number, what: string): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      const failed = (e: Error & { code?: string }): void => reject(new Error(`recording proxy: cannot listen on ${host}:${port} for ${what} (${e.code ?? e.message})`));
      server.once('error', failed);
      server.listen(port, host, () => {
        server.off('error', failed);
        server.on('error', (e) => log(`proxy server error: ${e.name}`));
        resolve((server.address() as AddressInfo).port);
      });
    });
  const rootPlatforms = Object.entries(options.platformPorts ?? {}).filter((e): e is [ProxiedPlatform, number] => e[1] !== undefined);
  for (const [platform] of rootPlatforms) {
    if (!upstreams.has(platform)) throw new Error(`recording proxy: a port of its own for ${platform} needs an upstream for ${platform}`);
  }
  const server = createListener((target) => routeRequestTarget(target, configured));
  const servers: http.Server[] = [server];
  const platformUrls: Partial<Record<ProxiedPlatform, string>> = {};
  let port: number;
  try {
    port = await listen(server, options.port, 'the prefixed form');
    for (const [platform, rootPort] of rootPlatforms) {
      const own = createListener((target) => routeRootTarget(target, platform));
      servers.push(own);
      platformUrls[platform] = urlOf(await listen(own, rootPort, platform));
    }
  } catch (e) {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
    agents.http.destroy();
    agents.https.destroy();
    wss.close();
    throw e;
  }
  const url = urlOf(port);
  log(
    `recording proxy listening on ${url} for ${[...upstreams.keys()].join(', ') || 'no platform'}` +
      Object.entries(platformUrls)
        .map(([p, u]) => `; ${p} at the root of ${u}`)
        .join(''),
  );
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    platformUrls,
    close() {
      closing ??= (async () => {
        const stopped = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
        for (const abort of [...wsCtx.pendingUpgrades]) abort();
        const pairs = [...wsCtx.live];
        for (const p of pairs) p.shutdown();
        await Promise.race([Promise.all(pairs.map((p) => p.done)), new Promise((r) => setTimeout(r, 1_500).unref())]);
        for (const s of servers) s.closeAllConnections();
        await stopped;
        agents.http.destroy();
        agents.https.destroy();
        wss.close();
      })();
      return closing;
    },
  };
}
