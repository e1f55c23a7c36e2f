import type { CaptureTaskKind, PlatformId } from './platforms';
import { bearerOf } from './wire';

/**
 * What a platform module tells the recorder about captured traffic: which stream (run) a fact belongs to and
 * what it says about the run. Pure functions over the raw exchange, so every rule is unit-tested on its own.
 * Secrets only ever leave here as keyed fingerprints (`fp`), never as characters: stream keys and `agent`
 * values are safe to store and log.
 */

/** A keyed fingerprint function (the Redactor's): `[redacted:<16 hex>]`. */
export type Fingerprint = (secret: string) => string;

export interface StreamIdentity {
  /**
   * The stream key, unique per platform: `session:<platform session id>` (a run: MoltStation and cloud-play
   * session ids, the RGS session id, a SpaceMolt WebSocket connection or HTTP session) or
   * `account:<credential fingerprint|anonymous>` (traffic that belongs to no run: logins, lists).
   */
  key: string;
  /** The platform's own session id when it is not a credential (stored in `sessions.platform_session_id`). */
  platformSessionId?: string | null;
  game?: string | null;
  /** A non-secret agent name (wallet, username, player id) or a credential fingerprint. */
  agent?: string | null;
  /** MoltStation start `source` (`agent_api` / `browser_ws`). */
  source?: string | null;
}

/** The run is over: the event that carried the signal is recorded, then the outcome, then the stream ends. */
export interface EndSignal {
  reason: string;
  outcome: Record<string, unknown>;
}

/** Tokens the recorder should remember as the latest for a run (for its pollers; never stored in clear). */
export interface LearnedCredential {
  /** Stream key of the run it belongs to. */
  key: string;
  name: 'bearer' | 'sessionToken';
  value: string;
  /** When the platform said it expires (ms since epoch), if it did. */
  expiresAtMs?: number;
}

export interface HttpExchange {
  platform: PlatformId;
  method: string;
  /** The platform path with query, as the client asked. */
  path: string;
  requestHeaders: [string, string][];
  requestBody: Buffer;
  /** Absent when the upstream never answered (proxy error). */
  status?: number;
  responseBody?: Buffer;
}

export interface HttpAttribution {
  identity: StreamIdentity;
  /** A capture task the recorder should start for this run (spectator / poller), if any. */
  task?: { kind: CaptureTaskKind; params: Record<string, unknown> };
  credentials: LearnedCredential[];
  /** Another key the run is also known by from now on (RGS: the fingerprint of a refreshed token). */
  aliases: string[];
  end?: EndSignal;
  /** RGS: the expiry the platform stated for the run (launch, refresh), ms since the epoch. */
  expiresAtMs?: number;
  /** RGS: an authenticated call that moves the run's expiry to at least one TTL from now. */
  activity?: boolean;
}

export interface WsAttribution {
  identity: StreamIdentity;
}

/**
 * What a WebSocket message tells about its run: a SpaceMolt login/register names the agent; a SpaceMolt
 * logout ends the run once the connection closes; a MoltStation frame with `phase:"ended"` is the final frame.
 */
export interface WsMessageSignal {
  agent?: string;
  finalFrame?: Record<string, unknown>;
  logout?: boolean;
}

/** A proxied WebSocket's close, as the recorder saw it. */
export interface SocketClose {
  code: number | null;
  reason: string;
  initiator: string;
}

/** What the recorder knows of a run when its socket closes. */
export interface RunAtClose {
  finalFrame: Record<string, unknown> | null;
  logout: boolean;
  agent: string | null;
}

/** Traffic that belongs to no run: keyed by the credential's fingerprint (or `anonymous`). */
export function accountOf(x: HttpExchange, fp: Fingerprint, issued?: string): StreamIdentity {
  const credential = bearerOf(x.requestHeaders) ?? issued;
  const agent = credential ? fp(credential) : null;
  return { key: `account:${agent ?? 'anonymous'}`, agent };
}

/** The stream of a connection no platform rule claims: its own. */
export function connectionIdentity(connectionId: string): WsAttribution {
  return { identity: { key: `connection:${connectionId}`, platformSessionId: null } };
}

/** A WebSocket message as one JSON object, when it may carry a signal (size, shape); null otherwise. */
export function wsObject(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null; // NDJSON batches and malformed text carry no signal the recorder needs
  }
}

/**
 * Whether a message may carry a signal at all: the rest (nearly every frame) are not parsed a second time.
 * The encoder has already parsed each message once; on the hot path only candidates are parsed again. (Text
 * with \u escapes could spell a key differently: it is always a candidate.)
 */
export function maySignal(text: string, re: RegExp): boolean {
  if (text.length > 1_000_000 || text[0] !== '{') return false;
  return re.test(text) || text.includes('\\u');
}
