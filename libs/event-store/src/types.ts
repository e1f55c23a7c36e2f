/** The vocabulary of the event log (mirrors the enums of prisma/schema.prisma). */

export const PLATFORMS = ['moltstation', 'spacemolt', 'cloudplay', 'rgs'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const EVENT_KINDS = ['frame', 'input', 'command', 'notification', 'request', 'response', 'lifecycle', 'gap', 'marker', 'outcome', 'keyframe'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const DIRECTIONS = ['client_to_platform', 'platform_to_client', 'internal'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const CHANNELS = ['play_ws', 'spectate_ws', 'http', 'poll', 'internal'] as const;
export type Channel = (typeof CHANNELS)[number];

/** How the body is to be read: JSON, NDJSON batch, other text, binary bytes, or nothing. */
export const BODY_FORMATS = ['json', 'ndjson', 'text', 'binary', 'empty'] as const;
export type BodyFormat = (typeof BODY_FORMATS)[number];

export const SESSION_STATUSES = ['open', 'ended', 'sealed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** One event to append. Times are integer microseconds (safe integers). */
export interface NewEvent {
  sessionId: string;
  /** Gapless per session, from 1; assigned by the writer (the capture side). */
  seq: number;
  kind: EventKind;
  direction: Direction;
  channel: Channel;
  /** Wall clock, µs since the Unix epoch. */
  recordedAtUs: number;
  /** Monotonic µs since capture start; never decreases within a session. */
  offsetUs: number;
  format: BodyFormat;
  /** Exact wire content after redaction: a string for text formats, bytes for `binary`, null for `empty`. */
  body: string | Buffer | null;
  msgType?: string | null;
  tick?: number | null;
  requestId?: string | null;
  /** JSON text of what is not body bytes (HTTP method/path/status/headers, close code/reason), redacted. */
  meta?: string | null;
}

/** An event as read back: every field present, plus its place in the global order and its chain link. */
export interface StoredEvent extends Omit<NewEvent, 'msgType' | 'tick' | 'requestId' | 'meta'> {
  globalPosition: bigint;
  txId: bigint;
  msgType: string | null;
  tick: number | null;
  requestId: string | null;
  meta: string | null;
  hash: Buffer;
}

/** An event as a replay needs it (EventStore.readReplayPage): its place, its kind and what it carried. */
export type ReplayRow = Pick<StoredEvent, 'seq' | 'offsetUs' | 'kind' | 'direction' | 'channel' | 'format' | 'body' | 'msgType' | 'tick' | 'meta'>;

export interface NewSession {
  id: string;
  platform: Platform;
  game?: string | null;
  platformSessionId?: string | null;
  agent?: string | null;
  source?: string | null;
  startedAt: Date;
  metadata?: Record<string, unknown>;
}

export interface SessionRecord {
  id: string;
  platform: Platform;
  game: string | null;
  platformSessionId: string | null;
  agent: string | null;
  source: string | null;
  status: SessionStatus;
  startedAt: Date;
  endedAt: Date | null;
  headSeq: number;
  headHash: Buffer;
  sealedAt: Date | null;
  sealedHash: Buffer | null;
  sealedCount: number | null;
  outcome: unknown;
  metadata: Record<string, unknown>;
}

/** A message for the transactional outbox, written with the events that caused it. */
export interface NewOutboxMessage {
  sessionId?: string | null;
  queue: string;
  jobName: string;
  payload: unknown;
  /** Unique when set: a second message with the same key is ignored (re-appends, two streams of one run). */
  dedupeKey?: string | null;
}

/** A position in the global order: the writing transaction, then the global position within it. */
export interface GlobalCheckpoint {
  txId: bigint;
  globalPosition: bigint;
}

export const GLOBAL_START: GlobalCheckpoint = { txId: -1n, globalPosition: -1n };
