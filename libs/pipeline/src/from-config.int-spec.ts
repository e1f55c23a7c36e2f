import { loadConfig, REWIND_CONFIG, RewindConfig } from '@rewind/config';
import { testDatabaseUrl, testRedisUrl } from '@rewind/testing';
import { startPipelineFromConfig } from './from-config';
import type { RunningPipeline } from './service';

/** The pipeline process's root as apps/pipeline and `rewind up` build it: PipelineModule from REWIND_CONFIG. */
describe('pipelineModuleFromConfig: the pipeline configured through RewindConfigModule (real Postgres and Redis)', () => {
  const prefix = `pcfg${process.pid}`;
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  let pipeline: RunningPipeline;
  beforeAll(async () => {
    const config = loadConfig({ REWIND_QUEUE_PREFIX: prefix, REWIND_PIPELINE_CONCURRENCY: '3', REWIND_PIPELINE_BACKOFF_MS: '250', REWIND_REDACTION_KEY: 'ef'.repeat(32) });
    pipeline = await startPipelineFromConfig({ config, databaseUrl: testDatabaseUrl(), redisUrl: testRedisUrl() }, quiet);
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  it('provides the configuration with the resolved service URLs', () => {
    const config = pipeline.app.get<RewindConfig>(REWIND_CONFIG);
    expect(config.databaseUrl).toBe(testDatabaseUrl());
    expect(config.redisUrl).toBe(testRedisUrl());
  });

  it('runs its queues under the configured prefix and its workers with the configured concurrency and backoff', () => {
    for (const queue of Object.values(pipeline.queues)) expect(queue.opts.prefix).toBe(prefix);
    const workers = pipeline.workers;
    expect(workers).not.toBeNull();
    for (const worker of Object.values(workers ?? {})) {
      expect(worker.opts.prefix).toBe(prefix);
      expect(worker.concurrency).toBe(3);
      // The backoff strategy is ours, from REWIND_PIPELINE_BACKOFF_MS: the first retry waits about 250 ms (jittered), never more than twice.
      const delay = worker.opts.settings?.backoffStrategy?.(1, 'rewind-jitter');
      expect(typeof delay).toBe('number');
      expect(delay as number).toBeGreaterThan(0);
      expect(delay as number).toBeLessThanOrEqual(500);
    }
  });
});
