import { loadConfig } from '@rewind/config';
import { maybeStartMetricsServer } from '@rewind/observability';
import { startPipelineFromConfig } from '@rewind/pipeline';

/**
 * Stand-alone outcome-pipeline process (production): the outbox relay and the snapshot and reward workers.
 * DATABASE_URL and REDIS_URL are required here; `./rewind up` runs one in-process. Run several to scale:
 * relays share rows (SKIP LOCKED), workers share jobs.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl || !config.redisUrl) throw new Error('apps/pipeline needs DATABASE_URL and REDIS_URL; for the embedded local default run ./rewind up');
  const line = (level: string) => (m: string) => void process.stderr.write(`pipeline ${level}: ${m}\n`);
  const pipeline = await startPipelineFromConfig({ config, databaseUrl: config.databaseUrl, redisUrl: config.redisUrl }, { info: line('info'), warn: line('warning'), error: line('error') });
  // Prometheus /metrics on REWIND_PIPELINE_METRICS_PORT (0: off).
  const metrics = await maybeStartMetricsServer(config.metrics.pipelinePort);
  const stop = (): void => {
    void metrics?.close();
    pipeline.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
