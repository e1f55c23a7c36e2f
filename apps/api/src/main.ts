import { loadConfig } from '@rewind/config';
import { startApi } from '@rewind/api';
import { configureLogging } from '@rewind/observability';

/** Stand-alone API process (production): DATABASE_URL and REDIS_URL are required here. */
async function main(): Promise<void> {
  const config = loadConfig();
  configureLogging({ level: config.logLevel, format: config.logFormat, service: 'api' });
  if (!config.databaseUrl || !config.redisUrl) {
    throw new Error('apps/api needs DATABASE_URL and REDIS_URL; for the embedded local default run ./rewind up');
  }
  if (config.apiKeys.length === 0 || !config.redactionKeyHex) throw new Error('apps/api needs REWIND_API_KEYS and REWIND_REDACTION_KEY (the replay gateway authenticates with them)');
  await startApi({
    databaseUrl: config.databaseUrl,
    redisUrl: config.redisUrl,
    queuePrefix: config.pipeline.queuePrefix,
    replay: { apiKeys: config.apiKeys, secret: Buffer.from(config.redactionKeyHex, 'hex') },
    port: config.apiPort,
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
