import { loadConfig } from '@rewind/config';
import { startRecording } from '@rewind/capture';
import { maybeStartMetricsServer } from '@rewind/observability';

/**
 * Stand-alone recorder process (production): the recording proxy on REWIND_PROXY_PORT and a share of the
 * live captures. DATABASE_URL and REDIS_URL are required here; for the embedded local default run
 * `./rewind recorder` (or `./rewind up`). Run several to scale out.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl || !config.redisUrl) {
    throw new Error('apps/recorder needs DATABASE_URL and REDIS_URL; for the embedded local default run ./rewind recorder');
  }
  const log = (line: string): void => void process.stderr.write(`recorder: ${line}\n`);
  const recording = await startRecording({ config, databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, log }, { verbose: config.logLevel !== 'warn' && config.logLevel !== 'error' });
  process.stdout.write(`recorder: proxy on ${recording.service.proxyUrl}\n`);
  // Prometheus /metrics on REWIND_RECORDER_METRICS_PORT (0: off).
  const metrics = await maybeStartMetricsServer(config.metrics.recorderPort);
  if (metrics) process.stdout.write(`recorder: metrics on ${metrics.url}/metrics\n`);
  const stop = (): void => {
    void metrics?.close();
    recording.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log(`while stopping: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
