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
  let res: Response;
  try {
    res = await fetch(req.url, { method: req.method, headers: req.headers, ...(req.body ? { body: req.body } : {}), signal: AbortSignal.timeout(req.timeoutMs) });
  } catch (e) {
    const err = e as Error & { cause?: Error };
    const timedOut = err.name === 'TimeoutError' || err.cause?.name === 'TimeoutError' || /due to timeout/.test(err.message);
    const message = timedOut ? `no answer within ${req.timeoutMs} ms` : `unreachable (${err.cause?.message ?? err.message})`;
    stream.add({ kind: 'marker', direction: 'internal', channel: 'internal', format: 'text', body: `${req.label}: ${message}`, msgType: 'call-failed', requestId });
    throw new Error(`${req.label}: ${message}`, { cause: e });
  }
  const body = await res.text();
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
