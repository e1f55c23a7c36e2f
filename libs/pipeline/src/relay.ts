import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { backoff } from '@rewind/backoff';
import type { PrismaService } from '@rewind/db';
import { withTimeout } from '@rewind/backoff';
import { jobOptions, PipelineQueue, PipelineRetryPolicy, PIPELINE_QUEUES } from './queues';

export interface RelayLogger {
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
}

export interface OutboxRelayOptions {
  /** The process's Prisma client: the claim needs `FOR UPDATE SKIP LOCKED`, so the SQL is raw (`$queryRaw`). */
  prisma: PrismaService;
  queues: Record<PipelineQueue, Queue>;
  retry: PipelineRetryPolicy;
  log: RelayLogger;
  /** Rows per round (default 100). */
  batchSize?: number;
  /** Pause between rounds when idle (default 250 ms); after a failure it backs off up to 5 s. */
  intervalMs?: number;
  /** How long one `queue.add` may take before Redis counts as away (default 3000 ms). */
  addTimeoutMs?: number;
}

interface OutboxRow {
  id: string;
  queue: string;
  job_name: string;
  payload: unknown;
}

/**
 * A run's audit job is relayed with its snapshot and handoff jobs, and its first check would come before they
 * have run: it waits as long as its first re-check would (the retry policy's base back-off) before its first
 * check. Measured: about one pending check per run less (its queries, its job stream reads, its BullMQ moves).
 */
const firstDelay = (queue: string, retry: PipelineRetryPolicy): { delay?: number } => (queue === 'run-audit' ? { delay: retry.backoffMs } : {});

/**
 * Moves outbox rows to BullMQ, oldest first, with the outbox id as `jobId`: a row re-relayed after a crash
 * (added to Redis, not yet marked) is absorbed by BullMQ's job-id dedupe, and downstream by the idempotency
 * key (the same id). Rows are claimed with `FOR UPDATE SKIP LOCKED`, so several relays share the work.
 * While Redis is away the rows wait (attempts and the last error are noted on them) and the relay backs off.
 */
export class OutboxRelay implements OnModuleInit, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private failures = 0;
  /** After the n-th failed round in a row: twice the idle pause, doubling, capped at 5 s. */
  private readonly retryDelay: (failures: number) => number;
  readonly counters = { relayed: 0, rounds: 0, failedRounds: 0, unknownQueue: 0 };

  constructor(private readonly o: OutboxRelayOptions) {
    this.retryDelay = backoff({ baseMs: 2 * (o.intervalMs ?? 250), maxMs: 5000 });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** In a Nest context (PipelineModule) the relay runs from module init. */
  onModuleInit(): void {
    this.start();
  }

  /**
   * Stopped on module destroy, not on application shutdown: Nest destroys the pipeline's module before the
   * global DbModule disconnects Prisma, so a round in flight finishes with its database still there.
   */
  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Relays what is pending now (one or more rounds); resolves with the number of rows relayed. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.relayOnce();
      total += n;
      if (n < (this.o.batchSize ?? 100)) return total;
    }
  }

  /**
   * One round: claim up to `batchSize` unrelayed rows, add them to their queues, mark them relayed. An idle
   * round (nothing unrelayed: most rounds, the relay polls every `intervalMs`) is one indexed probe on the pool (a
   * named statement: planned once per connection), not an interactive Prisma transaction, whose cost made idle
   * polling a visible part of the pipeline's CPU.
   */
  async relayOnce(): Promise<number> {
    let failure: Error | null = null;
    const batch = this.o.batchSize ?? 100;
    const { rows: waiting } = await this.o.prisma.pool.query({ name: 'rewind-outbox-waiting', text: 'SELECT 1 FROM outbox WHERE relayed_at IS NULL LIMIT 1' });
    if (waiting.length === 0) {
      this.counters.rounds++;
      return 0;
    }
    const relayed = await this.o.prisma.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<OutboxRow[]>`SELECT id::text AS id, queue, job_name, payload FROM outbox WHERE relayed_at IS NULL
          ORDER BY created_at, id LIMIT ${batch} FOR UPDATE SKIP LOCKED`;
        const done: string[] = [];
        const addTimeoutMs = this.o.addTimeoutMs ?? 3000;
        for (const row of rows) {
          const queue = (PIPELINE_QUEUES as readonly string[]).includes(row.queue) ? this.o.queues[row.queue as PipelineQueue] : undefined;
          if (!queue) {
            // Not ours to relay: left in place, loudly, for the component that owns that queue.
            this.counters.unknownQueue++;
            this.o.log.warn(`outbox row ${row.id} names an unknown queue "${row.queue}"; left unrelayed`);
            continue;
          }
          try {
            await withTimeout(
              queue.add(row.job_name, row.payload, { ...jobOptions(this.o.retry), ...firstDelay(row.queue, this.o.retry), jobId: row.id }),
              addTimeoutMs,
              () => new Error(`Redis did not answer within ${addTimeoutMs} ms`),
            );
            done.push(row.id);
          } catch (e) {
            failure = e as Error;
            break;
          }
        }
        if (done.length > 0) {
          await tx.$executeRaw`UPDATE outbox SET relayed_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY(${done}::uuid[])`;
        }
        if (failure) {
          // The rows wait; what happened is noted on them (committed with the marks of the rows that made it).
          const rest = rows.map((r) => r.id).filter((id) => !done.includes(id));
          const error = (failure as Error).message.slice(0, 500);
          await tx.$executeRaw`UPDATE outbox SET attempts = attempts + 1, last_error = ${error} WHERE id = ANY(${rest}::uuid[])`;
        }
        return done.length;
      },
      // Prisma's default limit of an interactive transaction (5 s) is shorter than a round whose adds wait on
      // a slow Redis; a round that overruns this is rolled back and its rows re-relayed (job-id dedupe).
      { timeout: 60_000, maxWait: 10_000 },
    );
    this.counters.rounds++;
    this.counters.relayed += relayed;
    if (failure) throw failure;
    return relayed;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => (this.running = null));
    }, ms);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    try {
      const n = await this.drain();
      if (this.failures > 0) this.o.log.info(`outbox relay: working again (${n} rows relayed)`);
      this.failures = 0;
      this.schedule(this.o.intervalMs ?? 250);
    } catch (e) {
      this.counters.failedRounds++;
      if (this.failures === 0) this.o.log.warn(`outbox relay: rows wait (${(e as Error).message}); retrying with back-off`);
      this.failures++;
      this.schedule(this.retryDelay(this.failures));
    }
  }
}
