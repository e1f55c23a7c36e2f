import type { EventStore, NewEvent, NewOutboxMessage, NewSession } from '@rewind/event-store';
import type { BatchWriter } from './writer-thread';

/** What `Ingest.record` takes: an event without the fields the writer assigns. */
export type RecordInput = Omit<NewEvent, 'sessionId' | 'seq' | 'offsetUs' | 'recordedAtUs'> & {
  /** process.hrtime.bigint() when observed (default: now). Drives `offsetUs`. */
  atNs?: bigint;
  /** Wall clock, µs since the epoch, when observed (default: now). Becomes `recordedAtUs`. */
  wallUs?: number;
};

export interface IngestLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface IngestOptions {
  /** Reads (resuming a stream's head) and, unless `writer` is given, the batch writes. */
  store: EventStore;
  /** Who applies each batch (default: `store`); the recorder uses a `WriterThread`. */
  writer?: BatchWriter;
  /**
   * Log every item to `<journalDir>/wal/` (a synchronous write, page cache) before `record` returns, so the
   * death of the process loses nothing (see `WriteAheadLog`); the next Ingest on the directory recovers it.
   * Default false; the recorder turns it on.
   */
  writeAhead?: boolean;
  /**
   * The writer token of the process whose items these are (`metadata.writer`, see the recorder): a stream this
   * Ingest re-homes is stamped with it, so the streams a dead writer left open can be found and sealed.
   */
  writerToken?: string;
  /** Where the outage journal lives (created if missing). One Ingest per directory. */
  journalDir: string;
  /** Most events per batch written (default 2000). */
  batchSize?: number;
  /** How long recorded events may wait for company before a batch is written (default 20 ms). */
  flushIntervalMs?: number;
  /** Events kept in memory at most; beyond it they spill to the journal (default 50,000). */
  maxBufferedEvents?: number;
  /** First retry delay after Postgres became unreachable; doubles up to `maxRetryDelayMs` (default 250 ms). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** While Postgres is down, buffered events are journaled at least this often (default 1000 ms; at once on flush). */
  outageJournalIntervalMs?: number;
  /** An append or open that takes longer is treated as an outage (default 10,000 ms). */
  storeTimeoutMs?: number;
  log?: IngestLogger;
}

export interface IngestStats {
  /** Events in memory (queued or being appended). */
  buffered: number;
  /** Events in the on-disk journal, waiting for Postgres. */
  journaled: number;
  /** Events this instance appended to Postgres (re-appended duplicates not counted). */
  appended: number;
  /** Events found already stored when (re-)appended. */
  duplicates: number;
  /** Events refused by the store (EventStoreError) and kept in `<journalDir>/rejected/`. */
  rejected: number;
  /** Sessions whose events are refused by the store (their later events go to `rejected/` too). */
  rejectedSessions: string[];
  /** Age of the oldest event not yet in Postgres, in ms (0 when everything is stored). */
  lagMs: number;
  /** True while Postgres is unreachable (events go to the journal). */
  outage: boolean;
  /** Appends (store calls) made. */
  appendCalls: number;
}

/**
 * One unit of work, in record order: a session to open, an event to append (with the outbox rows written in
 * the same transaction), a session to mark ended, a session to seal, and a `release`: this writer stops
 * writing the stream for now (its capture task stopped, or is resumed afresh) — nothing is written for it,
 * but if this writer's items of the stream were re-homed, the re-homed stream is sealed there and later items
 * of the stream go to the stream itself again (see `Ingest.releaseSession`).
 */
export type IngestItem =
  | { ordinal: number; type: 'open'; session: NewSession }
  | { ordinal: number; type: 'event'; event: NewEvent; outbox?: NewOutboxMessage[] }
  | { ordinal: number; type: 'end'; sessionId: string; endedAt: Date; outcome?: unknown }
  | { ordinal: number; type: 'seal'; sessionId: string }
  | { ordinal: number; type: 'release'; sessionId: string };

/** The session an item belongs to. */
export function itemSession(item: IngestItem): string {
  return item.type === 'open' ? item.session.id : item.type === 'event' ? item.event.sessionId : item.sessionId;
}

export interface OpenSessionOptions {
  /** process.hrtime.bigint() of the capture start (default: now); offsets count from it. */
  startNs?: bigint;
  /** Continue an existing stream: its head seq and last offset (see also `Ingest.resumeSession`). */
  resumeFrom?: { seq: number; offsetUs: number };
}
