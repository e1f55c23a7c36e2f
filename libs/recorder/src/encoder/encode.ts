import type { BodyFormat, Channel, Direction, NewEvent } from '@rewind/event-store';
import type { CapturedFact, HttpRequestFact, HttpResponseFact, WsMessageFact } from '@rewind/capture-facts';
import { frameView } from '@rewind/platforms';
import type { Redactor } from '@rewind/redaction';
import { classifyWs } from './classify';

/** An event's content, before the ingest gives it its session, seq and times. */
export type EncodedEvent = Omit<NewEvent, 'sessionId' | 'seq' | 'offsetUs' | 'recordedAtUs'>;

interface ConnectionState {
  channel: Channel;
  /** Tick of the last frame the platform sent on this connection (stamped on the agent's inputs). */
  lastTick: number | null;
  /** HTTP: the request's route, repeated on its response. */
  route?: string;
}

/** Credentials carried in URL query parameters inside a body (e.g. the RGS launch URL's `sessionToken`). */
const QUERY_SECRET = /[?&](sessionToken|token|playToken|spectateToken|accessToken|apiKey|api_key|key)=([^&"'\s#<>]+)/gi;

/** `meta` of a WebSocket message the proxy could not relay (the other leg had closed). */
export const UNDELIVERED_META = JSON.stringify({ undelivered: true });

const TEXT_TYPES = /^(application\/(json|x-ndjson|.*\+json|javascript|xml|x-www-form-urlencoded)|text\/)/i;

/**
 * Turns captured facts into event content: redacted bodies (byte-exact but for the secrets), the body
 * format, the kind by platform, the extracted fields (type, tick, request id), and `meta` for what is not
 * body bytes (HTTP method, path, status, headers; close code and reason). One encoder per proxy: it keeps
 * per-connection state (channel, last frame tick, HTTP route) and forgets a connection when it ends.
 */
export class FactEncoder {
  private readonly connections = new Map<string, ConnectionState>();

  constructor(private readonly redactor: Redactor) {}

  encode(fact: CapturedFact): EncodedEvent {
    switch (fact.type) {
      case 'ws-open': {
        const channel: Channel = fact.origin === 'spectator' || /\/spectate(\?|$)/.test(fact.path.split('?')[0] ?? '') ? 'spectate_ws' : 'play_ws';
        this.connections.set(fact.connectionId, { channel, lastTick: null });
        return this.lifecycle(channel, 'ws-open', { path: this.redactor.redactUrl(fact.path), headers: this.redactor.redactHeaders(fact.headers) });
      }
      case 'ws-message':
        return this.wsMessage(fact);
      case 'ws-close': {
        const channel = this.connections.get(fact.connectionId)?.channel ?? 'play_ws';
        this.connections.delete(fact.connectionId);
        const direction: Direction = fact.initiator === 'client' ? 'client_to_platform' : fact.initiator === 'platform' ? 'platform_to_client' : 'internal';
        return { ...this.lifecycle(channel, 'ws-close', { code: fact.code, reason: fact.reason, initiator: fact.initiator }), direction };
      }
      case 'http-request':
        return this.httpRequest(fact);
      case 'http-response':
        return this.httpResponse(fact);
      case 'note':
        return {
          kind: fact.kind,
          direction: 'internal',
          channel: fact.origin === 'spectator' ? 'spectate_ws' : fact.origin === 'poller' ? 'poll' : 'internal',
          format: 'json',
          body: this.redactText(JSON.stringify(fact.detail)),
          msgType: fact.msgType,
          tick: typeof fact.detail['nextTick'] === 'number' ? (fact.detail['nextTick'] as number) : null,
          requestId: null,
        };
      case 'proxy-error': {
        const conn = this.connections.get(fact.connectionId);
        const channel = conn?.channel ?? 'http';
        // An HTTP exchange ends here (a WebSocket's state goes with its ws-close).
        if (conn?.route !== undefined && fact.terminal !== false) this.connections.delete(fact.connectionId);
        if (fact.answer && fact.status !== undefined) {
          // The proxy answered the client itself: the answer is what the agent received (a marker, never a platform response).
          return {
            kind: 'marker',
            direction: 'internal',
            channel,
            ...this.httpBody(fact.answer.body, header(fact.answer.headers, 'content-type')),
            msgType: 'proxy-error',
            tick: null,
            requestId: conn?.route !== undefined ? fact.connectionId : null,
            meta: JSON.stringify({ stage: fact.stage, status: fact.status, answeredBy: 'proxy', message: this.redactText(fact.message), headers: fact.answer.headers }),
          };
        }
        return {
          kind: 'marker',
          direction: 'internal',
          channel,
          format: 'text',
          body: this.redactText(fact.message),
          msgType: 'proxy-error',
          tick: null,
          requestId: null,
          meta: JSON.stringify({ stage: fact.stage, ...(fact.status !== undefined ? { status: fact.status } : {}) }),
        };
      }
    }
  }

  private lifecycle(channel: Channel, msgType: string, meta: Record<string, unknown>): EncodedEvent {
    return { kind: 'lifecycle', direction: 'internal', channel, format: 'empty', body: null, msgType, tick: null, requestId: null, meta: JSON.stringify(meta) };
  }

  private wsMessage(fact: WsMessageFact): EncodedEvent {
    let conn = this.connections.get(fact.connectionId);
    if (!conn) {
      conn = { channel: (fact.origin === 'spectator' ? 'spectate_ws' : 'play_ws') as Channel, lastTick: null };
      this.connections.set(fact.connectionId, conn);
    }
    const fromClient = fact.direction === 'client_to_platform';
    const meta = fact.undelivered ? { meta: UNDELIVERED_META } : {};
    if (typeof fact.data !== 'string') {
      return {
        kind: fromClient ? 'input' : 'notification',
        direction: fact.direction,
        channel: conn.channel,
        format: 'binary',
        body: this.redactor.redactBinary(fact.data),
        msgType: null,
        tick: null,
        requestId: null,
        ...meta,
      };
    }
    // The spectator parsed its frame already (`parsed`): one parse per frame in the process, not two.
    const { format, first } = fact.parsed !== undefined ? { format: 'json' as const, first: asObject(fact.parsed) } : readText(fact.data);
    const c = classifyWs(fact.platform, fromClient, first);
    if (!fromClient && c.kind === 'frame' && c.tick !== null) conn.lastTick = c.tick;
    return {
      kind: c.kind,
      direction: fact.direction,
      channel: conn.channel,
      format,
      body: this.redactText(fact.data),
      msgType: c.msgType,
      // An input carries the tick of the last frame the agent had seen: reaction latency and replay need it.
      tick: fromClient && c.kind === 'input' ? conn.lastTick : c.tick,
      requestId: c.requestId,
      ...meta,
    };
  }

  private httpRequest(fact: HttpRequestFact): EncodedEvent {
    const route = `${fact.method} ${this.redactor.redactUrl(fact.path.split('?')[0] ?? '/')}`;
    const channel: Channel = fact.origin === 'poller' ? 'poll' : 'http';
    this.connections.set(fact.connectionId, { channel, lastTick: null, route });
    return {
      kind: 'request',
      direction: 'client_to_platform',
      channel,
      ...this.httpBody(fact.body, header(fact.headers, 'content-type')),
      msgType: route,
      tick: null,
      requestId: fact.connectionId,
      meta: JSON.stringify({ method: fact.method, path: this.redactor.redactUrl(fact.path), headers: this.redactor.redactHeaders(fact.headers) }),
    };
  }

  private httpResponse(fact: HttpResponseFact): EncodedEvent {
    const conn = this.connections.get(fact.connectionId);
    const route = conn?.route ?? null;
    this.connections.delete(fact.connectionId);
    return {
      kind: 'response',
      direction: 'platform_to_client',
      channel: conn?.channel ?? (fact.origin === 'poller' ? 'poll' : 'http'),
      ...this.httpBody(fact.body, header(fact.headers, 'content-type')),
      msgType: route,
      tick: null,
      requestId: fact.connectionId,
      meta: JSON.stringify({ status: fact.status, headers: this.redactor.redactHeaders(fact.headers) }),
    };
  }

  private httpBody(body: Buffer, contentType: string | undefined): { format: BodyFormat; body: string | Buffer | null } {
    if (body.length === 0) return { format: 'empty', body: null };
    const text = contentType === undefined || TEXT_TYPES.test(contentType) ? decodeUtf8(body) : null;
    if (text === null) return { format: 'binary', body: this.redactor.redactBinary(body) };
    return { format: readText(text).format, body: this.redactText(text) };
  }

  /**
   * Redacts a text body. A credential can first appear inside a URL in a body (the RGS launch response's
   * `launchUrl=…?sessionToken=…`), where no JSON key names it: such query values are learned first, so the
   * redactor replaces them there and wherever they turn up later.
   */
  private redactText(text: string): string {
    learnQuerySecrets(this.redactor, text);
    return this.redactor.redactText(text);
  }
}

/** Teaches `redactor` the credentials carried as URL query parameters inside `text` (see `FactEncoder.redactText`). */
export function learnQuerySecrets(redactor: Redactor, text: string): void {
  // Nearly every message (a game frame, an input) has no `=` at all: no query parameter to look for, and no
  // match iterator to build (it was ~1 % of the recorder's time in the soak, issue 18).
  if (!text.includes('=')) return;
  for (const m of text.matchAll(QUERY_SECRET)) {
    let value = m[2] as string;
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep the raw value
    }
    if (value.length >= 8 && !value.startsWith('[redacted:')) redactor.remember(value);
    if (value !== m[2] && (m[2] as string).length >= 8) redactor.remember(m[2] as string);
  }
}

function header(pairs: [string, string][], name: string): string | undefined {
  return pairs.find(([k]) => k.toLowerCase() === name)?.[1];
}

/** One strict decoder for every body (`decode` without `stream` keeps no state between calls). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 decoding: null when the bytes are not valid UTF-8 (then they are kept as binary). */
function decodeUtf8(bytes: Buffer): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

function asObject(v: unknown): Record<string, unknown> | null {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/**
 * The body's format and what classification reads of it: one validating scan (`frameView`: the fields the platforms'
 * classifiers read, without building the message; ~1.4 µs against the parse's ~3 µs for a 740-character frame, and
 * none of the parse's garbage, issue 18's fourth pass) decides JSON objects and other JSON values; what it cannot
 * decide (NDJSON, text, a field read that holds an escape) is parsed as before (`parseText`).
 */
function readText(text: string): { format: BodyFormat; first: Record<string, unknown> | null } {
  const view = frameView(text);
  return view !== undefined ? { format: 'json', first: view } : parseText(text);
}

/**
 * The body's format and its first JSON object (for classification), for what `frameView` cannot decide. `JSON.parse`
 * of the whole text is also what tells JSON from text (the stored format must say exactly that), then NDJSON line by
 * line. (A validating scan reading the text with `charCodeAt` cost 3–4× the parse; reading its UTF-8 bytes from one
 * copy, `frameView`, costs half of it.) A producer that parsed the message already hands its parse over
 * (`WsMessageFact.parsed`).
 */
function parseText(text: string): { format: BodyFormat; first: Record<string, unknown> | null } {
  try {
    return { format: 'json', first: asObject(JSON.parse(text)) };
  } catch {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length > 1) {
      try {
        const parsed = lines.map((l) => JSON.parse(l) as unknown);
        return { format: 'ndjson', first: asObject(parsed[0]) };
      } catch {
        // not NDJSON either
      }
    }
    return { format: 'text', first: null };
  }
}
