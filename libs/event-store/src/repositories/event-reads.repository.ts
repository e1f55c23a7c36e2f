import { Injectable } from '@nestjs/common';
import { Db, Prisma, PrismaService, toBuffer } from '@rewind/db';
import type { BodyFormat, GlobalCheckpoint, ReplayRow, StoredEvent } from '../types';

/**
 * The columns of a stored event. `recorded_at` is read as integer microseconds: the column keeps µs and a
 * JS Date (Prisma's DateTime, or `pg`'s) only ms, and the hash covers the µs value.
 */
const EVENT_COLUMNS = Prisma.sql`session_id, seq, global_position, tx_id, kind, direction, channel,
  (extract(epoch from recorded_at) * 1000000)::bigint AS recorded_at_us, offset_us, format,
  body_text, body_bytes, msg_type, tick, request_id, meta, hash`;

const REPLAY_COLUMNS = Prisma.sql`seq, offset_us, kind, direction, channel, format, body_text, body_bytes, msg_type, tick, meta`;

/** An `events` row as `$queryRaw` returns it (bigint as BigInt, bytea as Uint8Array). */
export interface EventRow {
  session_id: string;
  seq: number;
  global_position: bigint;
  tx_id: bigint;
  kind: StoredEvent['kind'];
  direction: StoredEvent['direction'];
  channel: StoredEvent['channel'];
  recorded_at_us: bigint;
  offset_us: bigint;
  format: BodyFormat;
  body_text: string | null;
  body_bytes: Uint8Array | null;
  msg_type: string | null;
  tick: number | null;
  request_id: string | null;
  meta: string | null;
  hash: Uint8Array;
}

type ReplayRowWire = Pick<EventRow, 'seq' | 'offset_us' | 'kind' | 'direction' | 'channel' | 'format' | 'body_text' | 'body_bytes' | 'msg_type' | 'tick' | 'meta'>;

/** The body as it was on the wire: bytes for binary, the exact text otherwise, null when empty. */
function bodyOf(r: Pick<EventRow, 'format' | 'body_text' | 'body_bytes'>): string | Buffer | null {
  if (r.format === 'empty') return null;
  if (r.format === 'binary') return r.body_bytes ? toBuffer(r.body_bytes) : null;
  return r.body_text ?? (r.body_bytes ? toBuffer(r.body_bytes).toString('utf8') : '');
}

export function toStoredEvent(r: EventRow): StoredEvent {
  return {
    sessionId: r.session_id,
    seq: r.seq,
    globalPosition: r.global_position,
    txId: r.tx_id,
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
    hash: toBuffer(r.hash),
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
 * Reads of the event log, through Prisma's `$queryRaw`: every read here needs what the query API lacks
 * (the µs wall clock as an integer, a sub-select that seeks the offset index, the (tx_id, global_position)
 * tuple keyset bounded by the snapshot's xmin). Keyset paging throughout, never Prisma's `cursor:`.
 * docs/benchmarks.md ("Prisma vs pg on the read paths") has what this costs against plain `pg`.
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

  /** Up to `limit` events with afterSeq < seq <= toSeq and offset_us < toOffsetUs, in seq order. */
  async page(sessionId: string, afterSeq: number, toSeq: number, toOffsetUs: number, limit: number): Promise<StoredEvent[]> {
    const rows = await this.prisma.$queryRaw<EventRow[]>(Prisma.sql`
      SELECT ${EVENT_COLUMNS} FROM events
       WHERE session_id = ${sessionId}::uuid AND seq > ${afterSeq} AND seq <= ${toSeq} AND offset_us < ${toOffsetUs}::bigint
       ORDER BY seq LIMIT ${limit}`);
    return rows.map(toStoredEvent);
  }

  /** One replay page (what a replay sends, nothing more), from after a seq or from an offset, in one round trip. */
  async replayPage(sessionId: string, from: { afterSeq: number } | { fromOffsetUs: number }, limit: number): Promise<ReplayRow[]> {
    const start =
      'afterSeq' in from
        ? Prisma.sql`seq > ${from.afterSeq}`
        : Prisma.sql`seq >= (SELECT seq FROM events WHERE session_id = ${sessionId}::uuid AND offset_us >= ${from.fromOffsetUs}::bigint ORDER BY offset_us, seq LIMIT 1)`;
    const rows = await this.prisma.$queryRaw<ReplayRowWire[]>(Prisma.sql`
      SELECT ${REPLAY_COLUMNS} FROM events WHERE session_id = ${sessionId}::uuid AND ${start} ORDER BY seq LIMIT ${limit}`);
    return rows.map(toReplayRow);
  }

  /** The next page of the global order: committed transactions only, below the oldest one still open. */
  async globalPage(after: GlobalCheckpoint, limit: number): Promise<StoredEvent[]> {
    const rows = await this.prisma.$queryRaw<EventRow[]>(Prisma.sql`
      SELECT ${EVENT_COLUMNS} FROM events
       WHERE (tx_id, global_position) > (${after.txId}::bigint, ${after.globalPosition}::bigint)
         AND tx_id < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint
       ORDER BY tx_id, global_position LIMIT ${limit}`);
    return rows.map(toStoredEvent);
  }
}
