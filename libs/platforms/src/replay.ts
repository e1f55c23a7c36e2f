import type { Channel, Direction, EventKind } from './vocabulary';

/** A stored event as a platform's replay stream reads it (the replay gateway's rows have these fields). */
export interface ReplayedEvent {
  kind: EventKind;
  direction: Direction;
  channel: Channel;
  body: string | Buffer | null;
  msgType: string | null;
  meta: string | null;
}

/**
 * A WebSocket close the platform's own clients expect (code and reason). A recorded close may carry the codes
 * no close frame can: 1005 (the peer sent no code) is sent as a close without one, 1006 (the connection was cut)
 * as a cut connection, so the client sees what the recorded client saw.
 */
export interface WsCloseFrame {
  code: number;
  reason: string;
}

/** Who closed a recorded socket: the platform, the client, or the recording proxy itself (its shutdown, a protocol error). */
export type CloseInitiator = 'platform' | 'client' | 'proxy';

/** A recorded WebSocket close (a `lifecycle` event `ws-close`, its `meta` `{code, reason, initiator}`). */
export interface RecordedClose extends WsCloseFrame {
  initiator: CloseInitiator;
}

/**
 * The recorded close of a `ws-close` lifecycle event, or undefined for any other event. The initiator comes from
 * `meta`, else from the direction the encoder gave it (platform → client: the platform closed).
 */
export function recordedClose(e: ReplayedEvent): RecordedClose | undefined {
  if (e.kind !== 'lifecycle' || e.msgType !== 'ws-close' || !e.meta) return undefined;
  let meta: { code?: unknown; reason?: unknown; initiator?: unknown };
  try {
    meta = JSON.parse(e.meta) as typeof meta;
  } catch {
    return undefined;
  }
  if (typeof meta.code !== 'number' || !Number.isInteger(meta.code)) return undefined;
  const initiator: CloseInitiator =
    meta.initiator === 'platform' || meta.initiator === 'client' || meta.initiator === 'proxy'
      ? meta.initiator
      : e.direction === 'platform_to_client'
        ? 'platform'
        : e.direction === 'client_to_platform'
          ? 'client'
          : 'proxy';
  return { code: meta.code, reason: typeof meta.reason === 'string' ? meta.reason : '', initiator };
}

/**
 * A platform-compatible replay stream: the replay gateway serves a recording on the platform's own wire
 * protocol at `/replay/<platform>/…`, so the platform's own client (a spectator, a game client) can watch it.
 * Pure: which path it is served at, what the client sends first, which recorded events become frames and how
 * the stream closes. The gateway does the wiring (sockets, authorisation, flow control), the same for all.
 */
export interface PlatformReplayStream {
  /** The endpoint's parameters if `pathname` is this platform's replay endpoint, else null. */
  match(pathname: string): Record<string, string> | null;
  /** How the recording is found: the session id in `?sessionId=`, or the platform's own session id there (MoltStation). */
  lookup: 'session-id' | 'platform-session-id';
  /** The client authenticates with its first message (its token), when not in the query; else its frames are ignored. */
  authMessage?(data: Buffer, binary: boolean): string | null;
  /** The closes the platform uses when authentication fails (no token or a wrong one, an unknown run, an expired token). */
  authCloses?: { invalid: WsCloseFrame; notFound: WsCloseFrame; expired: WsCloseFrame };
  /** The frame the platform sends first, once authenticated. */
  hello?: string;
  /** A fresh encoder for one stream (it may remember what it saw, e.g. the recorded close reason). */
  encoder(): ReplayEncoder;
}

export interface ReplayEncoder {
  /** The frame to send for a recorded event, or undefined to send none. */
  frame(e: ReplayedEvent): string | Buffer | undefined;
  /**
   * The recorded close that ends the stream, when `e` is it: the gateway closes the socket with it at the event's
   * time (the recorded offset, scaled by the speed) and plays nothing after it. Undefined for every other event.
   */
  close?(e: ReplayedEvent): WsCloseFrame | undefined;
  /** How the stream closes at the end of a recording that holds no close of its own (a recording cut short). */
  end(): WsCloseFrame;
  /** How the stream closes when its source fails; absent: the gateway's own error close. */
  error?(): WsCloseFrame;
}
