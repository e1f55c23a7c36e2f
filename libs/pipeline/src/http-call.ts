import http from 'node:http';
import https from 'node:https';
import type { Redactor } from '@rewind/redaction';
import type { JobStream } from './job-stream';

export interface CallResult {
  status: number;
  body: string;
  json: unknown;
}

/**
 * One HTTP call of a pipeline job, recorded in the job's stream as a `request` and a `response` (or a
 * `marker` for a network error / timeout), redacted like everything Rewind stores. Throws on network
 * errors and timeouts (the job retries); returns the answer otherwise.
 */
export async function recordedCall(
  stream: JobStream,
  redactor: Redactor,
  req: { method: string; url: string; headers: Record<string, string>; body?: string; timeoutMs: number; label: string; base?: string },
): Promise<CallResult> {
  // The platform's own path (beneath its base URL), as the recorder names the agent's calls.
  const full = new URL(req.url).pathname;
  const basePath = req.base ? new URL(req.base).pathname.replace(/\/+$/, '') : '';
  const path = basePath && full.startsWith(basePath) ? full.slice(basePath.length) || '/' : full;
  const headers = Object.entries(req.headers) as [string, string][];
  const requestId = `${req.label}-${Date.now().toString(36)}`;
  // Stored before the call is made (with what the job added before it); what follows, with the next flush.
  await stream.append({
    kind: 'request',
    direction: 'client_to_platform',
    channel: 'http',
    format: req.body ? 'json' : 'empty',
    body: req.body ? redactor.redactText(req.body) : null,
    msgType: `${req.method} ${redactor.redactUrl(path)}`,
    requestId,
    meta: JSON.stringify({ method: req.method, url: redactor.redactUrl(req.url), headers: redactor.redactHeaders(headers) }),
  });
  let res: { status: number; body: string };
  try {
    res = await httpCall(req);
  } catch (e) {
    const err = e as Error & { cause?: Error };
    const timedOut = err.name === 'TimeoutError' || err.cause?.name === 'TimeoutError' || /due to timeout/.test(err.message);
    const message = timedOut ? `no answer within ${req.timeoutMs} ms` : `unreachable (${err.cause?.message ?? err.message})`;
    stream.add({ kind: 'marker', direction: 'internal', channel: 'internal', format: 'text', body: `${req.label}: ${message}`, msgType: 'call-failed', requestId });
    throw new Error(`${req.label}: ${message}`, { cause: e });
  }
  const body = res.body;
  stream.add({
    kind: 'response',
    direction: 'platform_to_client',
    channel: 'http',
    format: body === '' ? 'empty' : 'json',
    body: body === '' ? null : redactor.redactText(body),
    msgType: `${req.method} ${redactor.redactUrl(path)}`,
    requestId,
    meta: JSON.stringify({ status: res.status }),
  });
  let json: unknown;
  try {
    json = body ? JSON.parse(body) : null;
  } catch {
    json = null;
  }
  return { status: res.status, body, json };
}

/**
 * Keep-alive agents of the pipeline's calls. Idle sockets are closed after 4 s, before a Node server's default
 * keep-alive timeout (5 s) closes them under a request.
 */
const agents = { 'http:': new http.Agent({ keepAlive: true, timeout: 4_000 }), 'https:': new https.Agent({ keepAlive: true, timeout: 4_000 }) };

/** Statuses after which `fetch` would have followed `location`; the method becomes GET for 301–303 (not for a GET/HEAD). */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * One HTTP exchange on `node:http`/`node:https` with a keep-alive agent, the whole answer read as UTF-8 text (a BOM
 * dropped) — what `fetch(...).text()` gave `recordedCall`, with its redirects followed (up to 20, as fetch), for
 * about a third of its CPU: measured ~3× cheaper per call than Node 20's `fetch` (undici with its WHATWG
 * Request/Response/streams; libs/pipeline/bench/http-client.ts, docs/pipeline.md). A timeout rejects with a
 * `TimeoutError` (as `AbortSignal.timeout` did), a network error with the error as its cause; a request that
 * meets a kept-alive socket the server has just closed is sent once more on a fresh one (it never reached the
 * server).
 */
export async function httpCall(req: { method: string; url: string; headers: Record<string, string>; body?: string; timeoutMs: number }): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + req.timeoutMs;
  let { method, url, body } = req;
  for (let redirects = 0; ; redirects++) {
    const res = await exchange(method, url, req.headers, body, deadline);
    const location = REDIRECTS.has(res.status) ? res.location : undefined;
    if (!location || redirects >= 20) return { status: res.status, body: res.body };
    url = new URL(location, url).toString();
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
    }
  }
}

function exchange(
  method: string,
  url: string,
  headers: Record<string, string>,
  body: string | undefined,
  deadline: number,
  retried = false,
): Promise<{ status: number; body: string; location?: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const agent = agents[target.protocol as keyof typeof agents];
    if (!agent) return reject(new TypeError(`unsupported protocol ${target.protocol}`));
    const payload = body === undefined ? undefined : Buffer.from(body);
    const request = (target.protocol === 'https:' ? https : http).request(target, {
      method,
      agent,
      headers: payload ? { ...headers, 'content-length': String(payload.length) } : headers,
    });
    let settled = false;
    let responded = false;
    const timer = setTimeout(
      () => {
        const e = new Error('no answer within the time limit');
        e.name = 'TimeoutError';
        fail(e);
        request.destroy(e);
      },
      Math.max(0, deadline - Date.now()),
    );
    function fail(e: Error & { code?: string }): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Only before any answer: the server closed the idle socket, so the request never reached it.
      if (!retried && !responded && request.reusedSocket && e.name !== 'TimeoutError' && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
        exchange(method, url, headers, body, deadline, true).then(resolve, reject);
        return;
      }
      reject(e.name === 'TimeoutError' ? e : new TypeError('fetch failed', { cause: e }));
    }
    request.on('error', fail);
    request.on('response', (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('aborted', () => fail(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' })));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        const location = res.headers.location;
        resolve({ status: res.statusCode ?? 0, body: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, ...(location ? { location } : {}) });
      });
    });
    request.end(payload);
  });
}
