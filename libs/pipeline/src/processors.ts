import { Inject, OnModuleDestroy, Type } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job, WorkerOptions } from 'bullmq';
import { rewindMetrics } from '@rewind/observability';
import { JobRecording, RewardHandoff, RunAudit, SnapshotSubmission } from './jobs';
import { PIPELINE_SETTINGS, PipelineSettings } from './options';
import { backoffDelay, PipelineQueue } from './queues';
import type { AuditJobResult, RewardResult, RunPayload, SnapshotResult } from './types';

/**
 * What the three processors share: the worker's `error` events to the pipeline's log (an EventEmitter
 * without an `error` listener would throw), and closing the worker on module destroy — before the global
 * DbModule and the vault go away, so jobs in flight finish with their database (Nest's own close of the
 * worker, on application shutdown, then finds it closed).
 */
abstract class PipelineProcessor extends WorkerHost implements OnModuleDestroy {
  constructor(protected readonly settings: PipelineSettings) {
    super();
  }

  @OnWorkerEvent('error')
  onError(e: Error): void {
    this.settings.log.warn(`pipeline worker: ${e.message}`);
  }

  /** rewind_pipeline_jobs_total{queue,outcome="completed"}. */
  @OnWorkerEvent('completed')
  onCompleted(job: Job): void {
    rewindMetrics.pipelineJobs.labels(job.queueName, 'completed').inc();
  }

  /** rewind_pipeline_jobs_total{queue,outcome="retried"|"failed"}: failed = dead-lettered (no attempt left). */
  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined): void {
    if (!job) return;
    const last = job.finishedOn !== undefined; // set once the job moved to failed for good (no retry left, or unrecoverable)
    rewindMetrics.pipelineJobs.labels(job.queueName, last ? 'failed' : 'retried').inc();
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker.close();
  }
}

@Processor('snapshot-submission')
export class SnapshotSubmissionProcessor extends PipelineProcessor {
  constructor(
    @Inject(PIPELINE_SETTINGS) settings: PipelineSettings,
    private readonly recording: JobRecording,
    private readonly snapshots: SnapshotSubmission,
  ) {
    super(settings);
  }

  process(job: Job<RunPayload>): Promise<SnapshotResult> {
    return this.recording.run('snapshot-submission', job, (stream) => this.snapshots.submit(job.data, stream));
  }
}

@Processor('reward-handoff')
export class RewardHandoffProcessor extends PipelineProcessor {
  constructor(
    @Inject(PIPELINE_SETTINGS) settings: PipelineSettings,
    private readonly recording: JobRecording,
    private readonly rewards: RewardHandoff,
  ) {
    super(settings);
  }

  process(job: Job<RunPayload>): Promise<RewardResult> {
    return this.recording.run('reward-handoff', job, (stream) => this.rewards.handOff(job, stream));
  }
}

@Processor('run-audit')
export class RunAuditProcessor extends PipelineProcessor {
  constructor(
    @Inject(PIPELINE_SETTINGS) settings: PipelineSettings,
    private readonly audits: RunAudit,
  ) {
    super(settings);
  }

  /** `token` is the job's lock: the audit moves its own job back to `delayed` while it waits. */
  process(job: Job<RunPayload>, token?: string): Promise<AuditJobResult> {
    return this.audits.audit(job, token);
  }
}

/** Worker options as `@Processor` takes them (the connection comes from BullModule.forRoot). */
export type PipelineWorkerOptions = Omit<WorkerOptions, 'connection'>;

export const PIPELINE_PROCESSORS: Record<PipelineQueue, Type<PipelineProcessor>> = {
  'snapshot-submission': SnapshotSubmissionProcessor,
  'reward-handoff': RewardHandoffProcessor,
  'run-audit': RunAuditProcessor,
};

/** The worker options of every pipeline worker, from the settings of one PipelineModule. */
export function pipelineWorkerOptions(s: PipelineSettings): PipelineWorkerOptions {
  return {
    concurrency: s.concurrency,
    // Our own backoff strategy (job option `backoff: { type: 'rewind-jitter' }`, see jobOptions).
    settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, s.retry) },
    lockDuration: s.lockDurationMs,
    stalledInterval: s.stalledIntervalMs,
    // A job whose worker died is retried, never failed for it (its handoff is idempotent).
    maxStalledCount: 1000,
  };
}

/**
 * The processor class of `queue` with this module's worker options. `@Processor` options are class metadata,
 * and ours come from the configuration: each PipelineModule.forRoot decorates a subclass of its own (same
 * name, same constructor injection), so two pipelines in one process (tests) keep their own settings.
 */
export function boundProcessor(queue: PipelineQueue, workerOptions: PipelineWorkerOptions): Type<PipelineProcessor> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a mixin's base: the constructor is the processor's own
  const Base = PIPELINE_PROCESSORS[queue] as new (...args: any[]) => object;
  const Bound = class extends Base {};
  Object.defineProperty(Bound, 'name', { value: Base.name });
  Processor(queue, workerOptions)(Bound);
  return Bound as unknown as Type<PipelineProcessor>;
}
