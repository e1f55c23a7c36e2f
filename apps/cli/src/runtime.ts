import { loadConfig, RewindConfig } from '@rewind/config';
import { createPgPool, migrate, MIGRATIONS_DIR, redactUrl } from '@rewind/db';
import { ensureLocalServices, LocalServices } from '@rewind/local-services';
import { Pool } from 'pg';

export interface Runtime {
  config: RewindConfig;
  databaseUrl: string;
  redisUrl: string;
  services: LocalServices;
  log: (line: string) => void;
}

export const log = (line: string): void => {
  process.stderr.write(`rewind: ${line}\n`);
};

/**
 * The embedded default: the configured DATABASE_URL/REDIS_URL, or local servers under .rewind/
 * (started here, installed from Debian's packages when missing), with the schema migrated.
 */
export async function startRuntime(needs: { redis: boolean } = { redis: true }): Promise<Runtime> {
  const config = loadConfig();
  const services = await ensureLocalServices({
    dataDir: config.dataDir,
    postgres: !config.databaseUrl,
    redis: needs.redis && !config.redisUrl,
    log,
  });
  const databaseUrl = config.databaseUrl ?? (services.databaseUrl as string);
  const redisUrl = config.redisUrl ?? services.redisUrl ?? '';
  const pool = createPgPool(databaseUrl, { max: 2 });
  try {
    const result = await migrate(pool, MIGRATIONS_DIR, log);
    if (result.applied.length === 0) log(`database schema up to date (${result.alreadyApplied.length} migrations) at ${redactUrl(databaseUrl)}`);
  } finally {
    await pool.end();
  }
  return { config, databaseUrl, redisUrl, services, log };
}

export function openPool(runtime: Runtime, max = 10): Pool {
  return createPgPool(runtime.databaseUrl, { max });
}
