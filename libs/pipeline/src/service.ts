import 'reflect-metadata';
import type { DynamicModule, INestApplicationContext, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Queue, Worker } from 'bullmq';
import { DeadLetter, listDeadLetters, queueDepths, retryDeadLetters } from './dead-letters';
import type { PipelineOptions } from './options';
import { PipelineModule, PipelineQueueSet } from './pipeline.module';
import { PIPELINE_PROCESSORS } from './processors';
import { PIPELINE_QUEUES, PipelineQueue } from './queues';
import { OutboxRelay, RelayLogger } from './relay';

export type { PipelineOptions } from './options';

export interface RunningPipeline {
  relay: OutboxRelay;
  queues: Record<PipelineQueue, Queue>;
  workers: Record<PipelineQueue, Worker> | null;
  /** The Nest application context the pipeline runs in. */
  app: INestApplicationContext;
  deadLetters(): Promise<DeadLetter[]>;
  /** Moves dead letters back to the queue (all, or one job id); resolves with how many. */
  retry(jobId?: string): Promise<number>;
  /** Waiting, active, delayed, completed and failed counts per queue. */
  depths(): Promise<Record<PipelineQueue, Record<string, number>>>;
  close(): Promise<void>;
}

/** Nest's own log lines (module init, Prisma connected, …) to the pipeline's logger. */
export function relayLoggerService(log: RelayLogger): LoggerService {
  return {
    log: (m: unknown) => log.info(String(m)),
    warn: (m: unknown) => log.warn(String(m)),
    error: (m: unknown) => log.error(String(m)),
  };
}

/**
 * The pipeline's Nest application context (the composition root of a pipeline process, see PipelineModule),
 * initialised: the relay is running, and the workers unless `workers: false`. `apps/pipeline` adds its
 * shutdown hooks; `startPipeline()` wraps it for embedding.
 */
export async function createPipelineContext(o: PipelineOptions): Promise<INestApplicationContext> {
  return createPipelineContextOf(PipelineModule.forRoot(o), o.log);
}

/** An application context whose root is `root` (PipelineModule, or a module that imports it), Nest's lines to `log`. */
export async function createPipelineContextOf(root: DynamicModule, log: RelayLogger): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext(root, { logger: relayLoggerService(log), abortOnError: false });
}

/**
 * The outcome pipeline of one process: the outbox relay, the three queues and (unless `workers: false`)
 * their workers. `apps/pipeline` runs one; `rewind up`/`demo` run one in-process.
 */
export async function startPipeline(o: PipelineOptions): Promise<RunningPipeline> {
  const app = await createPipelineContext(o);
  return runningPipeline(app, o.workers !== false);
}

/** The handle of an initialised pipeline context. */
export function runningPipeline(app: INestApplicationContext, withWorkers: boolean): RunningPipeline {
  const { queues } = app.get(PipelineQueueSet);
  const workers = withWorkers ? (Object.fromEntries(PIPELINE_QUEUES.map((q) => [q, app.get(PIPELINE_PROCESSORS[q], { strict: false }).worker])) as Record<PipelineQueue, Worker>) : null;
  return {
    relay: app.get(OutboxRelay),
    queues,
    workers,
    app,
    deadLetters: () => listDeadLetters(queues),
    retry: (jobId) => retryDeadLetters(queues, jobId),
    depths: () => queueDepths(queues),
    close: () => app.close(),
  };
}
