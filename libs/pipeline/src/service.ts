import type { Queue, Worker } from 'bullmq';
import { createPgPool } from '@rewind/db';
import { EventStore } from '@rewind/event-store';
import { AuditService } from '@rewind/audit';
import { CredentialVault, Redactor, safeId } from '@rewind/capture';
import { DeadLetter, listDeadLetters, queueDepths, retryDeadLetters } from './dead-letters';
import { DEFAULT_RETRY, openQueues, PipelineQueue, PipelineRetryPolicy } from './queues';
import { OutboxRelay, RelayLogger } from './relay';
import { startPipelineWorkers } from './workers';

export interface PipelineOptions {
  databaseUrl: string;
  redisUrl: string;
  /** BullMQ key prefix (default `rewind`). */
  prefix?: string;
  /** 32+ bytes: the installation's key (redaction fingerprints; the vault the recorder fills). */
  key: Buffer;
  rewardsUrl: string;
  rewardsApiKey?: string;
  moltstationUrl?: string;
  retry?: PipelineRetryPolicy;
  concurrency?: number;
  requestTimeoutMs?: number;
  /** Run the workers here (default true); false: relay only. */
  workers?: boolean;
  relayIntervalMs?: number;
  /** Worker lock and stalled-job check (default 30 s each): a killed worker's job is taken over after about both. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  log: RelayLogger;
}

export interface RunningPipeline {
  relay: OutboxRelay;
  queues: Record<PipelineQueue, Queue>;
  workers: Record<PipelineQueue, Worker> | null;
  deadLetters(): Promise<DeadLetter[]>;
  /** Moves dead letters back to the queue (all, or one job id); resolves with how many. */
  retry(jobId?: string): Promise<number>;
  /** Waiting, active, delayed, completed and failed counts per queue. */
  depths(): Promise<Record<PipelineQueue, Record<string, number>>>;
  close(): Promise<void>;
}

/**
 * The outcome pipeline of one process: the outbox relay, the two queues and (unless `workers: false`)
 * their workers. `apps/pipeline` runs one; `rewind up`/`demo` run one in-process.
 */
export async function startPipeline(o: PipelineOptions): Promise<RunningPipeline> {
  const prefix = o.prefix ?? 'rewind';
  const retry = o.retry ?? DEFAULT_RETRY;
  const pool = createPgPool(o.databaseUrl, { max: 4 });
  const store = new EventStore(pool);
  const queues = openQueues(o.redisUrl, prefix);
  const vault = new CredentialVault({ redis: o.redisUrl, secret: o.key, log: o.log });
  const relay = new OutboxRelay({ pool, queues, retry, log: o.log, ...(o.relayIntervalMs ? { intervalMs: o.relayIntervalMs } : {}) });
  const workers =
    o.workers === false
      ? null
      : startPipelineWorkers({
          redisUrl: o.redisUrl,
          prefix,
          store,
          redactor: new Redactor(o.key),
          retry,
          concurrency: o.concurrency ?? 8,
          requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
          rewardsUrl: o.rewardsUrl,
          ...(o.rewardsApiKey ? { rewardsApiKey: o.rewardsApiKey } : {}),
          ...(o.moltstationUrl ? { moltstationUrl: o.moltstationUrl } : {}),
          ...(o.lockDurationMs ? { lockDurationMs: o.lockDurationMs } : {}),
          ...(o.stalledIntervalMs ? { stalledIntervalMs: o.stalledIntervalMs } : {}),
          agentCredential: (_platform, platformSessionId) => vault.get(safeId(`session:${platformSessionId}`), 'bearer'),
          audits: new AuditService(pool, store, { rewardsUrl: o.rewardsUrl, ...(o.rewardsApiKey ? { rewardsApiKey: o.rewardsApiKey } : {}) }),
          log: o.log,
        });
  relay.start();
  return {
    relay,
    queues,
    workers,
    deadLetters: () => listDeadLetters(queues),
    retry: (jobId) => retryDeadLetters(queues, jobId),
    depths: () => queueDepths(queues),
    async close() {
      await relay.stop();
      if (workers) await Promise.all(Object.values(workers).map((w) => w.close()));
      await Promise.all(Object.values(queues).map((q) => q.close()));
      await vault.close();
      await pool.end();
    },
  };
}
