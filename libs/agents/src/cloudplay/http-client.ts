import { httpExchange, transportError } from '../http-exchange';
import type { TrafficLog } from '../traffic-log';

export interface HttpReply {
  status: number;
  headers: Headers;
  /** The body exactly as received ('' when empty). */
  text: string;
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  json: unknown;
}

/**
 * fetch with the platform's bearer token, relative to any base URL (the simulator's or a recording
 * proxy's), recording every request and response body into the traffic log exactly as on the wire.
 * Stream name: `<METHOD> <path>` (path relative to the base URL, query included); meta carries method,
 * path, a per-client sequence number pairing request and response, and the response status.
 */
export class CloudplayHttpClient {
  private seq = 0;
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly token: string,
    private readonly traffic?: TrafficLog,
    private readonly log: (line: string) => void = () => undefined,
    private readonly signal?: AbortSignal,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<HttpReply> {
    const seq = ++this.seq;
    const stream = `${method} ${path}`;
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    this.traffic?.record({ stream, channel: 'http', direction: 'sent', data: text, meta: { method, path, seq } });
    this.log(`→ ${method} ${path}${text ? ` ${text}` : ''}`);
    let res: Response;
    let reply: string;
    try {
      ({ res, body: reply } = await httpExchange(`${this.base}${path}`, { method, headers, body: body === undefined ? undefined : text }, this.signal, (r) => r.text()));
    } catch (e) {
      // No answer (connection refused or reset, aborted…): recorded as the exchange's end, without a status.
      this.traffic?.record({ stream, channel: 'http', direction: 'received', data: '', meta: { method, path, seq, error: transportError(e) } });
      this.log(`✗ ${method} ${path}: ${transportError(e)}`);
      throw e;
    }
    this.traffic?.record({
      stream,
      channel: 'http',
      direction: 'received',
      data: reply,
      meta: { method, path, seq, status: res.status, contentType: res.headers.get('content-type') ?? undefined },
    });
    this.log(`← ${res.status} ${method} ${path}${reply ? ` ${reply}` : ''}`);
    let json: unknown;
    try {
      json = reply ? JSON.parse(reply) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text: reply, json };
  }
}
