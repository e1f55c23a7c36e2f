import { backoff, redisRetryStrategy } from '@rewind/backoff';
import { Queue } from 'bullmq';
import type { DefaultJobOptions } from 'bullmq';

/** The queues the outbox feeds (queue names = `outbox.queue`); `run-audit` audits the run once the other two are done. */
export const PIPELINE_QUEUES = ['snapshot-submission', 'reward-handoff', 'run-audit'] as const;
export type PipelineQueue = (typeof PIPELINE_QUEUES)[number];

export interface PipelineRetryPolicy {
  /** Attempts per job before it is dead-lettered (BullMQ `failed`), ≥ 1. */
  attempts: number;
  /** First retry delay; doubles per attempt, with ±50 % jitter, capped at `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: PipelineRetryPolicy = { attempts: 8, backoffMs: 1000, maxBackoffMs: 60_000 };

/** Job options of every pipeline job: our own backoff strategy; finished jobs kept a week (dedupe by jobId). */
export function jobOptions(retry: PipelineRetryPolicy): DefaultJobOptions {
  return {
    attempts: retry.attempts,
    backoff: { type: 'rewind-jitter' },
    removeOnComplete: { age: 7 * 24 * 3600 },
    // Dead letters stay until an operator retries or removes them.
    removeOnFail: false,
  };
}

/**
 * Exponential backoff with ±50 % jitter (BullMQ custom strategy `rewind-jitter`; the audit's waits between its
 * checks too): Rewind's one policy (`@rewind/backoff`) with this retry policy's base and cap. A custom strategy
 * rather than BullMQ's built-in `exponential` (configured by job options, computed by BullMQ), so that the
 * retries and the audit's `moveToDelayed` wait by the same policy, cap and jitter.
 */
export function backoffDelay(attemptsMade: number, retry: PipelineRetryPolicy, random: () => number = Math.random): number {
  return backoff({ baseMs: retry.backoffMs, maxMs: retry.maxBackoffMs, jitter: { spread: 0.5 }, random })(attemptsMade);
}

export function bullConnection(redisUrl: string) {
  return { url: redisUrl, maxRetriesPerRequest: null, retryStrategy: redisRetryStrategy(), disconnectTimeout: 100 } as const;
}

export function openQueues(redisUrl: string, prefix: string): Record<PipelineQueue, Queue> {
  return Object.fromEntries(PIPELINE_QUEUES.map((q) => [q, new Queue(q, { connection: bullConnection(redisUrl), prefix })])) as Record<PipelineQueue, Queue>;
}
