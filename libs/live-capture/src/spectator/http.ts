/**
 * One HTTP exchange with exact bytes on both sides: the request headers we send are exactly the pairs we
 * record (node adds nothing when host, connection and content-length are given), the response headers are
 * the raw pairs as received, the body the exact bytes. Used for the spectator's token requests (recorded as
 * facts) and for its own control-plane reads (session detail, live list).
 */
import * as http from 'node:http';
import * as https from 'node:https';

export interface HttpExchange {
  status: number;
  /** Request headers as sent (pairs, in order). */
  requestHeaders: [string, string][];
  /** Response headers as received (raw pairs). */
  headers: [string, string][];
  body: Buffer;
  /** The body was longer than `maxBodyBytes` and was cut. */
  truncated: boolean;
}

export interface HttpExchangeOptions {
  method: 'GET' | 'POST';
  url: URL;
  body?: Buffer;
  signal?: AbortSignal;
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** Called with the request headers just before the request is sent (to stamp the request fact). */
  onSend?: (headers: [string, string][]) => void;
  /**
   * A keep-alive agent (of the URL's protocol) for a read that is repeated and never recorded (the discovery's live
   * list): the connection is kept (`connection: keep-alive`) instead of one connection per request. Default: a
   * connection of its own, closed after the answer (`connection: close`).
   */
  agent?: http.Agent;
}

export const SPECTATOR_USER_AGENT = 'rewind-spectator/1';

export function requestHeadersFor(url: URL, method: string, body: Buffer | undefined, keepAlive = false): [string, string][] {
  const headers: [string, string][] = [
    ['host', url.host],
    ['accept', 'application/json'],
    ['user-agent', SPECTATOR_USER_AGENT],
  ];
  if (method !== 'GET' || (body && body.length > 0)) headers.push(['content-length', String(body?.length ?? 0)]);
  if (body && body.length > 0) headers.push(['content-type', 'application/json']);
  headers.push(['connection', keepAlive ? 'keep-alive' : 'close']);
  return headers;
}

/** Rejects on network errors, timeouts and abort (the error of an abort has name `AbortError`). */
export function httpExchange(opts: HttpExchangeOptions): Promise<HttpExchange> {
  const requestHeaders = requestHeadersFor(opts.url, opts.method, opts.body, opts.agent !== undefined);
  const maxBody = opts.maxBodyBytes ?? 4 * 1024 * 1024;
  const lib = opts.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(abortError());
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      clearTimeout(timer);
      fn();
    };
    const req = lib.request(opts.url, {
      method: opts.method,
      headers: Object.fromEntries(requestHeaders),
      agent: opts.agent ?? false,
    });
    const onAbort = (): void => {
      finish(() => reject(abortError()));
      req.destroy();
    };
    const timer = setTimeout(() => {
      finish(() => reject(new Error(`HTTP ${opts.method} timed out after ${opts.timeoutMs ?? 10_000} ms`)));
      req.destroy();
    }, opts.timeoutMs ?? 10_000);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e) => finish(() => reject(e)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      let truncated = false;
      res.on('data', (chunk: Buffer) => {
        if (kept >= maxBody) {
          truncated = true;
          return;
        }
        const part = kept + chunk.length <= maxBody ? chunk : chunk.subarray(0, maxBody - kept);
        if (part.length < chunk.length) truncated = true;
        chunks.push(part);
        kept += part.length;
      });
      res.on('error', (e) => finish(() => reject(e)));
      res.on('end', () =>
        finish(() =>
          resolve({
            status: res.statusCode ?? 0,
            requestHeaders,
            headers: pairs(res.rawHeaders),
            body: Buffer.concat(chunks, kept),
            truncated,
          }),
        ),
      );
    });
    opts.onSend?.(requestHeaders);
    req.end(opts.body && opts.body.length > 0 ? opts.body : undefined);
  });
}

export function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}

export function abortError(): Error {
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}

export function isAbortError(e: unknown): boolean {
  return (e as Error)?.name === 'AbortError';
}

/** `http://h:p/moltstation` + `/api/…` → URL (keeps the base path). */
export function joinUrl(baseUrl: string, platformPath: string): URL {
  return new URL(`${baseUrl.replace(/\/+$/, '')}${platformPath}`);
}

/** Abortable sleep; resolves false when aborted (the timer is cleared either way). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
