import { PLATFORM_IDS, type BodyFormat, type Channel, type Direction, type EventKind, type PlatformId, type SessionStatus } from '@rewind/platforms';

/**
 * The vocabulary of the event log (mirrors the enums of prisma/schema.prisma). It is defined with the platform
 * modules (libs/platforms), the lowest layer that speaks it, and re-exported here for the store's users.
 */
export { BODY_FORMATS, CHANNELS, DIRECTIONS, EVENT_KINDS, SESSION_STATUSES } from '@rewind/platforms';
export type { BodyFormat, Channel, Direction, EventKind, SessionStatus } from '@rewind/platforms';

export const PLATFORMS = PLATFORM_IDS;
export type Platform = PlatformId;

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

/** An event as its chain is verified from it (ChainVerifier) and an audit reads it: without its place in the global order. */
export type ChainedEvent = Omit<StoredEvent, 'globalPosition' | 'txId'>;

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
