import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { ProxyErrorFact } from '@rewind/capture-facts';
import { BodyCollector, FactEmitter, headerPairs, stamp } from './facts';
import type { AdmissionDecision, AdmissionRequest, ProxiedPlatform } from './types';

export type { AdmissionDecision, AdmissionRequest };

/** The JSON body of a refusal (what the client reads, and what is recorded). */
export function refusalBody(reason: string, retryAfterS: number): Record<string, unknown> {
  return { error: 'capture_overloaded', reason, retryAfterS, message: 'the recorder is at capacity and takes no new capture now; retry later' };
}

function refusalHeaders(text: string, retryAfterS: number): [string, string][] {
  return [
    ['content-type', 'application/json; charset=utf-8'],
    ['content-length', String(Buffer.byteLength(text))],
    ['retry-after', String(retryAfterS)],
    ['connection', 'close'],
  ];
}

/**
 * Refuses a WebSocket upgrade: `503 Service Unavailable` with `Retry-After` and the JSON body on the raw socket,
 * recorded as a terminal proxy-error fact carrying the exact answer (as the proxy's other own answers). Nothing
 * was sent upstream.
 */
export function refuseUpgrade(emitter: FactEmitter, socket: Duplex, platform: ProxiedPlatform, reason: string, retryAfterS: number): void {
  if (socket.destroyed) return;
  const text = JSON.stringify(refusalBody(reason, retryAfterS));
  const headers = refusalHeaders(text, retryAfterS);
  socket.end(`HTTP/1.1 503 Service Unavailable\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${text}`);
  emitter.emit<ProxyErrorFact>(platform, emitter.nextId('ws'), stamp(), {
    type: 'proxy-error',
    stage: 'admission',
    message: `new WebSocket refused: capture overloaded (${reason})`,
    status: 503,
    answer: { headers, body: Buffer.from(text) },
  });
}

/**
 * Refuses an HTTP request that would open a new run: reads its body (recorded, bounded as any), answers `503` with
 * `Retry-After` and the JSON body, and records the request and a terminal proxy-error fact with the exact answer:
 * the audit trail shows every refusal, and the agent's exchange is stored as it saw it. Nothing goes upstream.
 */
export function refuseRequest(
  emitter: FactEmitter,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  platform: ProxiedPlatform,
  platformPath: string,
  maxBodyBytes: number,
  reason: string,
  retryAfterS: number,
): void {
  const id = emitter.nextId('http');
  const started = stamp();
  const body = new BodyCollector(maxBodyBytes);
  let done = false;
  const answer = (): void => {
    if (done) return;
    done = true;
    emitter.emit(platform, id, started, { type: 'http-request', method: req.method ?? 'GET', path: platformPath, headers: headerPairs(req.rawHeaders), body: body.body() });
    const text = JSON.stringify(refusalBody(reason, retryAfterS));
    const headers = refusalHeaders(text, retryAfterS);
    if (res.headersSent || res.destroyed) {
      // The client went away before the refusal could be sent: recorded as such (no answer), not as an answer it got.
      emitter.emit<ProxyErrorFact>(platform, id, stamp(), { type: 'proxy-error', stage: 'client', message: `client went away before the response (a new run refused: capture overloaded, ${reason})` });
      return;
    }
    res.writeHead(503, Object.fromEntries(headers));
    res.end(text);
    emitter.emit<ProxyErrorFact>(platform, id, stamp(), {
      type: 'proxy-error',
      stage: 'admission',
      message: `new run refused: capture overloaded (${reason})`,
      status: 503,
      terminal: true,
      answer: { headers, body: Buffer.from(text) },
    });
  };
  req.on('data', (chunk: Buffer) => body.add(chunk));
  req.on('end', answer);
  req.on('error', () => undefined);
  req.on('close', answer);
}
