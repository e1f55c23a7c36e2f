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

  /** The messages the given sessions wrote, oldest first. */
  async ofSessions(sessionIds: readonly string[]): Promise<OutboxRecord[]> {
    if (sessionIds.length === 0) return [];
    const rows = await this.prisma.outboxMessage.findMany({
      where: { sessionId: { in: [...sessionIds] } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { id: true, queue: true, sessionId: true, payload: true, createdAt: true, relayedAt: true },
    });
    return rows.map((r) => ({ ...r, payload: r.payload as Record<string, unknown> }));
  }

  /** Messages not yet relayed, per queue (the /metrics gauge). */
  async pendingByQueue(): Promise<Map<string, number>> {
    const groups = await this.prisma.outboxMessage.groupBy({ by: ['queue'], where: { relayedAt: null }, _count: { _all: true } });
    return new Map(groups.map((g) => [g.queue, g._count._all]));
  }
}
