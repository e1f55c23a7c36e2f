import type { NewOutboxMessage, NewSession, Platform } from '@rewind/event-store';
import type { CapturedFact } from '@rewind/capture-facts';
import type { RecordInput } from '@rewind/ingest';
import type { EncodedEvent } from '../encoder';
import type { EndSignal, Fingerprint, LearnedCredential, StreamIdentity, WsMessageSignal } from '@rewind/platforms';
import type { Memory, PMap } from './pmap';

/** A capture task the recorder wants run for a run it saw start (see the scale-out coordinator). */
export interface TaskOffer {
  /** Deterministic: `<platform>.<kind>.<run key>` (see `taskId`); the task's stream id derives from it. */
  id: string;
  kind: 'moltstation-spectate' | 'cloudplay-poll' | 'rgs-poll';
  platform: Platform;
  /** The run's stream key (e.g. `session:<id>`), for credential look-ups. */
  runKey: string;
  platformSessionId: string | null;
  params: Record<string, unknown>;
}

// ——— state ———

/** The lifecycle's settings (the Recorder's options). */
export interface LifecycleConfig {
  /** An ended run stays open for late events this long, then it is sealed. */
  sealAfterMs: number;
  /** An account or after-run stream ends and is sealed after this much silence. */
  accountIdleMs: number;
  /** A run with no traffic for this long ends with reason `idle`. */
  runIdleMs: number;
  /** RGS session inactivity TTL: the run ends `expired` when it passes. */
  rgsTtlMs: number;
  /** A connection's events held waiting for its stream (a SpaceMolt socket before its login) at most. */
  holdLimit: number;
  /**
   * A proxied socket closed with a leg still open (`draining`) holds its run's seal until the proxy releases it, at
   * most this long after its close (should the release never come).
   */
  drainHoldMs: number;
  /** `metadata.capturedBy` of the streams the proxy's facts open. */
  capturedBy: string;
  /** `metadata.writer` of every stream opened (see `sealStreamsOfDeadWriter`). */
  writer?: string;
}

/** An event waiting for its stream, with the times it was observed. */
export interface Held {
  event: EncodedEvent;
  /** process.hrtime.bigint() when observed: the stream's capture starts at its first event's. */
  atNs: bigint;
  /** Wall clock, µs since the epoch. */
  wallUs: number;
}

/**
 * `run`: one platform run as the proxy saw it; `account`: traffic of no run (per credential); `after-run`:
 * traffic about a run already sealed here; `task`: a spectator's or poller's stream (id from the task id).
 */
export type StreamKind = 'run' | 'account' | 'after-run' | 'task';

/** What a stream's one timer does when it is due. */
export type TimerAction = 'seal' | 'end-account' | 'expire' | 'idle';

export interface StreamState {
  /** `<platform>|<key>`: the stream's name in the state. */
  ref: string;
  id: string;
  platform: Platform;
  key: string;
  kind: StreamKind;
  /** Sealed streams leave the state (their runs are remembered in `sealedRuns`). */
  status: 'open' | 'ended';
  identity: StreamIdentity;
  /** Other keys the run is known by (RGS token fingerprints). */
  aliases: readonly string[];
  /** The session row's metadata as first opened (an `open` that fills identity columns repeats it). */
  metadata: Record<string, unknown>;
  /** The session row's `started_at` (ms). */
  startedAtMs: number;
  lastActivityMs: number;
  events: number;
  /** MoltStation: the `phase:"ended"` frame. */
  finalFrame: Record<string, unknown> | null;
  /** SpaceMolt: the agent logged out (the close ends the run `logout`). */
  logout: boolean;
  /** RGS: when the platform's session expires unless the agent calls it. */
  expiresAtMs: number | null;
  /** RGS run first seen by its token: its poller was offered. */
  pollOffered: boolean;
  /** The stream's timer, as a due time (the adapter arms a real one). */
  due: { atMs: number; action: TimerAction } | null;
  /** Capture tasks: the attempt that writes it. */
  attempt?: number;
}

export interface ConnectionState {
  platform: Platform;
  /** The stream it was attributed to (resolved key), once known. */
  streamKey: string | null;
  /** Events waiting for the stream to be known (an HTTP request until its response; a SpaceMolt socket until its login). */
  held: readonly Held[];
  /** HTTP: the request, attributed with its response. */
  request?: Extract<CapturedFact, { type: 'http-request' }>;
  /** WebSocket: its path (attribution by `?sessionId=`). */
  wsPath?: string;
}

export interface LifecycleState {
  config: LifecycleConfig;
  /** By ref (`<platform>|<key>`). */
  streams: PMap<StreamState>;
  /** `<platform>|<alias>` → primary key. */
  aliases: PMap<string>;
  connections: PMap<ConnectionState>;
  /** HTTP exchanges recently attributed → their stream key (late notes about them). */
  finished: Memory<string>;
  /** WebSockets recently closed → their stream: a message that crossed the close joins its run. */
  closedSockets: Memory<{ platform: Platform; key: string }>;
  /** WebSockets closed whose other leg the proxy may still read (by connection id): their run is not sealed yet. */
  draining: PMap<{ platform: Platform; key: string; sinceMs: number }>;
  /** Runs sealed here recently (by every key and alias) → their stream id, for after-run traffic. */
  sealedRuns: Memory<string>;
  /** The attempt of each capture task that owns its stream (by ref). */
  tasks: PMap<number>;
  closed: boolean;
}

// ——— commands ———

/** A fact the proxy captured, already encoded (and redacted) by the adapter. */
export interface CaptureFact {
  type: 'CaptureFact';
  fact: CapturedFact;
  event: EncodedEvent;
  /** WebSocket text messages: what `inspectWsMessage` found in it (the agent's name, a final frame, a logout). */
  signal?: WsMessageSignal;
  /** The adapter's keyed fingerprint (pure: one secret, one value), for HTTP attribution. */
  fingerprint: Fingerprint;
  /** Id source for the streams this fact opens. */
  newId: () => string;
}

/** A stream's timer fired (maybe early: the decider re-arms it then). */
export interface TimerDue {
  type: 'TimerDue';
  ref: string;
}

/** A capture task's attempt claims its stream (before the adapter resumes it from the store). */
export interface ClaimTaskStream {
  type: 'ClaimTaskStream';
  ref: string;
  attempt: number;
}

/** The store could not resume the task's stream: the claim is undone. */
export interface AbandonTaskClaim {
  type: 'AbandonTaskClaim';
  ref: string;
  attempt: number;
}

/** The task's stream was resumed in the Ingest: the attempt records into it from now on. */
export interface OpenTaskStream {
  type: 'OpenTaskStream';
  offer: TaskOffer;
  identity: StreamIdentity;
  sessionId: string;
  attempt: number;
  metadata: Record<string, unknown>;
}

export interface CaptureTaskFact {
  type: 'CaptureTaskFact';
  ref: string;
  attempt: number;
  held: Held;
  signal?: WsMessageSignal;
}

export interface EndTaskStream {
  type: 'EndTaskStream';
  ref: string;
  attempt: number;
  signal: EndSignal;
}

export interface ReleaseTaskStream {
  type: 'ReleaseTaskStream';
  ref: string;
  attempt: number;
}

/** The proxy is done with both legs of a socket whose close said `draining`: its run's seal need not wait for it. */
export interface SocketReleased {
  type: 'SocketReleased';
  connectionId: string;
}

/** The recorder stops: what is held is recorded, open runs get a `capture-stopped` marker. */
export interface CloseRecorder {
  type: 'CloseRecorder';
  /** Id source for the streams that what is held opens (a socket closed before its login). */
  newId: () => string;
}

export type LifecycleCommand = CaptureFact | SocketReleased | TimerDue | ClaimTaskStream | AbandonTaskClaim | OpenTaskStream | CaptureTaskFact | EndTaskStream | ReleaseTaskStream | CloseRecorder;

// ——— events ———

export type LifecycleEvent =
  | { type: 'ConnectionOpened'; connectionId: string; connection: ConnectionState }
  | { type: 'EventHeld'; connectionId: string; held: Held }
  | { type: 'ConnectionBound'; connectionId: string; streamKey: string }
  | { type: 'HeldFlushed'; connectionId: string }
  | { type: 'ConnectionClosed'; connectionId: string }
  /** `drainingSinceMs`: the proxy may still read the socket's other leg (its seal waits for `SocketReleased`). */
  | { type: 'SocketClosed'; connectionId: string; platform: Platform; key: string; drainingSinceMs?: number }
  | { type: 'SocketReleased'; connectionId: string }
  | { type: 'ExchangeAttributed'; connectionId: string; key: string }
  | { type: 'StreamOpened'; stream: StreamState; startNs: bigint | null; startedAt: number }
  | { type: 'IdentityLearned'; ref: string; agent?: string; game?: string }
  /** `due`: the stream's timer, moved by this activity (not for task streams). */
  | { type: 'EventRecorded'; ref: string; atMs: number; due?: { atMs: number; action: TimerAction } }
  | { type: 'AliasAdded'; ref: string; alias: string }
  | { type: 'PollerOffered'; ref: string }
  | { type: 'FinalFrameSeen'; ref: string; frame: Record<string, unknown> }
  | { type: 'LogoutSeen'; ref: string }
  | { type: 'ExpiryMoved'; ref: string; expiresAtMs: number }
  | { type: 'TimerArmed'; ref: string; atMs: number; action: TimerAction }
  | { type: 'RunEnded'; ref: string; reason: string; outcome: Record<string, unknown>; outbox: NewOutboxMessage[]; atMs: number }
  | { type: 'StreamEnded'; ref: string; atMs: number }
  | { type: 'StreamSealed'; ref: string }
  | { type: 'CaptureStopped'; ref: string }
  | { type: 'TaskClaimed'; ref: string; attempt: number }
  | { type: 'TaskReleased'; ref: string; attempt: number; dropStream: boolean }
  | { type: 'RecorderClosed' };

// ——— effects (what the adapter does) ———

export type LifecycleEffect =
  | { type: 'openSession'; session: NewSession; startNs?: bigint }
  | { type: 'record'; sessionId: string; input: RecordInput; outbox?: NewOutboxMessage[] }
  | { type: 'endSession'; sessionId: string; endedAt: Date; outcome?: Record<string, unknown> }
  | { type: 'sealSession'; sessionId: string }
  | { type: 'releaseSession'; sessionId: string }
  | { type: 'offerTask'; offer: TaskOffer }
  | { type: 'credential'; runKey: string; credential: LearnedCredential }
  | { type: 'activity'; runKey: string; atMs: number }
  | { type: 'setTimer'; ref: string; atMs: number }
  | { type: 'clearTimer'; ref: string }
  | { type: 'log'; level: 'info'; message: string };

export interface Decision {
  events: LifecycleEvent[];
  effects: LifecycleEffect[];
}
