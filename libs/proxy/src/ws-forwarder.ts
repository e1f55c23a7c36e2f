import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { rewindMetrics } from '@rewind/observability';
import type { ProxyErrorFact, WsCloseFact } from '@rewind/capture-facts';
import { BodyCollector, FactEmitter, headerPairs, stamp } from './facts';
import { forwardHeaders, headersObject } from './headers';
import { Upstream, upstreamPath } from './path-safety';
import type { ProxiedPlatform } from './types';

export interface WsContext {
  emitter: FactEmitter;
  maxWsMessageBytes: number;
  maxHttpBodyBytes: number;
  upstreamTimeoutMs: number;
  log: (line: string) => void;
  /** Client-facing server (noServer); its handleProtocols reads `chosenProtocol`. */
  wss: WebSocketServer;
  chosenProtocol: WeakMap<IncomingMessage, string>;
  /** Live pairs, so close() can end them. */
  live: Set<{ shutdown(): void; done: Promise<void> }>;
  /** Upgrades still waiting for the upstream's handshake, so close() can end them too (else it waits up to upstreamTimeoutMs). */
  pendingUpgrades: Set<() => void>;
}

/** Send-buffer level above which the reading side is paused, and below which it resumes. */
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;
const SHUTDOWN_REASON = 'proxy shutting down';
/** Shared send options (ws only reads them): no object per message. */
const SEND_BINARY = { binary: true } as const;
const SEND_TEXT = { binary: false } as const;

/**
 * The close code `ws` itself sent on the offending leg for a protocol error (it keeps it on the error under a
 * private symbol): 1009 for a message or frame length over the limit (also a frame announcing > 2^53 bytes), 1008
 * for too many fragments or buffered chunks, 1007 for bad UTF-8, 1002 for the rest. The other leg and the
 * recorded close get the same code.
 */
export function wsErrorCloseCode(e: Error & { code?: string }): number {
  for (const sym of Object.getOwnPropertySymbols(e)) {
    if (sym.description !== 'status-code') continue;
    const v = (e as unknown as Record<symbol, unknown>)[sym];
    if (typeof v === 'number' && v >= 1000 && v < 5000) return v;
  }
  if (e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || e.code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH') return 1009;
  if (e.code === 'WS_ERR_TOO_MANY_BUFFERED_PARTS') return 1008;
  return e.code === 'WS_ERR_INVALID_UTF8' ? 1007 : 1002;
}

/** Writes a complete HTTP/1.1 answer on a raw upgrade socket and ends it. */
export function rawHttpAnswer(socket: Duplex, status: number, reason: string, body: Record<string, unknown>): NonNullable<ProxyErrorFact['answer']> | undefined {
  if (socket.destroyed) return undefined;
  const text = JSON.stringify(body);
  const headers: [string, string][] = [
    ['Content-Type', 'application/json; charset=utf-8'],
    ['Content-Length', String(Buffer.byteLength(text))],
    ['Connection', 'close'],
  ];
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${text}`);
  return { headers, body: Buffer.from(text) };
}

/** What `ws`'s handleUpgrade would refuse: checked before anything is sent upstream. */
export function validUpgradeRequest(req: IncomingMessage): boolean {
  const key = req.headers['sec-websocket-key'];
  const version = req.headers['sec-websocket-version'];
  return (
    req.method === 'GET' &&
    String(req.headers.upgrade ?? '').toLowerCase() === 'websocket' &&
    typeof key === 'string' &&
    /^[+/0-9A-Za-z]{22}==$/.test(key.trim()) &&
    (version === '13' || version === '8')
  );
}

/**
 * Proxies one WebSocket: connects upstream first (same path, query, subprotocols and end-to-end headers), and
 * completes the client's handshake only once the upstream accepted, so an upstream refusal (status, headers,
 * body) reaches the client unchanged. Then relays every message (text/binary and payload kept), ping and pong
 * (passed through, not answered locally) and the close (code + reason bytes) both ways.
 */
export function forwardUpgrade(ctx: WsContext, req: IncomingMessage, socket: Duplex, head: Buffer, platform: ProxiedPlatform, up: Upstream, platformPath: string, pathOnly: string): void {
  const { emitter } = ctx;
  const started = stamp();
  socket.on('error', () => undefined);
  const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const url = `${up.protocol === 'https:' ? 'wss' : 'ws'}://${up.host}${upstreamPath(up, platformPath)}`;
  const upstream = new WebSocket(url, protocols.length ? protocols : undefined, {
    headers: headersObject(forwardHeaders(req.rawHeaders, { host: up.host, ws: true })),
    perMessageDeflate: false,
    maxPayload: ctx.maxWsMessageBytes,
    autoPong: false,
    followRedirects: false,
    handshakeTimeout: ctx.upstreamTimeoutMs,
  });
  let handshakeDone = false;
  const settleHandshake = (): void => {
    handshakeDone = true;
    ctx.pendingUpgrades.delete(abortOnShutdown);
  };
  // The proxy closes while the upstream has not answered yet: 503 to the client, the upstream attempt dropped.
  const abortOnShutdown = (): void => {
    if (handshakeDone) return;
    settleHandshake();
    upstream.terminate();
    const answer = rawHttpAnswer(socket, 503, 'Service Unavailable', { error: 'proxy_shutting_down', message: 'the recording proxy is shutting down' });
    emitter.emit<ProxyErrorFact>(platform, emitter.nextId('ws'), stamp(), {
      type: 'proxy-error',
      stage: 'client',
      message: 'proxy shut down before the upstream accepted the WebSocket',
      status: 503,
      ...(answer ? { answer } : {}),
    });
  };
  ctx.pendingUpgrades.add(abortOnShutdown);
  // Keep reading the client socket while the upstream handshake runs, so a hang-up is noticed; bytes sent
  // before our 101 (unusual) are kept and handed to ws with `head`.
  // `head` (bytes that came with the request) counts too: a client can send them all in one segment.
  const early: Buffer[] = [];
  let earlyBytes = head.length;
  const onEarly = (chunk: Buffer): void => {
    early.push(chunk);
    earlyBytes += chunk.length;
    if (earlyBytes > ctx.maxWsMessageBytes) socket.destroy();
  };
  if (earlyBytes > ctx.maxWsMessageBytes) setImmediate(() => socket.destroy());
  socket.on('data', onEarly);
  // node's HTTP server sockets are half-open capable: a client's FIN only ends the readable side.
  socket.once('end', () => {
    if (!handshakeDone) socket.destroy();
  });
  // The client hung up while the upstream handshake was still under way: abandon it.
  socket.once('close', () => {
    if (handshakeDone) return;
    settleHandshake();
    upstream.terminate();
    emitter.emit<ProxyErrorFact>(platform, emitter.nextId('ws'), stamp(), { type: 'proxy-error', stage: 'client', message: 'client went away before the upstream accepted the WebSocket' });
    ctx.log(`ws ${platform} ${pathOnly} client gone during the handshake`);
  });

  // Refused upstream: replay the exact answer to the client, record it as an HTTP exchange.
  upstream.on('unexpected-response', (upReq, upRes) => {
    if (handshakeDone) return void upReq.destroy();
    settleHandshake();
    const id = emitter.nextId('http');
    const resAt = stamp();
    const body = new BodyCollector(ctx.maxHttpBodyBytes);
    emitter.emit(platform, id, started, { type: 'http-request', method: req.method ?? 'GET', path: platformPath, headers: headerPairs(req.rawHeaders), body: Buffer.alloc(0) });
    const status = upRes.statusCode ?? 502;
    const flat = forwardHeaders(upRes.rawHeaders);
    let headText = `HTTP/1.1 ${status} ${upRes.statusMessage ?? ''}\r\n`;
    for (let i = 0; i + 1 < flat.length; i += 2) headText += `${flat[i]}: ${flat[i + 1]}\r\n`;
    if (!socket.destroyed) socket.write(`${headText}Connection: close\r\n\r\n`);
    upRes.on('data', (chunk: Buffer) => {
      body.add(chunk);
      if (!socket.destroyed) socket.write(chunk);
    });
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      socket.end();
      upReq.destroy();
      emitter.emit(platform, id, resAt, { type: 'http-response', status, headers: headerPairs(upRes.rawHeaders), body: body.body() });
      ctx.log(`ws ${platform} ${pathOnly} refused upstream → ${status} (${body.total} B)`);
    };
    upRes.on('error', () => undefined);
    upRes.on('end', end);
    upRes.on('close', end);
  });

  upstream.on('error', (e: Error & { code?: string }) => {
    if (handshakeDone) return; // after open (or after the client left): the 'close' event handles it
    settleHandshake();
    const timedOut = /timed out/i.test(e.message);
    const status = timedOut ? 504 : 502;
    const message = timedOut ? `upstream ${platform} did not accept the WebSocket within ${ctx.upstreamTimeoutMs} ms` : `upstream ${platform} unreachable (${e.code ?? e.message})`;
    const answer = rawHttpAnswer(socket, status, timedOut ? 'Gateway Timeout' : 'Bad Gateway', { error: timedOut ? 'upstream_timeout' : 'upstream_unreachable', message });
    emitter.emit<ProxyErrorFact>(platform, emitter.nextId('ws'), stamp(), { type: 'proxy-error', stage: timedOut ? 'upstream' : 'connect', message, status, ...(answer ? { answer } : {}) });
    ctx.log(`ws ${platform} ${pathOnly} → ${status}`);
  });

  upstream.on('open', () => {
    if (handshakeDone) return; // the client gave up meanwhile
    settleHandshake();
    if (socket.destroyed || !socket.writable) {
      upstream.close(1001);
      emitter.emit<ProxyErrorFact>(platform, emitter.nextId('ws'), stamp(), { type: 'proxy-error', stage: 'client', message: 'client went away before the upstream accepted the WebSocket' });
      return;
    }
    if (upstream.protocol) ctx.chosenProtocol.set(req, upstream.protocol);
    let client: WebSocket | undefined;
    // Upstream messages that arrive before the client leg is ready wait here, in order.
    const pending: { data: Buffer; binary: boolean }[] = [];
    upstream.on('message', (data: Buffer, binary: boolean) => {
      if (client) return;
      pending.push({ data, binary });
    });
    // ws refuses (and destroys) a socket that died meanwhile without calling back: end the upstream then.
    socket.once('close', () => {
      if (!client) upstream.close(1001);
    });
    socket.off('data', onEarly);
    ctx.wss.handleUpgrade(req, socket, early.length ? Buffer.concat([head, ...early]) : head, (c) => {
      client = c;
      upstream.removeAllListeners('message');
      relay(ctx, platform, pathOnly, platformPath, req, client, upstream, pending);
    });
  });
}

function relay(
  ctx: WsContext,
  platform: ProxiedPlatform,
  pathOnly: string,
  platformPath: string,
  req: IncomingMessage,
  client: WebSocket,
  upstream: WebSocket,
  pending: { data: Buffer; binary: boolean }[],
): void {
  const { emitter } = ctx;
  const id = emitter.nextId('ws');
  const openedAt = stamp();
  emitter.emit(platform, id, openedAt, { type: 'ws-open', path: platformPath, headers: headerPairs(req.rawHeaders) });
  ctx.log(`ws ${platform} ${pathOnly} open (${id})`);
  const counts = { c2p: 0, p2c: 0, c2pBytes: 0, p2cBytes: 0 };
  let closeRecorded = false;
  let proxyError: { side: 'client' | 'platform'; message: string; code: number } | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let closedSides = 0;
  let shuttingDown = false;
  // Metric children bound once per connection: the per-message path only adds to numbers.
  const relayed = rewindMetrics.proxyMessagesRelayed.labels(platform, 'ws');
  const latency = rewindMetrics.proxyRelayLatency.labels(platform, 'ws');
  const openConnections = rewindMetrics.proxyOpenConnections.labels(platform, 'ws');
  openConnections.inc();

  // The hot path, once per relayed message: read the clock, record (synchronously: see below), forward,
  // account. No per-message closures or option objects.
  const pipe = (from: WebSocket, to: WebSocket, direction: 'client_to_platform' | 'platform_to_client'): ((data: Buffer, binary: boolean) => void) => {
    let paused = false;
    const c2pDir = direction === 'client_to_platform';
    const onSent = (): void => {
      if (paused && to.bufferedAmount < LOW_WATER && from.readyState === WebSocket.OPEN) {
        paused = false;
        from.resume();
      }
    };
    return (data, binary) => {
      const receivedMs = performance.now();
      const atNs = process.hrtime.bigint();
      const deliverable = to.readyState === WebSocket.OPEN;
      // Recorded before it is relayed: with the recorder's write-ahead log, a message the other side got is
      // on disk even if this process is killed right after sending it (the sink never throws, never waits).
      emitter.emitMessage(platform, id, atNs, direction, data, binary, !deliverable);
      if (deliverable) {
        to.send(data, binary ? SEND_BINARY : SEND_TEXT, onSent);
        if (!paused && to.bufferedAmount > HIGH_WATER && from.readyState === WebSocket.OPEN) {
          paused = true;
          from.pause();
        }
      }
      relayed.inc();
      latency.observe((performance.now() - receivedMs) / 1000);
      if (c2pDir) {
        counts.c2p++;
        counts.c2pBytes += data.length;
      } else {
        counts.p2c++;
        counts.p2cBytes += data.length;
      }
    };
  };
  const c2p = pipe(client, upstream, 'client_to_platform');
  const p2c = pipe(upstream, client, 'platform_to_client');
  for (const m of pending) p2c(m.data, m.binary);
  client.on('message', c2p);
  upstream.on('message', p2c);

  // Ping/pong pass through (autoPong is off on both legs), so each end sees the other's liveness.
  client.on('ping', (d: Buffer) => upstream.readyState === WebSocket.OPEN && upstream.ping(d));
  client.on('pong', (d: Buffer) => upstream.readyState === WebSocket.OPEN && upstream.pong(d));
  upstream.on('ping', (d: Buffer) => client.readyState === WebSocket.OPEN && client.ping(d));
  upstream.on('pong', (d: Buffer) => client.readyState === WebSocket.OPEN && client.pong(d));

  // Protocol violations detected by ws on one leg (oversized message → 1009, bad UTF-8 → 1007, …): ws closes
  // that leg with the matching code; the close handler below passes the same code to the other leg.
  const onError = (side: 'client' | 'platform') => (e: Error & { code?: string }) => {
    if (proxyError) return;
    const code = wsErrorCloseCode(e);
    proxyError = {
      side,
      code,
      message:
        e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || e.code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'
          ? `message over ${ctx.maxWsMessageBytes} bytes from the ${side}: closed 1009`
          : `protocol error from the ${side} (${e.code ?? e.message}): closed ${code}`,
    };
  };
  client.on('error', onError('client'));
  upstream.on('error', onError('platform'));

  const onClose = (side: 'client' | 'platform') => (peerCode: number, peerReason: Buffer) => {
    closedSides++;
    // After a protocol violation ws closed that leg itself (and stopped reading, so its close event says 1006):
    // the other leg gets the code the proxy sent.
    const code = proxyError ? proxyError.code : shuttingDown ? 1001 : peerCode;
    const reason = proxyError ? Buffer.alloc(0) : shuttingDown ? Buffer.from(SHUTDOWN_REASON) : peerReason;
    if (closedSides === 2) {
      openConnections.dec();
      ctx.live.delete(handle);
      resolveDone();
    }
    // Recorded at the first close. A message still in flight from the other side (an agent's input crossing the
    // platform's close) may follow it: it is recorded after, marked undelivered (see `pipe`).
    if (!closeRecorded) {
      closeRecorded = true;
      if (proxyError) emitter.emit<ProxyErrorFact>(platform, id, stamp(), { type: 'proxy-error', stage: proxyError.side === 'client' ? 'client' : 'upstream', message: proxyError.message });
      emitter.emit<WsCloseFact>(platform, id, stamp(), { type: 'ws-close', initiator: proxyError || shuttingDown ? 'proxy' : side, code, reason: reason.toString('utf8') });
      ctx.log(
        `ws ${platform} ${pathOnly} closed ${code} by ${proxyError || shuttingDown ? 'proxy' : side} (${id}; in ${counts.c2p} msgs/${counts.c2pBytes} B, out ${counts.p2c} msgs/${counts.p2cBytes} B)`,
      );
    }
    const other = side === 'client' ? upstream : client;
    if (other.readyState === WebSocket.OPEN || other.readyState === WebSocket.CONNECTING) {
      if (code === 1006) other.terminate();
      else if (code === 1005) other.close();
      else other.close(code, reason);
      // A peer that never answers the close handshake is cut after a grace period.
      setTimeout(() => other.readyState !== WebSocket.CLOSED && other.terminate(), 5_000).unref();
    }
  };
  client.on('close', onClose('client'));
  upstream.on('close', onClose('platform'));

  const handle = {
    done,
    shutdown: (): void => {
      shuttingDown = true;
      for (const w of [client, upstream]) if (w.readyState === WebSocket.OPEN) w.close(1001, SHUTDOWN_REASON);
      setTimeout(() => {
        client.terminate();
        upstream.terminate();
      }, 1_000).unref();
    },
  };
  ctx.live.add(handle);
}
