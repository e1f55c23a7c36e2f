import { Injectable } from '@nestjs/common';
import { Db, Prisma, PrismaService } from '@rewind/db';
import type { BodyFormat, ChainedEvent, GlobalCheckpoint, ReplayRow, StoredEvent } from '../types';

/**
 * The columns of a stored event. `recorded_at` is read as integer microseconds: the column keeps µs and a
 * JS Date (Prisma's DateTime, or `pg`'s) only ms, and the hash covers the µs value.
 */
export const EVENT_COLUMNS = `session_id, seq, global_position, tx_id, kind, direction, channel,
  (extract(epoch from recorded_at) * 1000000)::bigint AS recorded_at_us, offset_us, format,
  body_text, body_bytes, msg_type, tick, request_id, meta, hash`;

/** The columns of a chained event (no global order: its `tx_id` and `global_position` are not parsed for nothing). */
export const CHAINED_COLUMNS = `session_id, seq, kind, direction, channel, (extract(epoch from recorded_at) * 1000000)::bigint AS recorded_at_us,
  offset_us, format, body_text, body_bytes, msg_type, tick, request_id, meta, hash`;

/** The columns a replay sends (no hash, positions or wall clock). */
export const REPLAY_COLUMNS = 'seq, offset_us, kind, direction, channel, format, body_text, body_bytes, msg_type, tick, meta';

/** An `events` row as `pg` returns it (bigint as string, bytea as Buffer). */
export interface EventRow {
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

type ReplayRowWire = Pick<EventRow, 'seq' | 'offset_us' | 'kind' | 'direction' | 'channel' | 'format' | 'body_text' | 'body_bytes' | 'msg_type' | 'tick' | 'meta'>;

/** The body as it was on the wire: bytes for binary, the exact text otherwise, null when empty. */
function bodyOf(r: Pick<EventRow, 'format' | 'body_text' | 'body_bytes'>): string | Buffer | null {
  if (r.format === 'empty') return null;
  if (r.format === 'binary') return r.body_bytes;
  return r.body_text ?? (r.body_bytes ? r.body_bytes.toString('utf8') : '');
}

export function toStoredEvent(r: EventRow): StoredEvent {
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
    body: bodyOf(r),
    msgType: r.msg_type,
    tick: r.tick,
    requestId: r.request_id,
    meta: r.meta,
    hash: r.hash,
  };
}

function toChainedEvent(r: Omit<EventRow, 'global_position' | 'tx_id'>): ChainedEvent {
  return {
    sessionId: r.session_id,
    seq: r.seq,
    kind: r.kind,
    direction: r.direction,
    channel: r.channel,
    recordedAtUs: Number(r.recorded_at_us),
    offsetUs: Number(r.offset_us),
    format: r.format,
    body: bodyOf(r),
    msgType: r.msg_type,
    tick: r.tick,
    requestId: r.request_id,
    meta: r.meta,
    hash: r.hash,
  };
}

function toReplayRow(r: ReplayRowWire): ReplayRow {
  return {
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
  };
}

/**
 * Reads of the event log. The seek by offset goes through Prisma (`$queryRaw`). The page reads (readSession's,
 * the replay's, the global order's) run on the PrismaService's own `pg` pool: measured on 100k events, Prisma
 * costs 29 % (replay page) and 57 % (full event page) more there, above the 20 % the data layer allows
 * (docs/benchmarks.md, "Prisma vs pg on the read paths"; docs/data-layer.md). Keyset paging throughout,
 * never Prisma's `cursor:`.
 */
@Injectable()
export class EventReadsRepository {
  private readonly prisma: PrismaService;

  constructor(db: Db) {
    this.prisma = PrismaService.of(db);
  }

  /** The seq of the first event at or after `offsetUs` (the (session_id, offset_us) index), or null. */
  async seqAtOffset(sessionId: string, offsetUs: number): Promise<number | null> {
    const rows = await this.prisma.$queryRaw<{ seq: number }[]>(Prisma.sql`
      SELECT seq FROM events WHERE session_id = ${sessionId}::uuid AND offset_us >= ${offsetUs}::bigint ORDER BY offset_us, seq LIMIT 1`);
    return rows[0]?.seq ?? null;
  }

  /** Up to `limit` events with afterSeq < seq <= toSeq and offset_us < toOffsetUs, in seq order (pg: see above). */
  async page(sessionId: string, afterSeq: number, toSeq: number, toOffsetUs: number, limit: number): Promise<StoredEvent[]> {
    const { rows } = await this.prisma.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
        WHERE session_id = $1 AND seq > $2 AND seq <= $3 AND offset_us < $4
        ORDER BY seq LIMIT $5`,
      [sessionId, afterSeq, toSeq, toOffsetUs, limit],
    );
    return rows.map(toStoredEvent);
  }

  /**
   * Up to `limit` events of several sessions, ordered by session then seq, after the `(sessionId, seq)` key (keyset
   * paging over the primary key): a run's streams read in one round trip per page, not one per stream (the audit,
   * libs/audit `load.ts`). Without the global order's columns (pg: see above).
   */
  async sessionsPage(sessionIds: readonly string[], after: { sessionId: string; seq: number } | null, limit: number): Promise<ChainedEvent[]> {
    const { rows } = await this.prisma.pool.query<Omit<EventRow, 'global_position' | 'tx_id'>>(
      `SELECT ${CHAINED_COLUMNS} FROM events
        WHERE session_id = ANY($1::uuid[]) AND (session_id, seq) > ($2::uuid, $3::int)
        ORDER BY session_id, seq LIMIT $4`,
      [[...sessionIds], after?.sessionId ?? '00000000-0000-0000-0000-000000000000', after?.seq ?? 0, limit],
    );
    return rows.map(toChainedEvent);
  }

  /** One replay page (what a replay sends, nothing more), from after a seq or from an offset, in one round trip (pg: see above). */
  async replayPage(sessionId: string, from: { afterSeq: number } | { fromOffsetUs: number }, limit: number): Promise<ReplayRow[]> {
    const start =
      'afterSeq' in from
        ? { sql: 'seq > $2', arg: from.afterSeq }
        : { sql: 'seq >= (SELECT seq FROM events WHERE session_id = $1 AND offset_us >= $2 ORDER BY offset_us, seq LIMIT 1)', arg: from.fromOffsetUs };
    const { rows } = await this.prisma.pool.query<ReplayRowWire>(`SELECT ${REPLAY_COLUMNS} FROM events WHERE session_id = $1 AND ${start.sql} ORDER BY seq LIMIT $3`, [sessionId, start.arg, limit]);
    return rows.map(toReplayRow);
  }

  /** The next page of the global order: committed transactions only, below the oldest one still open (pg: see above). */
  async globalPage(after: GlobalCheckpoint, limit: number): Promise<StoredEvent[]> {
    const { rows } = await this.prisma.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
        WHERE (tx_id, global_position) > ($1::bigint, $2::bigint)
          AND tx_id < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint
        ORDER BY tx_id, global_position LIMIT $3`,
      [after.txId.toString(), after.globalPosition.toString(), limit],
    );
    return rows.map(toStoredEvent);
  }
}
