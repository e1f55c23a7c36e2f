import { listDeadLetters, openQueues, retryDeadLetters } from '@rewind/pipeline';
import { ParsedArgs, rejectUnknown, UsageError } from '../args';
import { startRuntime } from '../runtime';

/**
 * rewind pipeline dead-letters [--json] | retry <jobId|--all>: the outcome pipeline's jobs that used up
 * their attempts, and moving them back to their queue.
 */
export async function pipelineCommand(args: ParsedArgs): Promise<number> {
  rejectUnknown(args, ['json', 'all']);
  const [sub, jobId] = args.positionals;
  if (sub !== 'dead-letters' && sub !== 'retry') throw new UsageError('usage: rewind pipeline dead-letters [--json] | retry <jobId|--all>');
  if (sub === 'retry' && !jobId && !args.options.has('all')) throw new UsageError('rewind pipeline retry needs a job id or --all');
  const runtime = await startRuntime();
  const queues = openQueues(runtime.redisUrl, runtime.config.pipeline.queuePrefix);
  try {
    if (sub === 'dead-letters') {
      const dead = await listDeadLetters(queues);
      if (args.options.has('json')) process.stdout.write(`${JSON.stringify(dead, null, 2)}\n`);
      else if (dead.length === 0) process.stdout.write('no dead letters\n');
      else for (const d of dead) process.stdout.write(`${d.queue}  ${d.jobId}  ${d.platform}  run ${d.runSessionId}  ${d.attempts} attempts  ${d.failedAt ?? ''}  ${d.failedReason}\n`);
      return 0;
    }
    const n = await retryDeadLetters(queues, args.options.has('all') ? undefined : jobId);
    process.stdout.write(`${n} dead letter${n === 1 ? '' : 's'} moved back to the queue\n`);
    return n === 0 && !args.options.has('all') ? 1 : 0;
  } finally {
    await Promise.all(Object.values(queues).map((q) => q.close()));
    await runtime.services.stop();
  }
}
