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

/** A WebSocket close the platform's own clients expect (code and reason). */
export interface WsCloseFrame {
  code: number;
  reason: string;
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
  /** How the stream closes at the end of the recording. */
  end(): WsCloseFrame;
  /** How the stream closes when its source fails; absent: the gateway's own error close. */
  error?(): WsCloseFrame;
}
