import { loadConfig } from '@rewind/config';
import { startApi } from '@rewind/api';

/** Stand-alone API process (production): DATABASE_URL and REDIS_URL are required here. */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl || !config.redisUrl) {
    throw new Error('apps/api needs DATABASE_URL and REDIS_URL; for the embedded local default run ./rewind up');
  }
  await startApi({ databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, queuePrefix: config.pipeline.queuePrefix, port: config.apiPort });
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
