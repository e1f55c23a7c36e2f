import { Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { DeadLetter, listDeadLetters, retryDeadLetters } from '@rewind/pipeline';
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
