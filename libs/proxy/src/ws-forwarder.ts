import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { rewindMetrics } from '@rewind/observability';
import type { ProxyErrorFact, WsCloseFact } from '@rewind/capture-facts';
import { BodyCollector, FactEmitter, headerPairs, stamp } from './facts';
import { forwardHeaders } from './headers';
import { Upstream, upstreamPath } from './path-safety';
import type { ProxiedPlatform } from './types';
import { closePayload, encodeFrame, WsFrameParser } from './ws-frame-parser';

export interface WsContext {
  emitter: FactEmitter;
  maxWsMessageBytes: number;
  maxHttpBodyBytes: number;
  upstreamTimeoutMs: number;
  log: (line: string) => void;
  /**
   * No longer used: both handshakes are done here and the message phase is a byte relay (no `ws` on either leg).
   * Optional so the server may still pass them; it can stop creating them.
   */
  wss?: WebSocketServer;
  chosenProtocol?: WeakMap<IncomingMessage, string>;
  /** Live pairs, so close() can end them. */
  live: Set<{ shutdown(): void; done: Promise<void> }>;
  /** Upgrades still waiting for the upstream's handshake, so close() can end them too (else it waits up to upstreamTimeoutMs). */
  pendingUpgrades: Set<() => void>;
}

/**
 * Bytes queued on a socket above which the side that feeds it is paused; it resumes once the socket drained ('drain':
 * its queue is empty again, so well under 1 MiB).
 */
const HIGH_WATER = 4 * 1024 * 1024;
const SHUTDOWN_REASON = Buffer.from('proxy shutting down');
/** A peer that never answers a close (or never closes its end) is cut after this. */
const CLOSE_GRACE_MS = 5_000;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP_CLOSE = 0x8;
const EMPTY = Buffer.alloc(0);
/** RFC 7230 token: what a subprotocol name may be (as `ws` checks it). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const acceptOf = (key: string): string =>
  createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');

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
 * body) reaches the client unchanged; the client's 101 carries the subprotocol the upstream chose. Both handshakes
 * are plain HTTP done here (no `ws` on either leg); the message phase is a byte relay (see {@link relay}).
 */
export function forwardUpgrade(ctx: WsContext, req: IncomingMessage, socket: Duplex, head: Buffer, platform: ProxiedPlatform, up: Upstream, platformPath: string, pathOnly: string): void {
  const { emitter } = ctx;
  const started = stamp();
  socket.on('error', () => undefined);
  const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (protocols.some((p) => !TOKEN.test(p)) || new Set(protocols).size !== protocols.length) {
    rawHttpAnswer(socket, 400, 'Bad Request', { error: 'bad_upgrade', message: 'invalid Sec-WebSocket-Protocol header' });
    return;
  }
  // The upstream handshake, as `ws`'s client would send it: the end-to-end headers, then the WebSocket ones. No
  // extension is offered (no permessage-deflate), so frames are relayed as they are.
  const key = randomBytes(16).toString('base64');
  const headers = forwardHeaders(req.rawHeaders, { host: up.host, ws: true });
  headers.push('Sec-WebSocket-Version', '13', 'Sec-WebSocket-Key', key, 'Connection', 'Upgrade', 'Upgrade', 'websocket');
  if (protocols.length) headers.push('Sec-WebSocket-Protocol', protocols.join(','));
  let handshakeDone = false;
  let upReq: http.ClientRequest | undefined;
  let timer: NodeJS.Timeout | undefined;
  const settleHandshake = (): void => {
    handshakeDone = true;
    clearTimeout(timer);
    ctx.pendingUpgrades.delete(abortOnShutdown);
  };
  // The proxy closes while the upstream has not answered yet: 503 to the client, the upstream attempt dropped.
  const abortOnShutdown = (): void => {
    if (handshakeDone) return;
    settleHandshake();
    upReq?.destroy();
    const answer = rawHttpAnswer(socket, 503, 'Service Unavailable', { error: 'proxy_shutting_down', message: 'the recording proxy is shutting down' });
    emitter.emit<ProxyErrorFact>(platform, emitter.nextId('ws'), stamp(), {
      type: 'proxy-error',
      stage: 'client',
      message: 'proxy shut down before the upstream accepted the WebSocket',
      status: 503,
      ...(answer ? { answer } : {}),
    });
  };
  /** The upstream did not accept (unreachable, timed out, a broken handshake): 502 or 504 to the client. */
  const handshakeFailed = (timedOut: boolean, why: string): void => {
    if (handshakeDone) return;
    settleHandshake();
    upReq?.destroy();
    const status = timedOut ? 504 : 502;
    const message = timedOut ? `upstream ${platform} did not accept the WebSocket within ${ctx.upstreamTimeoutMs} ms` : `upstream ${platform} unreachable (${why})`;
    const answer = rawHttpAnswer(socket, status, timedOut ? 'Gateway Timeout' : 'Bad Gateway', { error: timedOut ? 'upstream_timeout' : 'upstream_unreachable', message });
    emitter.emit<ProxyErrorFact>(platform, emitter.nextId('ws'), stamp(), { type: 'proxy-error', stage: timedOut ? 'upstream' : 'connect', message, status, ...(answer ? { answer } : {}) });
    ctx.log(`ws ${platform} ${pathOnly} → ${status}`);
  };
  ctx.pendingUpgrades.add(abortOnShutdown);
  // Keep reading the client socket while the upstream handshake runs, so a hang-up is noticed; bytes sent
  // before our 101 (unusual) are kept and relayed first.
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
    upReq?.destroy();
    emitter.emit<ProxyErrorFact>(platform, emitter.nextId('ws'), stamp(), { type: 'proxy-error', stage: 'client', message: 'client went away before the upstream accepted the WebSocket' });
    ctx.log(`ws ${platform} ${pathOnly} client gone during the handshake`);
  });

  try {
    upReq = (up.protocol === 'https:' ? https : http).request({
      protocol: up.protocol,
      hostname: up.hostname,
      port: up.port,
      method: 'GET',
      path: upstreamPath(up, platformPath),
      headers: headers as unknown as http.OutgoingHttpHeaders,
      // A connection of its own: it becomes the WebSocket's.
      agent: false,
    });
  } catch (e) {
    // node refuses to send something it parsed (e.g. an unusual header value): nothing reached the upstream.
    handshakeFailed(false, (e as Error & { code?: string }).code ?? (e as Error).message);
    return;
  }
  const upRequest = upReq;
  timer = setTimeout(() => handshakeFailed(true, 'timeout'), ctx.upstreamTimeoutMs);
  timer.unref();
  upRequest.on('error', (e: Error & { code?: string }) => handshakeFailed(false, e.code ?? e.message));

  // Refused upstream: replay the exact answer to the client, record it as an HTTP exchange.
  upRequest.on('response', (upRes: IncomingMessage) => {
    if (handshakeDone) return void upRequest.destroy();
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
      upRequest.destroy();
      emitter.emit(platform, id, resAt, { type: 'http-response', status, headers: headerPairs(upRes.rawHeaders), body: body.body() });
      ctx.log(`ws ${platform} ${pathOnly} refused upstream → ${status} (${body.total} B)`);
    };
    upRes.on('error', () => undefined);
    upRes.on('end', end);
    upRes.on('close', end);
  });

  upRequest.on('upgrade', (upRes: IncomingMessage, upSocket: Socket, upHead: Buffer) => {
    upSocket.on('error', () => undefined);
    if (handshakeDone) return void upSocket.destroy(); // the client gave up meanwhile
    // The checks `ws`'s client makes of a 101, with its messages.
    const chosen = upRes.headers['sec-websocket-protocol'];
    const invalid =
      String(upRes.headers.upgrade ?? '').toLowerCase() !== 'websocket'
        ? 'Invalid Upgrade header'
        : upRes.headers['sec-websocket-accept'] !== acceptOf(key)
          ? 'Invalid Sec-WebSocket-Accept header'
          : chosen !== undefined && !protocols.length
            ? 'Server sent a subprotocol but none was requested'
            : chosen !== undefined && !protocols.includes(chosen)
              ? 'Server sent an invalid subprotocol'
              : chosen === undefined && protocols.length
                ? 'Server sent no subprotocol'
                : upRes.headers['sec-websocket-extensions'] !== undefined
                  ? 'Server sent a Sec-WebSocket-Extensions header but no extension was requested'
                  : undefined;
    if (invalid) {
      upSocket.destroy();
      return handshakeFailed(false, invalid);
    }
    settleHandshake();
    upSocket.setTimeout(0);
    upSocket.setNoDelay(true);
    if (socket.destroyed || !socket.writable) {
      upSocket.end(encodeFrame(OP_CLOSE, closePayload(1001, EMPTY), true));
      emitter.emit<ProxyErrorFact>(platform, emitter.nextId('ws'), stamp(), { type: 'proxy-error', stage: 'client', message: 'client went away before the upstream accepted the WebSocket' });
      return;
    }
    socket.off('data', onEarly);
    const client = socket as Socket;
    client.setTimeout(0);
    client.setNoDelay(true);
    client.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptOf(String(req.headers['sec-websocket-key']).trim())}\r\n` +
        (chosen !== undefined ? `Sec-WebSocket-Protocol: ${chosen}\r\n` : '') +
        '\r\n',
    );
    relay(ctx, platform, pathOnly, platformPath, req, client, upSocket, head.length ? [head, ...early] : early, upHead);
  });
  upRequest.end();
}

type Side = 'client' | 'platform';

/** One leg of a relayed WebSocket: its socket, the parser of what it sends, and where its close handshake is. */
interface Leg {
  side: Side;
  socket: Socket;
  /** Frames the proxy writes to this leg are masked: towards the upstream, the proxy is the client. */
  maskTowards: boolean;
  parser: WsFrameParser;
  other: Leg;
  /** It sent a close frame. */
  closeFrom: boolean;
  /** A close frame was written to it (relayed or the proxy's own). */
  closeSent: boolean;
  /** Its FIN came (it sends nothing more). */
  gotEnd: boolean;
  closed: boolean;
  /** Its reading is paused because the other socket's queue is over HIGH_WATER. */
  paused: boolean;
  grace: NodeJS.Timeout | undefined;
}

/**
 * The message phase: a byte relay. Each chunk read from one socket goes to the other unchanged (client frames stay
 * masked, which is what a client frame towards the upstream must be; server frames are unmasked, as the client expects
 * them), except what the direction's {@link WsFrameParser} holds back: a frame header cut between reads, the final frame
 * of a text message until it is valid UTF-8, close frames (the proxy writes its own, with the same code and reason, so
 * it knows where each leg's close handshake is) and a refused frame. The parser hands each complete message to the sink
 * before the bytes that complete it are written on ("recorded before relayed", for the recorder's write-ahead log).
 * No per-message deflate is negotiated, so payloads are the messages.
 *
 * Closes: the first close frame (or a drop, 1006) is recorded once, with its initiator, and relayed; from then on no raw
 * bytes are relayed (a message still arriving is recorded, marked undelivered; a ping is dropped), only the answering
 * close. A leg whose close handshake is complete is ended (a FIN); a drop of one leg ends the other (its peer sees 1006),
 * a reset destroys it. A protocol violation (see the parser) or a message over maxWsMessageBytes: the offending bytes are
 * not relayed, the proxy closes both legs with the code (1002, 1007, 1008, 1009), records a proxy-error and the close
 * (initiator proxy), and ends the offending leg. Shutdown: 1001 "proxy shutting down" to both legs. A leg that does not
 * finish within CLOSE_GRACE_MS of its close is destroyed.
 */
function relay(
  ctx: WsContext,
  platform: ProxiedPlatform,
  pathOnly: string,
  platformPath: string,
  req: IncomingMessage,
  clientSocket: Socket,
  upstreamSocket: Socket,
  clientEarly: Buffer[],
  upstreamHead: Buffer,
): void {
  const { emitter } = ctx;
  const id = emitter.nextId('ws');
  const openedAt = stamp();
  emitter.emit(platform, id, openedAt, { type: 'ws-open', path: platformPath, headers: headerPairs(req.rawHeaders) });
  ctx.log(`ws ${platform} ${pathOnly} open (${id})`);
  const counts = { c2p: 0, p2c: 0, c2pBytes: 0, p2cBytes: 0 };
  let closeRecorded = false;
  /** The close was recorded with a leg still open: the sink hears when both are done (`released`). */
  let releaseOwed = false;
  let proxyErrorRecorded = false;
  let closing = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  // Metric children bound once per connection: the per-message path only adds to numbers.
  const relayed = rewindMetrics.proxyMessagesRelayed.labels(platform, 'ws');
  const latency = rewindMetrics.proxyRelayLatency.labels(platform, 'ws');
  const openConnections = rewindMetrics.proxyOpenConnections.labels(platform, 'ws');
  openConnections.inc();

  const leg = (side: Side, socket: Socket): Leg => ({
    side,
    socket,
    maskTowards: side === 'platform',
    parser: undefined as unknown as WsFrameParser,
    other: undefined as unknown as Leg,
    closeFrom: false,
    closeSent: false,
    gotEnd: false,
    closed: false,
    paused: false,
    grace: undefined,
  });
  const client = leg('client', clientSocket);
  const upstream = leg('platform', upstreamSocket);
  client.other = upstream;
  upstream.other = client;

  /** Messages completed in the chunk being parsed, timed together once it was written on. */
  let chunkMessages = 0;

  const recordClose = (initiator: WsCloseFact['initiator'], code: number, reason: Buffer): void => {
    if (closeRecorded) return;
    closeRecorded = true;
    // Until both legs are done the other side's last messages may still be read (recorded undelivered): the run's
    // seal waits for them (reliability.md, open problem 8).
    releaseOwed = !(client.closed && upstream.closed);
    emitter.emit<WsCloseFact>(platform, id, stamp(), { type: 'ws-close', initiator, code, reason: reason.toString('utf8'), ...(releaseOwed ? { draining: true } : {}) });
    ctx.log(`ws ${platform} ${pathOnly} closed ${code} by ${initiator} (${id}; in ${counts.c2p} msgs/${counts.c2pBytes} B, out ${counts.p2c} msgs/${counts.p2cBytes} B)`);
  };
  /** From the first close on, no raw bytes are relayed: only close frames, written by the proxy. */
  const stopRelaying = (): void => {
    if (closing) return;
    closing = true;
    client.parser.forwarding = false;
    upstream.parser.forwarding = false;
  };
  // The cut waits for the I/O of the turn it falls in (setImmediate runs after the poll phase): when the loop was late
  // by more than the grace, the timer fires before that turn reads what the other side sent before it saw the close
  // (an agent's last inputs); destroying the socket then would drop them unread (proxy-close-grace.int-spec.ts).
  const armGrace = (l: Leg): void => {
    l.grace ??= setTimeout(() => setImmediate(() => l.socket.destroy()), CLOSE_GRACE_MS).unref();
  };
  /** Ends a leg whose close handshake is complete (both close frames went). */
  const endIfClosed = (l: Leg): void => {
    if (l.closeFrom && l.closeSent && !l.socket.writableEnded) l.socket.end();
  };
  const sendClose = (l: Leg, code: number, reason: Buffer): void => {
    if (l.closeSent) return;
    l.closeSent = true;
    if (!l.socket.writable) return;
    armGrace(l);
    // A frame of the other side's is half written to this leg (the proxy itself closes, mid-frame): a close frame
    // cannot follow; the leg is ended instead (its peer sees 1006).
    if (l.other.parser.midFrame) return void l.socket.end();
    l.socket.write(encodeFrame(OP_CLOSE, closePayload(code, reason), l.maskTowards));
    endIfClosed(l);
  };

  const wire = (from: Leg): void => {
    const to = from.other;
    const c2pDir = from.side === 'client';
    const direction = c2pDir ? 'client_to_platform' : 'platform_to_client';
    const resume = (): void => {
      from.paused = false;
      if (!from.closed) from.socket.resume();
    };
    from.parser = new WsFrameParser(
      { masked: c2pDir, maxMessageBytes: ctx.maxWsMessageBytes },
      {
        // The hot path: the chunk (or its releasable part) goes on as it came.
        forward: (bytes) => {
          const out = to.socket;
          if (!out.writable) return;
          // Corked until the turn's end, when the messages these bytes complete are logged first (TurnGate).
          emitter.holdUntilLogged(out);
          out.write(bytes);
          if (!from.paused && out.writableLength > HIGH_WATER) {
            from.paused = true;
            from.socket.pause();
            out.once('drain', resume);
          }
        },
        message: (payload, binary, forwarded) => {
          // Recorded before the bytes that complete it are written on: with the recorder's write-ahead log, a message
          // the other side got is on disk even if this process is killed right after (the sink never throws, never waits).
          emitter.emitMessage(platform, id, process.hrtime.bigint(), direction, payload, binary, !(forwarded && to.socket.writable));
          relayed.inc();
          chunkMessages++;
          if (c2pDir) {
            counts.c2p++;
            counts.c2pBytes += payload.length;
          } else {
            counts.p2c++;
            counts.p2cBytes += payload.length;
          }
        },
        // Ping and pong pass through with the bytes (not answered locally), so each end sees the other's liveness.
        control: () => undefined,
        close: (code, reason) => {
          from.closeFrom = true;
          stopRelaying();
          recordClose(from.side, code, reason);
          // Relayed with the same code and reason (none for 1005); an answer to a close the other side sent completes its handshake.
          sendClose(to, code, reason);
          endIfClosed(from);
        },
        error: (code, wsCode) => {
          const who = from.side;
          if (!proxyErrorRecorded) {
            proxyErrorRecorded = true;
            const message =
              wsCode === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || wsCode === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'
                ? `message over ${ctx.maxWsMessageBytes} bytes from the ${who}: closed ${code}`
                : `protocol error from the ${who} (${wsCode}): closed ${code}`;
            emitter.emit<ProxyErrorFact>(platform, id, stamp(), { type: 'proxy-error', stage: who === 'client' ? 'client' : 'upstream', message });
          }
          stopRelaying();
          recordClose('proxy', code, EMPTY);
          sendClose(from, code, EMPTY);
          sendClose(to, code, EMPTY);
          // The offender is not read any more (its parser stopped): its leg ends once the close frame is out.
          if (!from.socket.writableEnded) from.socket.end();
          armGrace(from);
        },
      },
    );
    from.socket.on('data', (chunk: Buffer) => {
      const t0 = performance.now();
      chunkMessages = 0;
      from.parser.push(chunk);
      if (chunkMessages > 0) {
        const seconds = (performance.now() - t0) / 1000;
        for (let k = 0; k < chunkMessages; k++) latency.observe(seconds);
      }
    });
    // Its FIN: it sends nothing more. Without a close frame first, that is a drop (1006), passed on as a FIN.
    from.socket.on('end', () => {
      // Ending a held (corked) socket sends its bytes now: the turn's messages are logged first.
      emitter.flush();
      from.gotEnd = true;
      if (!from.closeFrom) recordClose(from.side, 1006, EMPTY);
      stopRelaying();
      if (!to.socket.writableEnded) to.socket.end();
      if (!from.socket.writableEnded) from.socket.end();
      armGrace(to);
      armGrace(from);
    });
    from.socket.on('close', () => {
      emitter.flush();
      from.closed = true;
      if (!from.closeFrom) recordClose(from.side, 1006, EMPTY);
      stopRelaying();
      // Gone without a FIN or a close frame (a reset) while nothing was said to the other leg: it is dropped too (its
      // peer sees 1006). Otherwise it finishes: what was written to it (a close frame) goes out first.
      if (!to.socket.destroyed && !to.socket.writableEnded) {
        if (!from.gotEnd && !from.closeFrom && !to.closeSent) to.socket.destroy();
        else to.socket.end();
      }
      armGrace(to);
      if (to.closed) finish();
    });
  };
  const finish = (): void => {
    clearTimeout(client.grace);
    clearTimeout(upstream.grace);
    openConnections.dec();
    ctx.live.delete(handle);
    if (releaseOwed) emitter.released(id);
    resolveDone();
  };
  wire(client);
  wire(upstream);

  const handle = {
    done,
    shutdown: (): void => {
      stopRelaying();
      recordClose('proxy', 1001, SHUTDOWN_REASON);
      sendClose(client, 1001, SHUTDOWN_REASON);
      sendClose(upstream, 1001, SHUTDOWN_REASON);
      setTimeout(() => {
        client.socket.destroy();
        upstream.socket.destroy();
      }, 1_000).unref();
    },
  };
  ctx.live.add(handle);

  // What the upstream sent right after its 101, then what the client sent before ours.
  if (upstreamHead.length) upstream.socket.emit('data', upstreamHead);
  for (const b of clientEarly) if (b.length) client.socket.emit('data', b);
}
