import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { bullConnection, jobOptions } from '@rewind/pipeline';
import { spawnRewind, testRedisUrl, waitFor } from '@rewind/testing';

describe('rewind pipeline (the CLI, as an operator runs it)', () => {
  const prefix = `cli-${randomUUID().slice(0, 8)}`;
  const env = { REWIND_QUEUE_PREFIX: prefix };
  const run = async (args: string[]) => {
    const cli = spawnRewind(['pipeline', ...args], env);
    const code = await cli.exited;
    return { code, stdout: cli.stdout, stderr: cli.stderr };
  };
  let queue: Queue;
  afterAll(async () => {
    await queue?.obliterate({ force: true });
    await queue?.close();
  });

  it('lists dead letters, retries one, and refuses bad usage clearly', async () => {
    expect(await run(['dead-letters'])).toMatchObject({ code: 0, stdout: 'no dead letters\n' });
    expect(await run(['retry'])).toMatchObject({ code: 2, stderr: expect.stringContaining('rewind pipeline retry needs a job id or --all') });
    expect(await run(['explode'])).toMatchObject({ code: 2, stderr: expect.stringContaining('usage: rewind pipeline dead-letters') });

    queue = new Queue('snapshot-submission', { connection: bullConnection(testRedisUrl()), prefix });
    const jobId = randomUUID();
    await queue.add('snapshot', { sessionId: 'run-9', platform: 'moltstation', platformSessionId: 'ms_9' }, { ...jobOptions({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 }), jobId });
    const worker = new Worker(
      'snapshot-submission',
      async () => {
        throw new Error('snapshot answered 503');
      },
      { connection: bullConnection(testRedisUrl()), prefix },
    );
    await waitFor('the snapshot job to fail', () => queue.getFailedCount(), { until: (n) => n > 0 });
    await worker.close();

    const listed = await run(['dead-letters', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ jobId, queue: 'snapshot-submission', platform: 'moltstation', failedReason: 'snapshot answered 503' })]);
    expect(await run(['retry', randomUUID()])).toMatchObject({ code: 1, stdout: '0 dead letters moved back to the queue\n' });
    expect(await run(['retry', jobId])).toMatchObject({ code: 0, stdout: '1 dead letter moved back to the queue\n' });
    expect(await (await queue.getJob(jobId))?.getState()).toBe('waiting');
  }, 180_000);
});
