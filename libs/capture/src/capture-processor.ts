import { BullModule, getQueueToken, OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { DynamicModule, Inject, Injectable, Module, OnApplicationBootstrap, Type } from '@nestjs/common';
import type { Job } from 'bullmq';
import type Redis from 'ioredis';
import { CaptureCoordinator, captureWorkerOptions, type CaptureJobData, type CaptureJobResult, fastFailRedis } from '@rewind/scaleout';
import type { BullmqSchedulerOptions } from './schedulers';

/** The capture queue's fail-fast command connection (offers reject at once while Redis is away). */
export const CAPTURE_QUEUE_REDIS = Symbol('CAPTURE_QUEUE_REDIS');
/** The recorder's CaptureCoordinator (its worker is the `@Processor` below). */
export const CAPTURE_COORDINATOR = Symbol('CAPTURE_COORDINATOR');

/** Default capture queue name, as CaptureCoordinator's. */
export const DEFAULT_CAPTURE_QUEUE = 'rewind-capture';
const CAPTURE_PREFIX = 'rewind';

/**
 * The capture-task worker of this process: a BullMQ `@Processor` whose worker BullModule creates with
 * the coordinator's own worker options (`CaptureCoordinator.workerOptions()`: lock duration, stalled
 * interval, concurrency, `autorun: false`), and whose jobs run through the coordinator (`processJob`:
 * take-over detection, hand-back on close, retries). The worker is started at bootstrap, once every
 * provider (the Recorder the tasks write into) is initialised; the coordinator closes it on shutdown
 * (before BullModule's own close, which is then a no-op).
 *
 * What stays on bullmq itself, inside the coordinator: the lock-loss and hand-back moves
 * (`moveToWait`/`moveToDelayed` with the job's token, `WaitingError`/`DelayedError`), the run record in
 * the job's progress, and the order of close (stop fetching, abort the tasks, hand their jobs back, then
 * close the queue) — @nestjs/bullmq has no expression for them.
 */
export abstract class CaptureProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(@Inject(CAPTURE_COORDINATOR) private readonly coordinator: CaptureCoordinator) {
    super();
  }

  process(job: Job<CaptureJobData, CaptureJobResult>, token?: string): Promise<CaptureJobResult> {
    return this.coordinator.processJob(job, token);
  }

  /** Runs the worker: resolves once its connection is ready (it waits for Redis, as the coordinator's `start`). */
  async onApplicationBootstrap(): Promise<void> {
    await this.coordinator.attach(this.worker, { listen: false });
  }

  /** Closes a worker that was never run (a start that failed before bootstrap); a running one the coordinator closes. */
  async releaseWorker(): Promise<void> {
    if (this.coordinator.stats().started) return;
    try {
      await this.worker.close();
    } catch {
      // Never created: nothing to close.
    }
  }

  // The listeners are on from the worker's creation (BullModule registers them with the worker), so an
  // error of its first connection attempt is logged rather than thrown as an unhandled 'error' event.
  @OnWorkerEvent('error')
  onError(e: Error): void {
    this.coordinator.workerEvents.error(e);
  }

  @OnWorkerEvent('ready')
  onReady(): void {
    this.coordinator.workerEvents.ready();
  }

  @OnWorkerEvent('locksRenewed')
  onLocksRenewed(): void {
    this.coordinator.workerEvents.locksRenewed();
  }

  @OnWorkerEvent('lockRenewalFailed')
  onLockRenewalFailed(jobIds: string[]): void {
    this.coordinator.workerEvents.lockRenewalFailed(jobIds);
  }

  @OnWorkerEvent('stalled')
  onStalled(jobId: string): void {
    this.coordinator.workerEvents.stalled(jobId);
  }
}

@Module({})
class CaptureQueueConnectionModule {}

/**
 * The capture queue registered with BullModule (on its fail-fast connection), and the `@Processor` class of
 * this queue: the queue name is configuration (REWIND_CAPTURE_QUEUE), so the class is made per name.
 * `coordinator` is the provider of CAPTURE_COORDINATOR (it needs the recorder's task runner).
 */
export function captureQueue(o: BullmqSchedulerOptions): { imports: DynamicModule[]; processor: Type<CaptureProcessor>; queueToken: string } {
  const name = o.queueName ?? DEFAULT_CAPTURE_QUEUE;
  const connection: DynamicModule = {
    module: CaptureQueueConnectionModule,
    providers: [{ provide: CAPTURE_QUEUE_REDIS, useFactory: () => fastFailRedis(o.redisUrl) }],
    exports: [CAPTURE_QUEUE_REDIS],
  };
  const queue = BullModule.registerQueueAsync({
    name,
    imports: [connection],
    inject: [CAPTURE_QUEUE_REDIS],
    useFactory: (redis: Redis) => ({ connection: redis, prefix: CAPTURE_PREFIX }),
  });
  // The worker options are the coordinator's (same defaults, same overrides).
  const workerOptions = captureWorkerOptions({
    redisUrl: o.redisUrl,
    holder: o.holder,
    concurrency: o.concurrency,
    prefix: CAPTURE_PREFIX,
    ...(o.lockDurationMs ? { lockDurationMs: o.lockDurationMs } : {}),
    ...(o.stalledIntervalMs ? { stalledIntervalMs: o.stalledIntervalMs } : {}),
  });
  @Injectable()
  class CaptureQueueProcessor extends CaptureProcessor {}
  Processor(name, workerOptions)(CaptureQueueProcessor);
  return { imports: [connection, queue], processor: CaptureQueueProcessor, queueToken: getQueueToken(name) };
}
