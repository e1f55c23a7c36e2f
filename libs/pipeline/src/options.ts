import type { PipelineRetryPolicy } from './queues';
import { DEFAULT_RETRY } from './queues';
import type { RelayLogger } from './relay';

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
  /**
   * How long a run's audit waits for its snapshot and handoff jobs before it audits what is there (what is
   * missing is then reported unverifiable). Default: what those jobs can take with every attempt used —
   * see {@link resolvePipelineOptions}.
   */
  auditWaitMs?: number;
  log: RelayLogger;
}

/** {@link PipelineOptions} with every default filled in: what the pipeline's providers are given. */
export interface PipelineSettings {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  key: Buffer;
  rewardsUrl: string;
  rewardsApiKey: string | undefined;
  moltstationUrl: string | undefined;
  retry: PipelineRetryPolicy;
  concurrency: number;
  /** One HTTP call's time limit. */
  requestTimeoutMs: number;
  workers: boolean;
  relayIntervalMs: number | undefined;
  lockDurationMs: number;
  stalledIntervalMs: number;
  auditWaitMs: number;
  log: RelayLogger;
}

/** Injection token of the {@link PipelineSettings}. */
export const PIPELINE_SETTINGS = Symbol('PIPELINE_SETTINGS');

export function resolvePipelineOptions(o: PipelineOptions): PipelineSettings {
  const retry = o.retry ?? DEFAULT_RETRY;
  const requestTimeoutMs = o.requestTimeoutMs ?? 10_000;
  const lockDurationMs = o.lockDurationMs ?? 30_000;
  const stalledIntervalMs = o.stalledIntervalMs ?? 30_000;
  // The longest a snapshot or handoff job can take before it has a result or is a dead letter: per attempt up
  // to three calls (session detail, snapshot, detail again) and the longest back-off (+50 % jitter), plus one
  // take-over of a dead worker's job and a minute for the relay.
  const auditWaitMs = o.auditWaitMs ?? retry.attempts * (3 * requestTimeoutMs + 1.5 * retry.maxBackoffMs) + lockDurationMs + stalledIntervalMs + 60_000;
  return {
    databaseUrl: o.databaseUrl,
    redisUrl: o.redisUrl,
    prefix: o.prefix ?? 'rewind',
    key: o.key,
    rewardsUrl: o.rewardsUrl,
    rewardsApiKey: o.rewardsApiKey,
    moltstationUrl: o.moltstationUrl,
    retry,
    concurrency: o.concurrency ?? 8,
    requestTimeoutMs,
    workers: o.workers !== false,
    relayIntervalMs: o.relayIntervalMs,
    lockDurationMs,
    stalledIntervalMs,
    auditWaitMs,
    log: o.log,
  };
}
