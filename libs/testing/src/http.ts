/** A test's view of an HTTP answer: status, headers, the exact body text, and its JSON when it parses. */
export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON answer, or undefined (tests read it loosely). */
  json: any;
}

export interface RawRequest {
  method: string;
  headers?: Record<string, string>;
  /** A JSON body (sent with content-type application/json unless headers name another). */
  body?: unknown;
  /** A body sent exactly as given (malformed JSON, oversized payloads…). */
  raw?: string;
}

/** One HTTP call that never throws on a non-2xx answer or a body that is not JSON. */
export async function httpCall(url: string, req: RawRequest): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(req.headers ?? {}) };
  let body = req.raw;
  if (req.body !== undefined) body = JSON.stringify(req.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method: req.method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
