import { Controller, Get, Header, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { PG_POOL } from '@rewind/db';
import { Inject } from '@nestjs/common';
import type { Pool } from 'pg';
import { DeadLetter, listDeadLetters, PIPELINE_QUEUES, queueDepths, retryDeadLetters } from '@rewind/pipeline';
import { PipelineQueues } from './pipeline-queues';
import { RequireScope } from '../auth/scope.guard';

const JOB_ID = /^[A-Za-z0-9._:~-]{1,200}$/;

/** Dead letters of the outcome pipeline (jobs that used up their attempts), and the operators' retry. */
@RequireScope('read')
@Controller('api/pipeline')
export class PipelineController {
  constructor(private readonly p: PipelineQueues) {}

  @Get('dead-letters')
  async deadLetters(): Promise<{ deadLetters: DeadLetter[] }> {
    return { deadLetters: await listDeadLetters(this.p.queues) };
  }

  @Post('dead-letters/retry')
  @RequireScope('admin')
  @HttpCode(200)
  async retryAll(): Promise<{ retried: number }> {
    return { retried: await retryDeadLetters(this.p.queues) };
  }

  @Post('dead-letters/:jobId/retry')
  @RequireScope('admin')
  @HttpCode(200)
  async retryOne(@Param('jobId') jobId: string): Promise<{ retried: number }> {
    if (!JOB_ID.test(jobId)) throw new NotFoundException({ error: 'not_found', message: 'no dead letter with that job id' });
    const retried = await retryDeadLetters(this.p.queues, jobId);
    if (retried === 0) throw new NotFoundException({ error: 'not_found', message: `no dead letter with job id ${jobId}` });
    return { retried };
  }
}

/** Prometheus text: queue depths by state, outbox rows waiting for the relay. */
@Controller()
export class MetricsController {
  constructor(
    private readonly p: PipelineQueues,
    @Inject(PG_POOL) private readonly pool: Pool,
  ) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    const depths = await queueDepths(this.p.queues);
    const { rows } = await this.pool.query<{ queue: string; n: number }>('SELECT queue, count(*)::int AS n FROM outbox WHERE relayed_at IS NULL GROUP BY queue');
    const lines = [
      '# HELP rewind_queue_jobs Jobs of the outcome pipeline by queue and state (completed: kept 7 days; failed: dead letters).',
      '# TYPE rewind_queue_jobs gauge',
      ...PIPELINE_QUEUES.flatMap((q) => Object.entries(depths[q]).map(([state, n]) => `rewind_queue_jobs{queue="${q}",state="${state}"} ${n}`)),
      '# HELP rewind_outbox_pending Outbox rows not yet relayed to BullMQ.',
      '# TYPE rewind_outbox_pending gauge',
      ...PIPELINE_QUEUES.map((q) => `rewind_outbox_pending{queue="${q}"} ${rows.find((r) => r.queue === q)?.n ?? 0}`),
    ];
    return `${lines.join('\n')}\n`;
  }
}
