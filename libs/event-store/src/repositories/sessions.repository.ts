import { Injectable } from '@nestjs/common';
import { Db, Prisma, PrismaService, SessionModel, toBuffer } from '@rewind/db';
import { isUuid } from '../validate';
import type { NewSession, Platform, SessionRecord, SessionStatus } from '../types';

/** A `sessions` row as `SELECT *` returns it through `$queryRaw` (snake_case columns, bytea as Uint8Array). */
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
  head_hash: Uint8Array;
  sealed_at: Date | null;
  sealed_hash: Uint8Array | null;
  sealed_count: number | null;
  outcome: unknown;
  metadata: Record<string, unknown>;
}

/** A `sessions` row of a raw query as a SessionRecord. */
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
    headHash: toBuffer(r.head_hash),
    sealedAt: r.sealed_at,
    sealedHash: r.sealed_hash ? toBuffer(r.sealed_hash) : null,
    sealedCount: r.sealed_count,
    outcome: r.outcome,
    metadata: r.metadata,
  };
}

/** A Prisma `Session` as a SessionRecord (the same fields; hashes as Buffers). */
export function sessionRecordOf(s: SessionModel): SessionRecord {
  return {
    id: s.id,
    platform: s.platform,
    game: s.game,
    platformSessionId: s.platformSessionId,
    agent: s.agent,
    source: s.source,
    status: s.status,
    startedAt: s.startedAt,
    endedAt: s.endedAt,
    headSeq: s.headSeq,
    headHash: toBuffer(s.headHash),
    sealedAt: s.sealedAt,
    sealedHash: s.sealedHash ? toBuffer(s.sealedHash) : null,
    sealedCount: s.sealedCount,
    outcome: s.outcome,
    metadata: s.metadata as Record<string, unknown>,
  };
}

/** The filters of the sessions list (validated at the API's edge). */
export interface SessionFilters {
  platform?: Platform;
  game?: string;
  agent?: string;
  status?: SessionStatus;
  platformSessionId?: string;
  /** Started at or after. */
  from?: Date;
  /** Started before. */
  to?: Date;
}

/** Where the next page of the newest-first list starts: strictly after (older than) this session. */
export interface SessionKey {
  startedAt: Date;
  id: string;
}

/**
 * The columns of a `SessionRow`, for the named statements that read sessions on the pool (a named statement's
 * result must not change under it: no `SELECT *`).
 */
export const SESSION_COLUMNS = 'id, platform, game, platform_session_id, agent, source, status, started_at, ended_at, head_seq, head_hash, sealed_at, sealed_hash, sealed_count, outcome, metadata';
const SESSION_BY_ID = `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1`;

const NEWEST_FIRST: Prisma.SessionOrderByWithRelationInput[] = [{ startedAt: 'desc' }, { id: 'desc' }];
const OLDEST_FIRST: Prisma.SessionOrderByWithRelationInput[] = [{ startedAt: 'asc' }, { id: 'asc' }];

/**
 * The `sessions` aggregate: the stream's lifecycle (open, end, seal; the head is moved by the appender in
 * its COPY transaction) and every read of it. Typed model queries where they fit; `$executeRaw` where an
 * update copies one column into another or keeps the old value (Prisma's update data cannot refer to the
 * row), `$queryRaw` where a filter or an order is an expression over the JSON metadata.
 */
@Injectable()
export class SessionsRepository {
  private readonly prisma: PrismaService;

  constructor(db: Db) {
    this.prisma = PrismaService.of(db);
  }

  /** Inserts the session unless its id exists (ON CONFLICT DO NOTHING). */
  async create(session: NewSession, headHash: Buffer): Promise<void> {
    await this.prisma.session.createMany({
      data: [
        {
          id: session.id,
          platform: session.platform,
          game: session.game ?? null,
          platformSessionId: session.platformSessionId ?? null,
          agent: session.agent ?? null,
          source: session.source ?? null,
          startedAt: session.startedAt,
          headHash: new Uint8Array(headHash),
          metadata: (session.metadata ?? {}) as Prisma.InputJsonObject,
        },
      ],
      skipDuplicates: true,
    });
  }

  /**
   * One session by id, or null. On the PrismaService's `pg` pool as a named statement, like the audit's session
   * rows: the most frequent read of Rewind (every replay's start and a following replay's poll, the ingest's
   * re-opens, a job stream's re-run) and measured at ~5× the CPU through Prisma's `findUnique` (about 400 vs 70–90
   * µs per call, libs/event-store/bench/prisma-call.ts; docs/data-layer.md). `toSessionRecord` gives the record
   * `sessionRecordOf` gives (compared in sessions-page.int-spec.ts).
   */
  async get(sessionId: string): Promise<SessionRecord | null> {
    if (!isUuid(sessionId)) return null;
    const { rows } = await this.prisma.pool.query<SessionRow>({ name: 'rewind-session-by-id', text: SESSION_BY_ID, values: [sessionId] });
    return rows[0] ? toSessionRecord(rows[0]) : null;
  }

  /** Ends the session (status ended unless sealed; the first end time and a given outcome kept). False: no such session. */
  async end(sessionId: string, endedAt: Date, outcome?: unknown): Promise<boolean> {
    const n = await this.prisma.$executeRaw(Prisma.sql`
      UPDATE sessions SET status = CASE WHEN status = 'sealed' THEN status ELSE 'ended'::"SessionStatus" END,
             ended_at = COALESCE(ended_at, ${endedAt}), outcome = COALESCE(${outcome === undefined ? null : JSON.stringify(outcome)}::jsonb, outcome)
       WHERE id = ${sessionId}::uuid`);
    return n > 0;
  }

  /** Seals the session at its head (idempotent). False: no such session. */
  async seal(sessionId: string): Promise<boolean> {
    const n = await this.prisma.$executeRaw(Prisma.sql`
      UPDATE sessions SET status = 'sealed', ended_at = COALESCE(ended_at, now()), sealed_at = now(),
             sealed_hash = head_hash, sealed_count = head_seq
       WHERE id = ${sessionId}::uuid AND sealed_at IS NULL`);
    if (n > 0) return true;
    return (await this.prisma.session.count({ where: { id: sessionId } })) > 0;
  }

  /** Streams not sealed that one capture process opened (`metadata.writer`), oldest first. */
  async openOfWriter(writer: string): Promise<SessionRecord[]> {
    const rows = await this.prisma.session.findMany({ where: { status: { not: 'sealed' }, metadata: { path: ['writer'], equals: writer } }, orderBy: OLDEST_FIRST });
    return rows.map(sessionRecordOf);
  }

  async listIds(): Promise<string[]> {
    const rows = await this.prisma.session.findMany({ select: { id: true }, orderBy: OLDEST_FIRST });
    return rows.map((r) => r.id);
  }

  /**
   * One page of the newest-first list: keyset paging with `where` + `take` (`(started_at, id) < key` spelled
   * as Prisma conditions; never Prisma's `cursor:`, whose sub-select costs a query per page).
   */
  async page(filters: SessionFilters, after: SessionKey | undefined, take: number): Promise<SessionRecord[]> {
    const where: Prisma.SessionWhereInput = {
      ...(filters.platform ? { platform: filters.platform } : {}),
      ...(filters.game !== undefined ? { game: filters.game } : {}),
      ...(filters.agent !== undefined ? { agent: filters.agent } : {}),
      ...(filters.status ? { status: filters.status } : {}),
      ...(filters.platformSessionId !== undefined ? { platformSessionId: filters.platformSessionId } : {}),
      ...(filters.from || filters.to ? { startedAt: { ...(filters.from ? { gte: filters.from } : {}), ...(filters.to ? { lt: filters.to } : {}) } } : {}),
    };
    const keyset: Prisma.SessionWhereInput = after ? { OR: [{ startedAt: { lt: after.startedAt } }, { startedAt: after.startedAt, id: { lt: after.id } }] } : {};
    const rows = await this.prisma.session.findMany({ where: { AND: [where, keyset] }, orderBy: NEWEST_FIRST, take });
    return rows.map(sessionRecordOf);
  }

  /** The run streams (`metadata.stream = 'run'`) of one platform run, oldest first. */
  async runStreams(platform: Platform, platformSessionId: string): Promise<SessionRecord[]> {
    const rows = await this.prisma.session.findMany({ where: { platform, platformSessionId, metadata: { path: ['stream'], equals: 'run' } }, orderBy: OLDEST_FIRST });
    return rows.map(sessionRecordOf);
  }

  /** The pipeline's job streams that name one of `runSessionIds` as their run, oldest first. */
  async pipelineStreamsOf(runSessionIds: readonly string[]): Promise<SessionRecord[]> {
    if (runSessionIds.length === 0) return [];
    const rows = await this.prisma.$queryRaw<SessionRow[]>(Prisma.sql`
      SELECT * FROM sessions WHERE metadata->>'stream' = 'pipeline' AND metadata->>'runSessionId' = ANY(${[...runSessionIds]}::text[])
       ORDER BY started_at, id`);
    return rows.map(toSessionRecord);
  }

  /** One session id per run (its earliest run stream), oldest first: DISTINCT ON, which the query API lacks. */
  async runAnchors(): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>(Prisma.sql`
      SELECT DISTINCT ON (platform, COALESCE(platform_session_id, id::text)) id
        FROM sessions WHERE metadata->>'stream' = 'run'
       ORDER BY platform, COALESCE(platform_session_id, id::text), started_at, id`);
    return rows.map((r) => r.id);
  }

  /**
   * The recorded session that holds a platform run's frames (a MoltStation run's, for its spectate replay): its
   * most complete recording, whichever capturer made it (the proxy's recording of the agent's own socket, the
   * spectator's of the same run), of that game when `slug` is given. The rule (docs/replay.md, "Which recording"):
   * 1. the recording that covers both the earliest tick and the final frame of the run (its first platform frame
   *    has the lowest first tick of all its recordings, its last one the highest last tick);
   * 2. else the one that covers the final frame (the end of the run: its last frames, its close), then the one
   *    that covers the earliest tick;
   * 3. ties: one without a recorded gap (a spectator's reconnection) before one with, then the spectator's (the
   *    stream the platform sends spectators), then the most events, then the earliest started, then the id.
   * First and last frames are read through the `(session_id, seq)` key (one row each), never by scanning a session.
   */
  async runRecording(platform: Platform, platformSessionId: string, slug?: string): Promise<string | null> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>(Prisma.sql`
      WITH candidates AS (
        SELECT s.id, s.head_seq, s.started_at, coalesce(s.metadata->>'capturedBy' = 'spectator', false) AS spectator,
               (SELECT e.tick FROM events e WHERE e.session_id = s.id AND e.kind = 'frame' AND e.direction = 'platform_to_client' AND e.tick IS NOT NULL ORDER BY e.seq ASC LIMIT 1) AS first_tick,
               (SELECT e.tick FROM events e WHERE e.session_id = s.id AND e.kind = 'frame' AND e.direction = 'platform_to_client' AND e.tick IS NOT NULL ORDER BY e.seq DESC LIMIT 1) AS last_tick,
               EXISTS (SELECT 1 FROM events e WHERE e.session_id = s.id AND e.kind = 'gap') AS gapped
          FROM sessions s
         WHERE s.platform = ${platform}::"Platform" AND s.platform_session_id = ${platformSessionId} AND (${slug ?? null}::text IS NULL OR s.game = ${slug ?? null} OR s.game IS NULL)
           AND s.metadata->>'stream' = 'run'
      ), run AS (SELECT min(first_tick) AS earliest, max(last_tick) AS final FROM candidates)
      SELECT c.id FROM candidates c, run
       ORDER BY (c.first_tick = run.earliest AND c.last_tick = run.final) IS TRUE DESC,
                (c.last_tick = run.final) IS TRUE DESC,
                (c.first_tick = run.earliest) IS TRUE DESC,
                c.gapped ASC, c.spectator DESC, c.head_seq DESC, c.started_at ASC, c.id ASC
       LIMIT 1`);
    return rows[0]?.id ?? null;
  }

  /**
   * The session row for an export: times as ISO 8601 UTC text with all six digits of the microseconds (a JS
   * Date keeps only ms), hashes as bytes. Null when there is none.
   */
  async exportRow(sessionId: string): Promise<ExportRow | null> {
    if (!isUuid(sessionId)) return null;
    const rows = await this.prisma.$queryRaw<ExportRow[]>(Prisma.sql`
      SELECT id, platform, game, platform_session_id, agent, source, status,
             ${isoUs('started_at')} AS started_at, ${isoUs('ended_at')} AS ended_at, outcome, metadata,
             head_seq, head_hash, ${isoUs('sealed_at')} AS sealed_at, sealed_hash, sealed_count
        FROM sessions WHERE id = ${sessionId}::uuid`);
    return rows[0] ?? null;
  }
}

/** A timestamptz column as ISO 8601 UTC with its microseconds (`to_char`). */
const isoUs = (column: 'started_at' | 'ended_at' | 'sealed_at'): Prisma.Sql => Prisma.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);

/** The session row an export header is made of (see `exportRow`). */
export interface ExportRow extends Omit<SessionRow, 'started_at' | 'ended_at' | 'sealed_at'> {
  started_at: string;
  ended_at: string | null;
  sealed_at: string | null;
}
