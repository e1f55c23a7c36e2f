import { Controller, Get, Header, HttpCode, NotFoundException, Param, Post, Redirect } from '@nestjs/common';
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

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The operators' queue dashboard: depths per queue and the dead letters, each with a retry button. No scripts, no external assets. */
@RequireScope('read')
@Controller('queues')
export class QueueDashboardController {
  constructor(private readonly p: PipelineQueues) {}

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  async page(): Promise<string> {
    const [depths, dead] = await Promise.all([queueDepths(this.p.queues), listDeadLetters(this.p.queues)]);
    const states = ['waiting', 'active', 'delayed', 'completed', 'failed'];
    const depthRows = PIPELINE_QUEUES.map((q) => `<tr><th>${q}</th>${states.map((s) => `<td>${depths[q][s] ?? 0}</td>`).join('')}</tr>`).join('');
    const deadRows = dead
      .map(
        (d) =>
          `<tr><td>${esc(d.queue)}</td><td><code>${esc(d.jobId)}</code></td><td>${esc(d.platform)}</td><td><code>${esc(d.runSessionId)}</code></td><td>${d.attempts}</td><td>${esc(d.failedReason)}</td><td>${esc(d.failedAt ?? '')}</td>` +
          `<td><form method="post" action="/queues/retry/${encodeURIComponent(d.jobId)}"><button>retry</button></form></td></tr>`,
      )
      .join('');
    return `<!doctype html><html><head><meta charset="utf-8"><title>Rewind queues</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;margin-bottom:2rem}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}</style></head>
<body><h1>Outcome pipeline</h1>
<table><tr><th>queue</th>${states.map((s) => `<th>${s}</th>`).join('')}</tr>${depthRows}</table>
<h2>Dead letters (${dead.length})</h2>
${dead.length ? `<form method="post" action="/queues/retry"><button>retry all</button></form>` : '<p>None.</p>'}
<table><tr><th>queue</th><th>job</th><th>platform</th><th>run</th><th>attempts</th><th>reason</th><th>failed at</th><th></th></tr>${deadRows}</table>
</body></html>`;
  }

  @Post('retry')
  @RequireScope('admin')
  @Redirect('/queues', 303)
  async retryAll(): Promise<void> {
    await retryDeadLetters(this.p.queues);
  }

  @Post('retry/:jobId')
  @RequireScope('admin')
  @Redirect('/queues', 303)
  async retryOne(@Param('jobId') jobId: string): Promise<void> {
    if (JOB_ID.test(jobId)) await retryDeadLetters(this.p.queues, jobId);
  }
}
