import { PLATFORMS, type SimulatedPlatform } from '@rewind/platforms';
import type { CaptureSink } from '@rewind/capture-facts';

export type ProxiedPlatform = SimulatedPlatform;
/** Every registered platform is proxied (libs/platforms' registry). */
export const PROXIED_PLATFORMS: readonly ProxiedPlatform[] = PLATFORMS.map((p) => p.id);

/** What the proxy asks its `admit` hook about, before it forwards a new WebSocket upgrade or HTTP request. */
export interface AdmissionRequest {
  kind: 'ws' | 'http';
  platform: ProxiedPlatform;
  method: string;
  /** The platform's own path, with its query. */
  path: string;
}

/** The hook's answer: forward it, or refuse it (503 + `Retry-After`) because the recorder cannot take more. */
export type AdmissionDecision = { ok: true } | { ok: false; reason: string; retryAfterS: number };

export interface RecordingProxyOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * Platforms also served at the root of a port of their own (0: a free one), e.g. `{ moltstation: 8181 }`:
   * `/ws/flappybots/play` there is `/moltstation/ws/flappybots/play` on `port`, recorded alike. Each needs an upstream.
   */
  platformPorts?: Partial<Record<ProxiedPlatform, number>>;
  /** Base URL per platform (http:// or https://, with the platform's base path), e.g. http://127.0.0.1:4100/moltstation. */
  upstreams: Partial<Record<ProxiedPlatform, string>>;
  /** Receives every fact synchronously; never awaited. */
  sink: CaptureSink;
  /** Largest WebSocket message accepted from either side; bigger → close 1009 both ways. Default 16 MiB. */
  maxWsMessageBytes?: number;
  /** Largest HTTP body copied into a fact (forwarding is never limited). Default 8 MiB. */
  maxHttpBodyBytes?: number;
  /** No upstream response headers (or WS handshake) within this time → 504. Default 120 s. */
  upstreamTimeoutMs?: number;
  /**
   * How long an idle keep-alive connection from a client stays open (node's `keepAliveTimeout`, advertised to the
   * client as `Keep-Alive: timeout=…`; node closes 1 s after it). Default 5 s (node's). The close itself waits for the
   * I/O of the event-loop turn it fires in (`closeIdleAfterTurn`): a request already received is served, not reset.
   */
  keepAliveTimeoutMs?: number;
  /** One line per exchange / connection: method, platform, path without query, status, sizes. Never secrets. */
  log?: (line: string) => void;
  /**
   * Admission control (graceful overload): asked before a new WebSocket upgrade or HTTP request is forwarded. A
   * refusal is answered `503 Service Unavailable` with `Retry-After` and `{"error":"capture_overloaded",…}`, and
   * recorded (a proxy-error fact at stage `admission` with the exact answer); nothing goes upstream. Connections
   * already relayed are never asked. Absent: everything is admitted. The decision is the recorder's (libs/capture).
   */
  admit?: (request: AdmissionRequest) => AdmissionDecision;
}

export interface RunningRecordingProxy {
  /** http://host:port */
  url: string;
  port: number;
  /** http://host:port of each platform served at the root of its own port (`platformPorts`). */
  platformUrls: Partial<Record<ProxiedPlatform, string>>;
  /** Stops listening, closes every proxied WebSocket (1001) and in-flight exchange. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_WS_MESSAGE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_HTTP_BODY_BYTES = 8 * 1024 * 1024;
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 120_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
