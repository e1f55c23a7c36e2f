import { withTransaction } from '@rewind/db';
import { Pool, PoolClient } from 'pg';
import { AppendResult, appendInTransaction, StoreBatch, writeBatchInTransaction } from './append';
import { EventStoreError, EventStoreErrorCode, sessionNotFound } from './errors';
import { genesisHash } from './hash';
import { isUuid } from './validate';
import {
  BodyFormat,
  GlobalCheckpoint,
  GLOBAL_START,
  NewEvent,
  NewOutboxMessage,
  NewSession,
  ReplayRow,
  SessionRecord,
  StoredEvent,
} from './types';

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

const EVENT_SELECT = `session_id, seq, global_position, tx_id, kind, direction, channel,
  (extract(epoch from recorded_at) * 1000000)::bigint AS recorded_at_us, offset_us, format,
  body_text, body_bytes, msg_type, tick, request_id, meta, hash`;

interface EventRow {
  session_id: string;
  seq: number;
  global_position: string;
  tx_id: string;
  kind: StoredEvent['kind'];
  direction: StoredEvent['direction'];
  channel: StoredEvent['channel'];
  recorded_at_us: string;
  offset_us: string;
  format: BodyFormat;
  body_text: string | null;
  body_bytes: Buffer | null;
  msg_type: string | null;
  tick: number | null;
  request_id: string | null;
  meta: string | null;
  hash: Buffer;
}

/**
 * The append-only, per-session ordered, hash-chained event log on Postgres. Appends go through `pg`
 * (COPY) for throughput; see docs/event-log.md for the format and guarantees.
 */
export class EventStore {
  constructor(private readonly pool: Pool) {}

  /** Creates the session's stream; calling it again with the same id and platform is a no-op. */
  async openSession(session: NewSession): Promise<SessionRecord> {
    if (!isUuid(session.id)) {
      throw new EventStoreError(EventStoreErrorCode.InvalidEvent, `session id must be a uuid (got ${JSON.stringify(session.id)})`);
    }
    await this.pool.query(
      `INSERT INTO sessions (id, platform, game, platform_session_id, agent, source, started_at, head_hash, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
      [
        session.id,
        session.platform,
        session.game ?? null,
        session.platformSessionId ?? null,
        session.agent ?? null,
        session.source ?? null,
        session.startedAt,
        genesisHash(session.id),
        JSON.stringify(session.metadata ?? {}),
      ],
    );
    const stored = await this.getSession(session.id);
    if (!stored) throw sessionNotFound(session.id);
    if (stored.platform !== session.platform) {
      throw new EventStoreError(
        EventStoreErrorCode.SessionConflict,
        `session ${session.id} already exists for platform ${stored.platform}, not ${session.platform}`,
        { sessionId: session.id },
      );
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
    const { rowCount } = await this.pool.query(
      `UPDATE sessions SET status = CASE WHEN status = 'sealed' THEN status ELSE 'ended'::"SessionStatus" END,
              ended_at = COALESCE(ended_at, $2), outcome = COALESCE($3::jsonb, outcome)
        WHERE id = $1`,
      [sessionId, endedAt, outcome === undefined ? null : JSON.stringify(outcome)],
    );
    if (rowCount === 0) throw sessionNotFound(sessionId);
  }

  /** Freezes the session: its head hash and event count become the seal; no further appends. Idempotent. */
  async sealSession(sessionId: string): Promise<SessionRecord> {
    await this.transaction(async (client) => {
      const { rowCount } = await client.query(
        `UPDATE sessions SET status = 'sealed', ended_at = COALESCE(ended_at, now()), sealed_at = now(),
                sealed_hash = head_hash, sealed_count = head_seq
          WHERE id = $1 AND sealed_at IS NULL`,
        [sessionId],
      );
      if (rowCount === 0) {
        const exists = await client.query('SELECT 1 FROM sessions WHERE id = $1', [sessionId]);
        if (exists.rowCount === 0) throw sessionNotFound(sessionId);
      }
    });
    return (await this.getSession(sessionId)) as SessionRecord;
  }

  async getSession(sessionId: string): Promise<SessionRecord | null> {
    if (!isUuid(sessionId)) return null;
    const { rows } = await this.pool.query<SessionRow>('SELECT * FROM sessions WHERE id = $1', [sessionId]);
    return rows[0] ? toSessionRecord(rows[0]) : null;
  }

  /**
   * Streams not yet sealed that a given capture process opened (`metadata.writer`), oldest first: what a dead
   * recorder left open.
   */
  async openSessionsOfWriter(writer: string): Promise<SessionRecord[]> {
    const { rows } = await this.pool.query<SessionRow>(
      `SELECT * FROM sessions WHERE status <> 'sealed' AND metadata->>'writer' = $1 ORDER BY started_at, id`,
      [writer],
    );
    return rows.map(toSessionRecord);
  }

  async listSessionIds(): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM sessions ORDER BY started_at, id');
    return rows.map((r) => r.id);
  }

  /**
   * A session's events in seq order, streamed page by page with keyset paging (never the whole
   * session in memory). An offset range starts from the seek index on (session_id, offset_us).
   */
  async *readSession(sessionId: string, options: ReadSessionOptions = {}): AsyncGenerator<StoredEvent> {
    const pageSize = options.pageSize ?? 500;
    let after = (options.fromSeq ?? 1) - 1;
    if (options.fromOffsetUs !== undefined) {
      const { rows } = await this.pool.query<{ seq: number }>(
        'SELECT seq FROM events WHERE session_id = $1 AND offset_us >= $2 ORDER BY offset_us, seq LIMIT 1',
        [sessionId, options.fromOffsetUs],
      );
      if (!rows[0]) return;
      after = Math.max(after, rows[0].seq - 1);
    }
    const toSeq = options.toSeq ?? 2_147_483_647;
    const toOffset = options.toOffsetUs ?? Number.MAX_SAFE_INTEGER;
    for (;;) {
      const { rows } = await this.pool.query<EventRow>(
        `SELECT ${EVENT_SELECT} FROM events
          WHERE session_id = $1 AND seq > $2 AND seq <= $3 AND offset_us < $4
          ORDER BY seq LIMIT $5`,
        [sessionId, after, toSeq, toOffset, pageSize],
      );
      for (const row of rows) yield toStoredEvent(row);
      if (rows.length < pageSize) return;
      after = (rows[rows.length - 1] as EventRow).seq;
    }
  }

  /**
   * One page of a session's events with only what a replay sends: no hash, global position, transaction id
   * or recorded time to parse and keep (a replay gateway holds pages of hundreds of streams at once, and
   * every object it keeps is garbage-collector work). From the seq after `afterSeq`, or from the first
   * event at/after `fromOffsetUs` through the (session_id, offset_us) index, in one round trip.
   */
  async readReplayPage(sessionId: string, from: { afterSeq: number } | { fromOffsetUs: number }, limit: number): Promise<ReplayRow[]> {
    const start =
      'afterSeq' in from
        ? { sql: 'seq > $2', arg: from.afterSeq }
        : { sql: 'seq >= (SELECT seq FROM events WHERE session_id = $1 AND offset_us >= $2 ORDER BY offset_us, seq LIMIT 1)', arg: from.fromOffsetUs };
    const { rows } = await this.pool.query<ReplayRowWire>(
      `SELECT seq, offset_us, kind, direction, channel, format, body_text, body_bytes, msg_type, tick, meta FROM events
        WHERE session_id = $1 AND ${start.sql} ORDER BY seq LIMIT $3`,
      [sessionId, start.arg, limit],
    );
    return rows.map((r) => ({
      seq: r.seq,
      offsetUs: Number(r.offset_us),
      kind: r.kind,
      direction: r.direction,
      channel: r.channel,
      format: r.format,
      body: bodyOf(r),
      msgType: r.msg_type,
      tick: r.tick,
      meta: r.meta,
    }));
  }

  /**
   * The next page of the global order: events of committed transactions only, ordered by (transaction
   * id, global position). It stops below the oldest transaction still open, so an event committed late
   * by a transaction that started early is never skipped (the Marten high-water-mark bug; the fix is
   * the one Emmett uses).
   */
  async readGlobal(after: GlobalCheckpoint = GLOBAL_START, limit = 1000): Promise<GlobalPage> {
    const { rows } = await this.pool.query<EventRow>(
      `SELECT ${EVENT_SELECT} FROM events
        WHERE (tx_id, global_position) > ($1::bigint, $2::bigint)
          AND tx_id < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint
        ORDER BY tx_id, global_position LIMIT $3`,
      [after.txId.toString(), after.globalPosition.toString(), limit],
    );
    const events = rows.map(toStoredEvent);
    const last = events[events.length - 1];
    return { events, checkpoint: last ? { txId: last.txId, globalPosition: last.globalPosition } : after };
  }

  /** Runs `work` in one transaction on one pooled connection (a connection lost meanwhile is not a crash). */
  transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, work);
  }
}

/** A row of `sessions` as `pg` returns it (SELECT *). */
export interface SessionRow {
  id: string;
  platform: SessionRecord['platform'];
  game: string | null;
  platform_session_id: string | null;
  agent: string | null;
  source: string | null;
  status: SessionRecord['status'];
  started_at: Date;
  ended_at: Date | null;
  head_seq: number;
  head_hash: Buffer;
  sealed_at: Date | null;
  sealed_hash: Buffer | null;
  sealed_count: number | null;
  outcome: unknown;
  metadata: Record<string, unknown>;
}

/** A `sessions` row as a SessionRecord. */
export function toSessionRecord(r: SessionRow): SessionRecord {
  return {
    id: r.id,
    platform: r.platform,
    game: r.game,
    platformSessionId: r.platform_session_id,
    agent: r.agent,
    source: r.source,
    status: r.status,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    headSeq: r.head_seq,
    headHash: r.head_hash,
    sealedAt: r.sealed_at,
    sealedHash: r.sealed_hash,
    sealedCount: r.sealed_count,
    outcome: r.outcome,
    metadata: r.metadata,
  };
}

type ReplayRowWire = Pick<EventRow, 'seq' | 'offset_us' | 'kind' | 'direction' | 'channel' | 'format' | 'body_text' | 'body_bytes' | 'msg_type' | 'tick' | 'meta'>;

function bodyOf(r: Pick<EventRow, 'format' | 'body_text' | 'body_bytes'>): string | Buffer | null {
  if (r.format === 'empty') return null;
  if (r.format === 'binary') return r.body_bytes;
  return r.body_text ?? (r.body_bytes ? r.body_bytes.toString('utf8') : '');
}

export function toStoredEvent(r: EventRow): StoredEvent {
  const body = bodyOf(r);
  return {
    sessionId: r.session_id,
    seq: r.seq,
    globalPosition: BigInt(r.global_position),
    txId: BigInt(r.tx_id),
    kind: r.kind,
    direction: r.direction,
    channel: r.channel,
    recordedAtUs: Number(r.recorded_at_us),
    offsetUs: Number(r.offset_us),
    format: r.format,
    body,
    msgType: r.msg_type,
    tick: r.tick,
    requestId: r.request_id,
    meta: r.meta,
    hash: r.hash,
  };
}
