import { Injectable } from '@nestjs/common';
import { Db, PrismaService } from '@rewind/db';

/** An outbox row as the audit's evidence shows it. */
export interface OutboxRecord {
  id: string;
  queue: string;
  sessionId: string | null;
  payload: Record<string, unknown>;
  createdAt: Date;
  relayedAt: Date | null;
}

/**
 * The outbox outside the relay: rows are written by the append, in its COPY transaction
 * (libs/event-store/src/append.ts), and relayed by libs/pipeline; here are the reads of everyone else.
 */
@Injectable()
export class OutboxRepository {
  private readonly prisma: PrismaService;

  constructor(db: Db) {
    this.prisma = PrismaService.of(db);
  }

  /**
   * The messages the given sessions wrote, oldest first. On the PrismaService's `pg` pool, a named statement: read by
   * every audit of a run (the pipeline's, once per ended run), and Prisma's `findMany` measured ~4× the CPU of this
   * SELECT (380–445 vs 80–130 µs for a run's rows, libs/audit/bench/prisma-writes.ts; docs/data-layer.md).
   */
  async ofSessions(sessionIds: readonly string[]): Promise<OutboxRecord[]> {
    if (sessionIds.length === 0) return [];
    const { rows } = await this.prisma.pool.query<{ id: string; queue: string; session_id: string | null; payload: Record<string, unknown>; created_at: Date; relayed_at: Date | null }>({
      name: 'rewind-outbox-of-sessions',
      text: 'SELECT id, queue, session_id, payload, created_at, relayed_at FROM outbox WHERE session_id = ANY($1::uuid[]) ORDER BY created_at, id',
      values: [[...sessionIds]],
    });
    return rows.map((r) => ({ id: r.id, queue: r.queue, sessionId: r.session_id, payload: r.payload, createdAt: r.created_at, relayedAt: r.relayed_at }));
  }

  /** Messages not yet relayed, per queue (the /metrics gauge). */
  async pendingByQueue(): Promise<Map<string, number>> {
    const groups = await this.prisma.outboxMessage.groupBy({ by: ['queue'], where: { relayedAt: null }, _count: { _all: true } });
    return new Map(groups.map((g) => [g.queue, g._count._all]));
  }
}
