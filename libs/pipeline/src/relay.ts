import type { Pool } from 'pg';
import type { Queue } from 'bullmq';
import { withTransaction } from '@rewind/db';
import { withTimeout } from '@rewind/capture';
import { jobOptions, PipelineQueue, PipelineRetryPolicy, PIPELINE_QUEUES } from './queues';

export interface RelayLogger {
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
}

export interface OutboxRelayOptions {
  pool: Pool;
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
 * Moves outbox rows to BullMQ, oldest first, with the outbox id as `jobId`: a row re-relayed after a crash
 * (added to Redis, not yet marked) is absorbed by BullMQ's job-id dedupe, and downstream by the idempotency
 * key (the same id). Rows are claimed with `FOR UPDATE SKIP LOCKED`, so several relays share the work.
 * While Redis is away the rows wait (attempts and the last error are noted on them) and the relay backs off.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private failures = 0;
  readonly counters = { relayed: 0, rounds: 0, failedRounds: 0, unknownQueue: 0 };

  constructor(private readonly o: OutboxRelayOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
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

  /** One round: claim up to `batchSize` unrelayed rows, add them to their queues, mark them relayed. */
  async relayOnce(): Promise<number> {
    let failure: Error | null = null;
    const relayed = await withTransaction(this.o.pool, async (client) => {
      const { rows } = await client.query<OutboxRow>(
        `SELECT id, queue, job_name, payload FROM outbox WHERE relayed_at IS NULL
          ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.o.batchSize ?? 100],
      );
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
          await withTimeout(queue.add(row.job_name, row.payload, { ...jobOptions(this.o.retry), jobId: row.id }), addTimeoutMs, () => new Error(`Redis did not answer within ${addTimeoutMs} ms`));
          done.push(row.id);
        } catch (e) {
          failure = e as Error;
          break;
        }
      }
      if (done.length > 0) {
        await client.query('UPDATE outbox SET relayed_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::uuid[])', [done]);
      }
      if (failure) {
        // The rows wait; what happened is noted on them (committed with the marks of the rows that made it).
        const rest = rows.map((r) => r.id).filter((id) => !done.includes(id));
        await client.query('UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::uuid[])', [rest, (failure as Error).message.slice(0, 500)]);
      }
      return done.length;
    });
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
      this.schedule(Math.min(5000, (this.o.intervalMs ?? 250) * 2 ** this.failures));
    }
  }
}
