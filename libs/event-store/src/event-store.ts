import { Db, isPrismaService, Pool, PoolClient, PrismaService, withTransaction } from '@rewind/db';
import { AppendResult, appendInTransaction, StoreBatch, writeBatchInTransaction } from './append';
import { EventStoreError, EventStoreErrorCode, sessionNotFound } from './errors';
import { genesisHash } from './hash';
import { EventReadsRepository } from './repositories/event-reads.repository';
import { SessionsRepository } from './repositories/sessions.repository';
import { isUuid } from './validate';
import { GlobalCheckpoint, GLOBAL_START, NewEvent, NewOutboxMessage, NewSession, ReplayRow, SessionRecord, StoredEvent } from './types';

export { SessionRow, toSessionRecord, sessionRecordOf, SESSION_COLUMNS } from './repositories/sessions.repository';
export { EventRow, toStoredEvent } from './repositories/event-reads.repository';

export interface ReadSessionOptions {
  /** First seq to read (inclusive). */
  fromSeq?: number;
  /** Last seq to read (inclusive). */
  toSeq?: number;
  /** First offset to read (inclusive), µs since capture start. */
  fromOffsetUs?: number;
  /** End of the offset range (exclusive). */
  toOffsetUs?: number;
  /** Rows per round trip; small pages keep a replay's event loop responsive. */
  pageSize?: number;
}

export interface GlobalPage {
  events: StoredEvent[];
  /** Where the next read starts; unchanged when nothing new is committed yet. */
  checkpoint: GlobalCheckpoint;
}

/**
 * The append-only, per-session ordered, hash-chained event log on Postgres. Appends go through `pg` (COPY,
 * libs/event-store/src/append.ts) for throughput, on the PrismaService's own pool; every other read and
 * write delegates to the repositories on Prisma (SessionsRepository, EventReadsRepository). See
 * docs/event-log.md for the format and guarantees, docs/data-layer.md for the split.
 */
export class EventStore {
  private readonly pool: Pool;
  private repositories: { sessions: SessionsRepository; reads: EventReadsRepository } | undefined;

  /**
   * Given a PrismaService, or (older call sites, tests, the ingest's writer thread) a `pg` pool that a
   * PrismaService then borrows — created on the first read, not here: a process that only appends (the
   * recorder's writer thread, `rewind bench ingest`) never loads Prisma's query engine, which measurably slows
   * the COPY path around it (~7 %, docs/benchmarks.md).
   */
  constructor(private readonly db: Db) {
    this.pool = isPrismaService(db) ? db.pool : db;
  }

  private get repos(): { sessions: SessionsRepository; reads: EventReadsRepository } {
    if (!this.repositories) {
      const prisma = PrismaService.of(this.db);
      this.repositories = { sessions: new SessionsRepository(prisma), reads: new EventReadsRepository(prisma) };
    }
    return this.repositories;
  }

  get sessions(): SessionsRepository {
    return this.repos.sessions;
  }

  get reads(): EventReadsRepository {
    return this.repos.reads;
  }

  /** Creates the session's stream; calling it again with the same id and platform is a no-op. */
  async openSession(session: NewSession): Promise<SessionRecord> {
    if (!isUuid(session.id)) {
      throw new EventStoreError(EventStoreErrorCode.InvalidEvent, `session id must be a uuid (got ${JSON.stringify(session.id)})`);
    }
    await this.sessions.create(session, genesisHash(session.id));
    const stored = await this.getSession(session.id);
    if (!stored) throw sessionNotFound(session.id);
    if (stored.platform !== session.platform) {
      throw new EventStoreError(EventStoreErrorCode.SessionConflict, `session ${session.id} already exists for platform ${stored.platform}, not ${session.platform}`, { sessionId: session.id });
    }
    return stored;
  }

  /** Appends a batch in one transaction (see `appendInTransaction`), with optional outbox rows. */
  async append(events: readonly NewEvent[], outbox: readonly NewOutboxMessage[] = []): Promise<AppendResult> {
    return this.transaction((client) => appendInTransaction(client, events, outbox));
  }

  /**
   * Opens, appends, ends and seals in one transaction (see `StoreBatch`): what a busy writer such as the
   * capture ingest uses, so its round trips per batch do not grow with the number of sessions it touches.
   * Refusals are the same typed errors as the single calls', naming the session (`details.sessionId`).
   */
  async writeBatch(batch: StoreBatch): Promise<AppendResult> {
    return this.transaction((client) => writeBatchInTransaction(client, batch));
  }

  /** Marks a session ended (its run is over; late events may still arrive until it is sealed). */
  async endSession(sessionId: string, endedAt: Date, outcome?: unknown): Promise<void> {
    if (!isUuid(sessionId) || !(await this.sessions.end(sessionId, endedAt, outcome))) throw sessionNotFound(sessionId);
  }

  /** Freezes the session: its head hash and event count become the seal; no further appends. Idempotent. */
  async sealSession(sessionId: string): Promise<SessionRecord> {
    if (!isUuid(sessionId) || !(await this.sessions.seal(sessionId))) throw sessionNotFound(sessionId);
    return (await this.getSession(sessionId)) as SessionRecord;
  }

  async getSession(sessionId: string): Promise<SessionRecord | null> {
    return this.sessions.get(sessionId);
  }

  /**
   * Streams not yet sealed that a given capture process opened (`metadata.writer`), oldest first: what a dead
   * recorder left open.
   */
  async openSessionsOfWriter(writer: string): Promise<SessionRecord[]> {
    return this.sessions.openOfWriter(writer);
  }

  async listSessionIds(): Promise<string[]> {
    return this.sessions.listIds();
  }

  /**
   * A session's events in seq order, streamed page by page with keyset paging (never the whole
   * session in memory). An offset range starts from the seek index on (session_id, offset_us).
   */
  async *readSession(sessionId: string, options: ReadSessionOptions = {}): AsyncGenerator<StoredEvent> {
    const pageSize = options.pageSize ?? 500;
    let after = (options.fromSeq ?? 1) - 1;
    if (options.fromOffsetUs !== undefined) {
      const seq = await this.reads.seqAtOffset(sessionId, options.fromOffsetUs);
      if (seq === null) return;
      after = Math.max(after, seq - 1);
    }
    const toSeq = options.toSeq ?? 2_147_483_647;
    const toOffset = options.toOffsetUs ?? Number.MAX_SAFE_INTEGER;
    for (;;) {
      const events = await this.reads.page(sessionId, after, toSeq, toOffset, pageSize);
      for (const e of events) yield e;
      if (events.length < pageSize) return;
      after = (events[events.length - 1] as StoredEvent).seq;
    }
  }

  /**
   * One page of a session's events with only what a replay sends: no hash, global position, transaction id
   * or recorded time to parse and keep (a replay gateway holds pages of hundreds of streams at once, and
   * every object it keeps is garbage-collector work). From the seq after `afterSeq`, or from the first
   * event at/after `fromOffsetUs` through the (session_id, offset_us) index, in one round trip.
   */
  async readReplayPage(sessionId: string, from: { afterSeq: number } | { fromOffsetUs: number }, limit: number): Promise<ReplayRow[]> {
    return this.reads.replayPage(sessionId, from, limit);
  }

  /**
   * The next page of the global order: events of committed transactions only, ordered by (transaction
   * id, global position). It stops below the oldest transaction still open, so an event committed late
   * by a transaction that started early is never skipped (the Marten high-water-mark bug; the fix is
   * the one Emmett uses).
   */
  async readGlobal(after: GlobalCheckpoint = GLOBAL_START, limit = 1000): Promise<GlobalPage> {
    const events = await this.reads.globalPage(after, limit);
    const last = events[events.length - 1];
    return { events, checkpoint: last ? { txId: last.txId, globalPosition: last.globalPosition } : after };
  }

  /**
   * Runs `work` in one transaction on one pooled `pg` connection (a connection lost meanwhile is not a
   * crash): the append's COPY path, which Prisma's transactions cannot carry.
   */
  transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, work);
  }
}
