import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfig, withRewindConfig } from '@rewind/config';
import { recordingModule, RecorderService } from '@rewind/capture';
import { maybeStartMetricsServer } from '@rewind/observability';

/**
 * Stand-alone recorder process (production): the recording proxy on REWIND_PROXY_PORT and a share of the
 * live captures — a Nest application context of `recordingModule`, the composition root `rewind recorder`
 * and `rewind up` share. DATABASE_URL and REDIS_URL are required here; for the embedded local default run
 * `./rewind recorder` (or `./rewind up`). Run several to scale out. SIGTERM/SIGINT close it (shutdown hooks):
 * the proxy and the tasks stop, what is held is recorded and made durable.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl || !config.redisUrl) {
    throw new Error('apps/recorder needs DATABASE_URL and REDIS_URL; for the embedded local default run ./rewind recorder');
  }
  const log = (line: string): void => void process.stderr.write(`recorder: ${line}\n`);
  const recording = recordingModule({ config, databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, log }, { verbose: config.logLevel !== 'warn' && config.logLevel !== 'error' });
  // The configuration enters through RewindConfigModule; RecorderModule takes its options from REWIND_CONFIG.
  const app = await NestFactory.createApplicationContext(withRewindConfig([recording.module], config), { logger: ['error', 'warn'], abortOnError: false }).catch(async (e: unknown) => {
    await recording.release();
    throw e;
  });
  app.enableShutdownHooks();
  process.stdout.write(`recorder: proxy on ${app.get(RecorderService).proxyUrl}\n`);
  // Prometheus /metrics on REWIND_RECORDER_METRICS_PORT (0: off); it ends with the process (the shutdown hooks
  // close the application, then re-raise the signal).
  const metrics = await maybeStartMetricsServer(config.metrics.recorderPort);
  if (metrics) process.stdout.write(`recorder: metrics on ${metrics.url}/metrics\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
