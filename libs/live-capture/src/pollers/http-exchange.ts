import * as http from 'node:http';
import { factClock } from '@rewind/capture-facts';

/** When a fact was observed: hrtime + wall clock µs (see `factClock`). */
export type FactStamp = ReturnType<typeof factClock>;

/** One HTTP exchange a poller made, with the exact bytes on both sides (what the facts carry). */
export interface PollExchange {
  method: string;
  /** The platform's path beneath the base URL, query included (`/api/game/session-status?sessionId=…`). */
  path: string;
  /** Request headers as sent (raw pairs, as set on the request, Host included). */
  requestHeaders: [string, string][];
  requestBody: Buffer;
  requestAt: FactStamp;
  /** Set when a response arrived (complete body). */
  response?: {
    status: number;
    headers: [string, string][];
    body: Buffer;
    at: FactStamp;
  };
  /** Set instead of `response` when no complete answer came: a short code (`ECONNREFUSED`, `timeout`, `aborted`…). */
  error?: string;
}

export interface ExchangeRequest {
  method: 'GET' | 'POST';
  /** Path beneath the base URL, query included. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  signal: AbortSignal;
  timeoutMs: number;
  agent: http.Agent;
  /** Largest response body kept; a longer answer is an error (`response-too-large`). */
  maxBodyBytes: number;
}

/** Joins the base URL (with its base path) and a platform path. */
export function platformUrl(baseUrl: string, path: string): URL {
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  return new URL(`${base.protocol}//${base.host}${basePath}${path.startsWith('/') ? path : `/${path}`}`);
}

/**
 * Makes one HTTP request with node:http (raw response headers, exact body bytes) and never throws: transport
 * failures, time-outs and aborts come back as `error`. The request is destroyed on abort or time-out, so no
 * socket or timer outlives the call.
 */
export function exchange(baseUrl: string, req: ExchangeRequest): Promise<PollExchange> {
  const url = platformUrl(baseUrl, req.path);
  const body = req.body ?? Buffer.alloc(0);
  const headers: Record<string, string> = { ...req.headers };
  if (req.method === 'POST') headers['content-length'] = String(body.length);
  const result: PollExchange = { method: req.method, path: req.path, requestHeaders: [], requestBody: body, requestAt: factClock() };
  if (url.protocol !== 'http:') return Promise.resolve({ ...result, error: 'unsupported-protocol' });
  if (req.signal.aborted) return Promise.resolve({ ...result, error: 'aborted' });

  return new Promise<PollExchange>((resolve) => {
    let done = false;
    const finish = (patch: Partial<PollExchange>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.signal.removeEventListener('abort', onAbort);
      resolve({ ...result, ...patch });
    };
    const r = http.request({ hostname: url.hostname, port: url.port || 80, method: req.method, path: `${url.pathname}${url.search}`, headers, agent: req.agent });
    // Headers as they go out: the ones we set plus the Host node adds, in order.
    result.requestHeaders = r.getRawHeaderNames().map((name) => [name, String(r.getHeader(name) ?? '')] as [string, string]);
    const onAbort = (): void => {
      r.destroy();
      finish({ error: 'aborted' });
    };
    const timer = setTimeout(() => {
      r.destroy();
      finish({ error: 'timeout' });
    }, req.timeoutMs);
    req.signal.addEventListener('abort', onAbort, { once: true });
    r.on('error', (e: Error & { code?: string }) => finish({ error: e.code ?? 'request-error' }));
    r.on('response', (res) => {
      const at = factClock();
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > req.maxBodyBytes) {
          res.destroy();
          r.destroy();
          finish({ error: 'response-too-large' });
          return;
        }
        chunks.push(c);
      });
      res.on('error', () => finish({ error: 'response-error' }));
      res.on('end', () => {
        const pairs: [string, string][] = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string]);
        finish({ response: { status: res.statusCode ?? 0, headers: pairs, body: Buffer.concat(chunks, size), at } });
      });
      res.on('close', () => {
        if (!res.complete) finish({ error: 'connection-lost' });
      });
    });
    r.end(body.length > 0 ? body : undefined);
  });
}
