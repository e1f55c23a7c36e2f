import type { SimulatedPlatform } from '@rewind/simulator';

/**
 * What the recording proxy observed, as raw facts, before redaction and before it is mapped to a
 * captured session. The proxy hands these to a `CaptureSink` synchronously and never waits on it:
 * forwarding never waits on storage. Bodies are the exact bytes forwarded.
 */
export type CapturedFact =
  | WsOpenFact
  | WsMessageFact
  | WsCloseFact
  | HttpRequestFact
  | HttpResponseFact
  | ProxyErrorFact;

interface FactBase {
  platform: SimulatedPlatform;
  /** One WebSocket connection or one HTTP exchange: `ws-<n>` / `http-<n>`, unique per proxy process. */
  connectionId: string;
  /** process.hrtime.bigint() when observed. */
  atNs: bigint;
  /** Wall clock, µs since the epoch. */
  wallUs: number;
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
}

export interface WsCloseFact extends FactBase {
  type: 'ws-close';
  /** Who closed first. */
  initiator: 'client' | 'platform' | 'proxy';
  code: number;
  reason: string;
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

/** The proxy could not reach or talk to the upstream (what the client got instead is in `status`/`message`). */
export interface ProxyErrorFact extends FactBase {
  type: 'proxy-error';
  stage: 'connect' | 'upstream' | 'client';
  message: string;
  status?: number;
}

export interface CaptureSink {
  /** Must not throw and must not block: called on the forwarding path. */
  capture(fact: CapturedFact): void;
}
