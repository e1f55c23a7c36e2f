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
 * How long a process remembers a target it offered (the queue answered `added` or `exists`) and does not offer it
 * again. A MoltStation session is offered three times: by the proxy that saw its start and by the live-list
 * discovery of every recorder, each offer two Redis round trips (the add, and the read that tells whose add won);
 * the proxy's and its own discovery's offers of one process came seconds apart. Well within the hour a finished job
 * is kept (`keepFinishedMs`), during which a second offer says `exists` and changes nothing anyway.
 */
export const OFFER_MEMO_MS = 60_000;

/**
 * Offers to a coordinator's queue. An offer that cannot reach Redis is retried with back-off for up to
 * `offerRetryMs`, then dropped with an error line (the proxy's own capture of the run goes on). A target offered
 * (or being offered) by this process in the last `offerMemoMs` is not offered again. `close()` closes the
 * coordinator (its tasks handed back).
 */
export function offeringScheduler(coordinator: CaptureCoordinator, o: { log: CaptureTaskLogger; offerRetryMs?: number; offerMemoMs?: number }): TaskScheduler {
  const timers = new Set<NodeJS.Timeout>();
  let closing = false;
  /** 250 ms after the first failed offer, doubling, capped at 5 s. */
  const retryDelay = backoff({ baseMs: 250, maxMs: 5000 });
  const memoMs = o.offerMemoMs ?? OFFER_MEMO_MS;
  /** Target id → when this process offered it (in insertion order: the oldest first, pruned from the front). */
  const offered = new Map<string, number>();
  const remembered = (id: string, now: number): boolean => {
    for (const [k, at] of offered) {
      if (now - at < memoMs) break;
      offered.delete(k);
    }
    return offered.has(id);
  };
  const offer = (target: CaptureTarget, attempt: number, firstAt: number): void => {
    coordinator.offer(target).catch((e: unknown) => {
      // Not offered (yet): the next offer of it (discovery's, a proxy's) is not held back.
      offered.delete(target.id);
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
    offer: (x) => {
      const now = Date.now();
      if (remembered(x.id, now)) return;
      offered.set(x.id, now);
      offer(toTarget(x), 0, now);
    },
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
