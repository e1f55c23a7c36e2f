import { backoff } from '@rewind/backoff';
import { taskId, TaskOffer } from '@rewind/recorder';
import { CaptureCoordinator, type CaptureCoordinatorOptions, CaptureTarget } from '@rewind/scaleout';
import type { CaptureTaskLogger, CaptureTaskResult } from '@rewind/capture-facts';
import type { TaskScheduler } from './recorder-options';

export type StartTask = (offer: TaskOffer, signal: AbortSignal, takeover: boolean) => Promise<CaptureTaskResult>;

export function toTarget(offer: TaskOffer): CaptureTarget {
  return {
    id: offer.id,
    kind: offer.kind,
    platform: offer.platform,
    platformSessionId: offer.platformSessionId ?? offer.runKey,
    params: { ...offer.params, runKey: offer.runKey, hasPlatformSessionId: offer.platformSessionId !== null },
  };
}

export function fromTarget(target: CaptureTarget): TaskOffer {
  const { runKey, hasPlatformSessionId, ...params } = target.params as Record<string, unknown> & { runKey: string; hasPlatformSessionId: boolean };
  return {
    id: target.id,
    kind: target.kind as TaskOffer['kind'],
    platform: target.platform as TaskOffer['platform'],
    runKey,
    platformSessionId: hasPlatformSessionId ? target.platformSessionId : null,
    params,
  };
}

/** The spectate task of a MoltStation session, as the proxy and the live-list discovery both name it. */
export function spectateOffer(slug: string, platformSessionId: string): TaskOffer {
  const runKey = `session:${platformSessionId}`;
  return { id: taskId('moltstation', 'moltstation-spectate', runKey), kind: 'moltstation-spectate', platform: 'moltstation', runKey, platformSessionId, params: { slug, platformSessionId } };
}

/** Where the live captures of `bullmqScheduler` go: the capture queue and this process's share of it. */
export interface BullmqSchedulerOptions {
  redisUrl: string;
  holder: string;
  concurrency: number;
  log: CaptureTaskLogger;
  queueName?: string;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  offerRetryMs?: number;
}

/** A scheduler factory that the recorder's Nest module runs as a BullMQ `@Processor` (see recorder.module.ts). */
export type BullmqSchedulerFactory = ((startTask: StartTask) => Promise<TaskScheduler>) & { readonly bullmq: BullmqSchedulerOptions };

/** The coordinator of `bullmqScheduler`'s options (`queue`: one registered by a container, see capture-processor.ts). */
export function captureCoordinator(o: BullmqSchedulerOptions, startTask: StartTask, queue?: CaptureCoordinatorOptions['queue']): CaptureCoordinator {
  return new CaptureCoordinator({
    redisUrl: o.redisUrl,
    holder: o.holder,
    concurrency: o.concurrency,
    log: o.log,
    ...(o.queueName ? { queueName: o.queueName } : {}),
    ...(o.lockDurationMs ? { lockDurationMs: o.lockDurationMs } : {}),
    ...(o.stalledIntervalMs ? { stalledIntervalMs: o.stalledIntervalMs } : {}),
    ...(queue ? { queue } : {}),
    run: (run) => startTask(fromTarget(run.target), run.signal, run.takeover),
  });
}

/**
 * Offers to a coordinator's queue. An offer that cannot reach Redis is retried with back-off for up to
 * `offerRetryMs`, then dropped with an error line (the proxy's own capture of the run goes on). `close()`
 * closes the coordinator (its tasks handed back).
 */
export function offeringScheduler(coordinator: CaptureCoordinator, o: { log: CaptureTaskLogger; offerRetryMs?: number }): TaskScheduler {
  const timers = new Set<NodeJS.Timeout>();
  let closing = false;
  /** 250 ms after the first failed offer, doubling, capped at 5 s. */
  const retryDelay = backoff({ baseMs: 250, maxMs: 5000 });
  const offer = (target: CaptureTarget, attempt: number, firstAt: number): void => {
    coordinator.offer(target).catch((e: unknown) => {
      if (closing) return;
      if (attempt === 0) o.log.warn(`capture task ${target.id} not scheduled yet (${(e as Error).message}); retrying`);
      if (Date.now() - firstAt > (o.offerRetryMs ?? 60_000)) {
        o.log.error(`capture task ${target.id} could not be scheduled (${(e as Error).message}); its run is still recorded by the proxy`);
        return;
      }
      const t = setTimeout(() => (timers.delete(t), offer(target, attempt + 1, firstAt)), retryDelay(attempt + 1));
      timers.add(t);
    });
  };
  return {
    offer: (x) => offer(toTarget(x), 0, Date.now()),
    stats: () => ({ ...coordinator.stats() }),
    intake: (open) => coordinator.intake(open),
    async close() {
      closing = true;
      for (const t of timers) clearTimeout(t);
      await coordinator.close();
    },
  };
}

/**
 * Live captures shared by every recorder process through BullMQ (one job per target; a killed holder's
 * job is taken over by another process). Run by the recorder's Nest module, the worker is a BullMQ
 * `@Processor` registered with BullModule; called directly, it starts a coordinator with a worker of its own.
 */
export function bullmqScheduler(o: BullmqSchedulerOptions): BullmqSchedulerFactory {
  const factory = async (startTask: StartTask): Promise<TaskScheduler> => {
    const coordinator = captureCoordinator(o, startTask);
    await coordinator.start();
    return offeringScheduler(coordinator, o);
  };
  return Object.assign(factory, { bullmq: o });
}
