import { loadConfig } from '@rewind/config';
import { apiOptionsFromConfig, startApi } from '@rewind/api';
import { configureLogging } from '@rewind/observability';

/**
 * Stand-alone API process (production): DATABASE_URL, REDIS_URL, REWIND_API_KEYS and REWIND_REDACTION_KEY
 * are required here. Its options come from the same composition root as `rewind up`'s
 * (`apiOptionsFromConfig`: audits read back reward receipts from REWIND_REWARDS_URL too). A Nest
 * application with shutdown hooks: SIGTERM/SIGINT close it.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  configureLogging({ level: config.logLevel, format: config.logFormat, service: 'api' });
  if (!config.databaseUrl || !config.redisUrl) {
    throw new Error('apps/api needs DATABASE_URL and REDIS_URL; for the embedded local default run ./rewind up');
  }
  const { localApiKey: _local, ...options } = apiOptionsFromConfig({ config, databaseUrl: config.databaseUrl, redisUrl: config.redisUrl }, { local: false });
  await startApi({ ...options, port: config.apiPort, shutdownHooks: true });
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
