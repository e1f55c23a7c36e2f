import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import type { ProxyErrorFact } from '@rewind/capture-facts';
import { BodyCollector, FactEmitter, headerPairs, stamp, Stamp } from './facts';
import { forwardHeaders } from './headers';
import { Upstream, upstreamPath } from './path-safety';
import type { ProxiedPlatform } from './types';
import { rewindMetrics } from '@rewind/observability';

export interface ForwardContext {
  emitter: FactEmitter;
  maxHttpBodyBytes: number;
  upstreamTimeoutMs: number;
  log: (line: string) => void;
  agents: { http: http.Agent; https: https.Agent };
}

/**
 * After the platform stopped reading a request body, how long the rest of the client's body is still read (and
 * discarded) once the answer is out, before the client's connection is closed: like a web server's lingering close,
 * it lets the client read the answer instead of losing it to a reset while it is still sending.
 */
export const CLIENT_LINGER_MS = 30_000;

/** Write errors that mean the peer stopped reading (closed or reset its end); what it sent before may still be unread. */
const PEER_STOPPED_READING = new Set(['EPIPE', 'ECONNRESET']);
const kTolerant = Symbol('rewind.tolerantWrites');
const kOnPeerStoppedReading = Symbol('rewind.onPeerStoppedReading');
type UpstreamSocket = Socket & { [kTolerant]?: true; [kOnPeerStoppedReading]?: (code: string) => void };

/**
 * Makes a write to the upstream socket that fails because the platform stopped reading (EPIPE/ECONNRESET: it answered
 * 413 or 401 before the body was complete and closed) call the exchange's hook instead of destroying the socket. node
 * would tear the socket down at once and drop the answer the platform sent before closing, still unread in the
 * socket; kept open, the read side parses that answer and then ends the socket as usual (the reset or EOF). Installed
 * once per socket (pooled sockets serve many exchanges). node's Writable hands `_write`/`_writev` the same callback
 * every time, so the wrapper is made once per socket, not per chunk.
 */
function tolerateWritesToAClosedPeer(socket: UpstreamSocket): void {
  if (socket[kTolerant]) return;
  socket[kTolerant] = true;
  const write = socket._write;
  const writev = socket._writev;
  let inner: ((error?: Error | null) => void) | undefined;
  let outer: ((error?: Error | null) => void) | undefined;
  const wrapped = (cb: (error?: Error | null) => void): ((error?: Error | null) => void) => {
    if (cb !== inner || !outer) {
      inner = cb;
      outer = (e?: Error | null): void => {
        const code = (e as (Error & { code?: string }) | null | undefined)?.code;
        if (code === undefined || !PEER_STOPPED_READING.has(code)) return cb(e);
        socket[kOnPeerStoppedReading]?.(code);
        cb();
      };
    }
    return outer;
  };
  socket._write = function (this: Socket, chunk: unknown, encoding: BufferEncoding, cb: (error?: Error | null) => void): void {
    write.call(this, chunk, encoding, wrapped(cb));
  };
  if (writev) {
    socket._writev = function (this: Socket, chunks: { chunk: unknown; encoding: BufferEncoding }[], cb: (error?: Error | null) => void): void {
      writev.call(this, chunks, wrapped(cb));
    };
  }
}

/** A JSON answer made by the proxy itself (errors): never contains request data. Returns what was sent (for the record), if anything. */
export function sendProxyJson(res: http.ServerResponse, status: number, body: Record<string, unknown>): NonNullable<ProxyErrorFact['answer']> | undefined {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return undefined;
  }
  const text = JSON.stringify(body);
  const headers: [string, string][] = [
    ['content-type', 'application/json; charset=utf-8'],
    ['content-length', String(Buffer.byteLength(text))],
  ];
  res.writeHead(status, Object.fromEntries(headers));
  res.end(text);
  return { headers, body: Buffer.from(text) };
}

/**
 * Forwards one HTTP exchange to `up`, streaming both bodies (with backpressure, through `pipe`) while copying
 * up to `maxHttpBodyBytes` of each for the facts. Fact order per exchange: http-request, then http-response
 * (or proxy-error); the request fact is emitted when the client's body is complete, the response fact when the
 * upstream's body is complete. `atNs` of each is when its head was seen.
 *
 * When the platform stops reading the request body before its end (it answered early — 413, 401 — and closed), the
 * exchange is "cut": the client's body is no longer forwarded (the rest is read and discarded, for at most
 * {@link CLIENT_LINGER_MS} after the answer, so the client can read it), the request fact is emitted with the body as
 * far as it had come, followed by a non-terminal proxy-error saying so, and the platform's answer is relayed and
 * recorded as usual. The proxy answers 502 only when the platform closed without any answer.
 */
export function forwardHttp(ctx: ForwardContext, req: http.IncomingMessage, res: http.ServerResponse, platform: ProxiedPlatform, up: Upstream, platformPath: string, pathOnly: string): void {
  const { emitter } = ctx;
  const id = emitter.nextId('http');
  const started = stamp();
  const startedMs = performance.now();
  const inFlight = rewindMetrics.proxyOpenConnections.labels(platform, 'http');
  inFlight.inc();
  res.once('close', () => inFlight.dec());
  const method = req.method ?? 'GET';
  const reqBody = new BodyCollector(ctx.maxHttpBodyBytes);
  const resBody = new BodyCollector(ctx.maxHttpBodyBytes);
  let requestFactDone = false;
  let pendingResponse: (() => void) | undefined;
  let finished = false;
  let status = 0;
  /** Bytes of the client's body received when the platform stopped reading it; -1 while it reads. */
  let cutAt = -1;
  let cutNote: string | undefined;
  let cutStage: ProxyErrorFact['stage'] = 'upstream';
  let upResponse: http.IncomingMessage | undefined;

  const error = (stage: ProxyErrorFact['stage'], message: string, errStatus?: number, terminal = true, answer?: ProxyErrorFact['answer']): void => {
    emitter.emit<ProxyErrorFact>(platform, id, stamp(), { type: 'proxy-error', stage, message, terminal, ...(errStatus === undefined ? {} : { status: errStatus }), ...(answer ? { answer } : {}) });
  };
  const emitRequest = (): void => {
    if (requestFactDone) return;
    requestFactDone = true;
    emitter.emit(platform, id, started, { type: 'http-request', method, path: platformPath, headers: headerPairs(req.rawHeaders), body: reqBody.body() });
    if (reqBody.truncated) error('client', `capture truncated: request body kept ${ctx.maxHttpBodyBytes} of ${reqBody.total} bytes`, undefined, false);
    if (cutNote !== undefined) error(cutStage, cutNote, undefined, false);
    const p = pendingResponse;
    pendingResponse = undefined;
    p?.();
  };
  const logLine = (what: string): void =>
    ctx.log(`http ${method} ${platform} ${pathOnly} → ${what} (req ${reqBody.total} B, res ${resBody.total} B, ${Number((stamp().atNs - started.atNs) / 1_000_000n)} ms)`);

  const mod = up.protocol === 'https:' ? https : http;
  let upReq: http.ClientRequest;
  try {
    upReq = mod.request({
      protocol: up.protocol,
      hostname: up.hostname,
      port: up.port,
      method,
      path: upstreamPath(up, platformPath),
      headers: forwardHeaders(req.rawHeaders, { host: up.host }) as unknown as http.OutgoingHttpHeaders,
      agent: up.protocol === 'https:' ? ctx.agents.https : ctx.agents.http,
    });
  } catch (e) {
    // node refuses to send something it parsed (e.g. an unusual header value): nothing reached the upstream.
    req.resume();
    finished = true;
    const answer = sendProxyJson(res, 400, { error: 'bad_request', message: 'request cannot be forwarded as received' });
    emitRequest();
    error('client', `request not forwardable (${(e as Error & { code?: string }).code ?? 'error'})`, 400, true, answer);
    logLine('400 not forwardable');
    return;
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    upReq.destroy(new Error(`no response within ${ctx.upstreamTimeoutMs} ms`));
  }, ctx.upstreamTimeoutMs);
  timer.unref();

  req.on('data', (chunk: Buffer) => reqBody.add(chunk));
  req.on('end', emitRequest);
  req.on('error', () => undefined);
  req.pipe(upReq);

  // The platform stopped reading the body (see forwardHttp's doc): stop forwarding it, record it as far as it came,
  // keep reading the client's rest for a while so it can read the answer; the answer (or its absence) comes on the
  // read side as usual.
  const onPeerStoppedReading = (code: string): void => {
    if (cutAt >= 0) return;
    cutAt = reqBody.total;
    req.unpipe(upReq);
    req.resume();
    const note = `platform stopped reading the request body (${code}) with ${cutAt} bytes of it received from the client${req.complete ? '' : '; the rest was not forwarded'}`;
    if (requestFactDone) error('upstream', note, undefined, false);
    else {
      cutNote = note;
      emitRequest();
    }
    if (!req.complete) {
      const linger = setTimeout(() => {
        if (req.complete) return;
        if (res.writableFinished || res.destroyed) req.destroy();
        else res.once('finish', () => req.destroy());
      }, CLIENT_LINGER_MS);
      linger.unref();
      req.once('end', () => clearTimeout(linger));
      req.once('close', () => clearTimeout(linger));
    }
  };
  // The answer went out whole while the client was still sending (a platform that answers early and reads the rest):
  // a client that then goes away never ends its body, and node no longer tells the request about it (only its socket
  // closes). Record the exchange as far as it came.
  res.once('finish', () => {
    const socket = req.socket;
    if (req.complete || !socket || socket.destroyed) return;
    const gone = (): void => {
      if (requestFactDone) return;
      upReq.destroy();
      cutNote = `client went away before the end of its request body (${reqBody.total} bytes received), after the answer`;
      cutStage = 'client';
      emitRequest();
    };
    socket.once('close', gone);
    req.once('end', () => socket.off('close', gone));
  });
  upReq.on('socket', (socket: UpstreamSocket) => {
    tolerateWritesToAClosedPeer(socket);
    socket[kOnPeerStoppedReading] = onPeerStoppedReading;
  });

  // The client went away before its answer was complete (reset mid-body, aborted fetch…).
  res.on('close', () => {
    clearTimeout(timer);
    if (finished) return;
    finished = true;
    upReq.destroy();
    emitRequest();
    error('client', res.headersSent ? 'client went away during the response' : 'client went away before the response');
    logLine('client gone');
  });

  upReq.on('error', (e: Error & { code?: string }) => {
    clearTimeout(timer);
    if (finished) return;
    if (res.headersSent) {
      // The answer was whole; the connection ended after it (a platform that refused the body resets it): relay on.
      if (upResponse?.complete) return;
      // Upstream died mid-body: the client sees the connection drop, as it would have directly.
      finished = true;
      res.destroy();
      emitRequest();
      error('upstream', `upstream connection lost during the response (${e.code ?? 'error'})`);
      logLine('upstream lost mid-response');
      return;
    }
    finished = true;
    const code = timedOut ? 504 : 502;
    const invalid = (e.code ?? '').startsWith('HPE_');
    const message = timedOut
      ? `upstream ${platform} did not answer within ${ctx.upstreamTimeoutMs} ms`
      : invalid
        ? `upstream ${platform} sent an invalid HTTP response (${e.code})`
        : `upstream ${platform} unreachable (${e.code ?? e.message})`;
    req.unpipe(upReq);
    req.resume();
    const answer = sendProxyJson(res, code, { error: timedOut ? 'upstream_timeout' : invalid ? 'bad_upstream_response' : 'upstream_unreachable', message });
    const report = (): void => error(timedOut || invalid ? 'upstream' : 'connect', message, code, true, answer);
    if (requestFactDone) report();
    else pendingResponse = report;
    logLine(String(code));
  });

  upReq.on('response', (upRes: http.IncomingMessage) => {
    clearTimeout(timer);
    if (finished) {
      upRes.resume();
      return;
    }
    const resAt: Stamp = stamp();
    upResponse = upRes;
    status = upRes.statusCode ?? 502;
    res.sendDate = false;
    try {
      res.writeHead(status, upRes.statusMessage, forwardHeaders(upRes.rawHeaders) as unknown as http.OutgoingHttpHeaders);
      rewindMetrics.proxyMessagesRelayed.labels(platform, 'http').inc();
      rewindMetrics.proxyRelayLatency.labels(platform, 'http').observe((performance.now() - startedMs) / 1000);
    } catch (e) {
      finished = true;
      upRes.resume();
      upReq.destroy();
      const message = `upstream ${platform} sent a response that cannot be relayed (${(e as Error & { code?: string }).code ?? 'error'})`;
      const answer = sendProxyJson(res, 502, { error: 'bad_upstream_response', message });
      const report = (): void => error('upstream', message, 502, true, answer);
      if (requestFactDone) report();
      else pendingResponse = report;
      logLine('502 bad upstream response');
      return;
    }
    upRes.on('data', (chunk: Buffer) => resBody.add(chunk));
    upRes.on('end', () => {
      // After a cut the connection is half done (the body never ended): never back into the pool.
      if (cutAt >= 0) upReq.destroy();
      const report = (): void => {
        emitter.emit(platform, id, resAt, { type: 'http-response', status, headers: headerPairs(upRes.rawHeaders), body: resBody.body() });
        if (resBody.truncated) error('client', `capture truncated: response body kept ${ctx.maxHttpBodyBytes} of ${resBody.total} bytes`, undefined, false);
      };
      if (requestFactDone) report();
      else pendingResponse = report;
    });
    upRes.on('error', () => undefined);
    upRes.on('close', () => {
      if (upRes.complete || finished) return;
      // Upstream died mid-body: the client sees the connection drop, as it would have directly.
      finished = true;
      res.destroy();
      emitRequest();
      error('upstream', 'upstream connection lost during the response');
      logLine('upstream lost mid-response');
    });
    upRes.pipe(res);
    res.on('finish', () => {
      if (finished) return;
      finished = true;
      logLine(String(status));
    });
  });
}
