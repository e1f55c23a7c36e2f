import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { openQueues, PipelineQueue } from '@rewind/pipeline';

/** The pipeline's queues, opened by the API for reading depths and operating dead letters. */
@Injectable()
export class PipelineQueues implements OnModuleDestroy {
  readonly queues: Record<PipelineQueue, Queue>;

  constructor(redisUrl: string, prefix: string) {
    this.queues = openQueues(redisUrl, prefix);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
  }
}
