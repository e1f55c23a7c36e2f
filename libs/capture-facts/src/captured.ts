import type { SimulatedPlatform } from '@rewind/platforms';

/**
 * What the recording proxy observed, as raw facts, before redaction and before it is mapped to a
 * captured session. The proxy hands these to a `CaptureSink` synchronously and never waits on it:
 * forwarding never waits on storage. Bodies are the exact bytes forwarded.
 */
export type CapturedFact = WsOpenFact | WsMessageFact | WsCloseFact | HttpRequestFact | HttpResponseFact | ProxyErrorFact | NoteFact;

/**
 * Who observed the fact: the recording proxy (default), the MoltStation spectator (a spectate socket of
 * Rewind's own), or a poller (HTTP calls of Rewind's own). Decides the event's channel: proxy WebSockets are
 * `play_ws` (or `spectate_ws` by path), spectator sockets `spectate_ws`, poller exchanges `poll`.
 */
export type FactOrigin = 'proxy' | 'spectator' | 'poller';

interface FactBase {
  platform: SimulatedPlatform;
  /** One WebSocket connection or one HTTP exchange: `ws-<n>` / `http-<n>`, unique per proxy process. */
  connectionId: string;
  /** process.hrtime.bigint() when observed. */
  atNs: bigint;
  /** Wall clock, µs since the epoch. */
  wallUs: number;
  /** Default `proxy`. */
  origin?: FactOrigin;
}

export interface WsOpenFact extends FactBase {
  type: 'ws-open';
  /** The platform's own path and query, as the client asked (e.g. `/ws/shellrunners/play?sessionId=…`). */
  path: string;
  /** Request headers as received (raw pairs; redaction happens downstream). */
  headers: [string, string][];
}

export interface WsMessageFact extends FactBase {
  type: 'ws-message';
  direction: 'client_to_platform' | 'platform_to_client';
  /** Text frames as the exact string, binary frames as bytes. */
  data: string | Buffer;
  binary: boolean;
  /**
   * The other leg was already closing or closed, so the proxy relayed it to no one (e.g. an input the agent
   * sent while the platform's close was on its way). Recorded all the same: the sender did send it.
   */
  undelivered?: boolean;
  /**
   * `JSON.parse(data)` of a text message, when whoever observed it parsed it already and it parsed (the
   * MoltStation spectator reads every frame's tick and phase): the recorder takes it rather than parsing the
   * same string again. Absent: not parsed, or not JSON. It must be exactly what `JSON.parse(data)` returned.
   */
  parsed?: unknown;
}

export interface WsCloseFact extends FactBase {
  type: 'ws-close';
  /** Who closed first. */
  initiator: 'client' | 'platform' | 'proxy';
  code: number;
  reason: string;
  /**
   * A leg was still open when the close was recorded: the proxy may still read that side's last messages (an agent's
   * input that crossed the platform's close, recorded `undelivered`). The proxy then calls the sink's `released` once
   * both legs are done; until then the socket still counts as open for its run (whose seal waits).
   */
  draining?: boolean;
}

export interface HttpRequestFact extends FactBase {
  type: 'http-request';
  method: string;
  path: string;
  headers: [string, string][];
  body: Buffer;
}

export interface HttpResponseFact extends FactBase {
  type: 'http-response';
  status: number;
  headers: [string, string][];
  body: Buffer;
}

/**
 * The proxy could not reach or talk to the upstream (what the client got instead is in `status`/`message`); or, at
 * stage `admission`, it refused a new capture itself (the recorder was overloaded: `503`, nothing went upstream).
 */
export interface ProxyErrorFact extends FactBase {
  type: 'proxy-error';
  stage: 'connect' | 'upstream' | 'client' | 'admission';
  message: string;
  status?: number;
  /**
   * HTTP: false for a note about an exchange that goes on (e.g. capture truncated a body; its response fact
   * follows or came before); otherwise the exchange ended here and no response fact follows.
   */
  terminal?: boolean;
  /**
   * What the proxy answered the client itself, when it did (the platform never answered): the exact JSON body
   * and headers sent with `status`. Recorded, so the log holds every byte the agent received.
   */
  answer?: { headers: [string, string][]; body: Buffer };
}

/**
 * Something the capture side itself states, not a message on the wire: a `gap` (capture was interrupted —
 * say what was seen last and next, e.g. `{lastTick, nextTick, reason}`) or a `marker` (e.g. a
 * SPECTATORS_FULL retry, a poller's status transition). Becomes a `gap`/`marker` event, direction
 * `internal`, body = JSON of `detail` (redacted like any body).
 */
export interface NoteFact extends FactBase {
  type: 'note';
  kind: 'gap' | 'marker';
  /** Short machine-readable name, e.g. `spectate-gap`, `spectators-full`, `status-transition`. */
  msgType: string;
  detail: Record<string, unknown>;
}

export interface CaptureSink {
  /** Must not throw and must not block: called on the forwarding path. */
  capture(fact: CapturedFact): void;
  /**
   * Writes what the sink holds for the current event-loop turn to its write-ahead log now (one synchronous write;
   * nothing to do, and cheap, when nothing is pending). A sink that logs ahead writes a turn's facts together at
   * the turn's end; a forwarder that must not relay a message before it is logged calls this before its socket
   * writes of the turn. Optional: a sink without a log has nothing to write.
   */
  flush?(): void;
  /**
   * Both legs of the proxied WebSocket `connectionId` are finished: no more fact will come on it. Called once, only
   * after its `ws-close` fact said `draining`. Optional: a sink that holds nothing open per socket has nothing to do.
   */
  released?(connectionId: string): void;
}
