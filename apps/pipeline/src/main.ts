import 'reflect-metadata';
import { loadConfig, withRewindConfig } from '@rewind/config';
import { maybeStartMetricsServer } from '@rewind/observability';
import { createPipelineContextOf, pipelineModuleFromConfig } from '@rewind/pipeline';

/**
 * Stand-alone outcome-pipeline process (production): a Nest application context (no HTTP server) of
 * PipelineModule — the outbox relay and the snapshot-submission, reward-handoff and run-audit workers. The
 * configuration is validated before anything starts; DATABASE_URL and REDIS_URL are required here (`./rewind
 * up` runs the same module in-process). SIGTERM/SIGINT close it through Nest's shutdown hooks: the relay
 * stops, the workers finish their jobs, then the connections close. Run several to scale: relays share rows
 * (SKIP LOCKED), workers share jobs.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl || !config.redisUrl) throw new Error('apps/pipeline needs DATABASE_URL and REDIS_URL; for the embedded local default run ./rewind up');
  const line = (level: string) => (m: string) => void process.stderr.write(`pipeline ${level}: ${m}\n`);
  const log = { info: line('info'), warn: line('warning'), error: line('error') };
  // The configuration enters through RewindConfigModule; PipelineModule takes its options from REWIND_CONFIG.
  const app = await createPipelineContextOf(withRewindConfig([pipelineModuleFromConfig(log)], config), log);
  app.enableShutdownHooks();
  line('info')(`running: outbox relay and workers (queue prefix ${config.pipeline.queuePrefix})`);
  // Prometheus /metrics on REWIND_PIPELINE_METRICS_PORT (0: off); it ends with the process (the shutdown hooks
  // close the application, then re-raise the signal).
  await maybeStartMetricsServer(config.metrics.pipelinePort);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
