import { loadConfig, withRewindConfig } from '@rewind/config';
import { apiModuleFromConfig, runApiProcesses, startApiModule } from '@rewind/api';
import { configureLogging } from '@rewind/observability';

/**
 * Stand-alone API process (production): DATABASE_URL, REDIS_URL, REWIND_API_KEYS and REWIND_REDACTION_KEY
 * are required here. The configuration enters the application through RewindConfigModule (validated once,
 * before anything starts, so a bad value stops it with the variable named) and AppModule takes its options
 * from it — the same `apiModuleFromConfig` as `rewind up`'s (audits read back reward receipts from
 * REWIND_REWARDS_URL too). A Nest application with shutdown hooks: SIGTERM/SIGINT close it.
 * REWIND_API_WORKERS > 1: this process is the primary of that many workers, each running the application on the
 * same ports (`runApiProcesses`, node `cluster`); SIGTERM/SIGINT to the primary close them all.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  configureLogging({ level: config.logLevel, format: config.logFormat, service: 'api' });
  if (!config.databaseUrl || !config.redisUrl) {
    throw new Error('apps/api needs DATABASE_URL and REDIS_URL; for the embedded local default run ./rewind up');
  }
  await runApiProcesses({
    workers: config.apiWorkers,
    start: () => startApiModule(withRewindConfig([apiModuleFromConfig({ local: false })], config), { port: config.apiPort, shutdownHooks: true }),
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
