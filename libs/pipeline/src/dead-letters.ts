import type { Job, Queue } from 'bullmq';
import { PipelineQueue, PIPELINE_QUEUES } from './queues';

export interface DeadLetter {
  queue: PipelineQueue;
  jobId: string;
  runSessionId: string;
  platform: string;
  platformSessionId: string | null;
  attempts: number;
  failedReason: string;
  failedAt: string | null;
}

async function failedJobs(queues: Record<PipelineQueue, Queue>): Promise<[PipelineQueue, Job][]> {
  const out: [PipelineQueue, Job][] = [];
  for (const q of PIPELINE_QUEUES) for (const job of await queues[q].getFailed(0, 999)) out.push([q, job]);
  return out;
}

/** Jobs that used up their attempts (BullMQ `failed`): the dead-letter state. */
export async function listDeadLetters(queues: Record<PipelineQueue, Queue>): Promise<DeadLetter[]> {
  return (await failedJobs(queues)).map(([queue, job]) => ({
    queue,
    jobId: String(job.id),
    runSessionId: String(job.data?.sessionId ?? ''),
    platform: String(job.data?.platform ?? ''),
    platformSessionId: (job.data?.platformSessionId as string | null) ?? null,
    attempts: job.attemptsMade,
    failedReason: job.failedReason,
    failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  }));
}

/** Moves dead letters back to their queue with fresh attempts (all, or one job id); resolves with how many. */
export async function retryDeadLetters(queues: Record<PipelineQueue, Queue>, jobId?: string): Promise<number> {
  let n = 0;
  for (const [, job] of await failedJobs(queues)) {
    if (jobId && String(job.id) !== jobId) continue;
    await job.retry('failed', { resetAttemptsMade: true });
    n++;
  }
  return n;
}

/** Waiting, active, delayed, completed and failed counts per queue. */
export async function queueDepths(queues: Record<PipelineQueue, Queue>): Promise<Record<PipelineQueue, Record<string, number>>> {
  const out = {} as Record<PipelineQueue, Record<string, number>>;
  for (const q of PIPELINE_QUEUES) out[q] = await queues[q].getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  return out;
}
