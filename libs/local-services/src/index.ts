import * as path from 'node:path';
import { loadCredentials } from './credentials';
import { withLock } from './lock';
import { scrubSecrets } from './mask-url';
import { ensureServerPackages } from './packages';
import { POSTGRES_PORT, postgresStatus, PostgresStatus, startPostgres, stopPostgres } from './postgres';
import { REDIS_PORT, redisStatus, RedisStatus, startRedis, stopRedis } from './redis';

export { maskUrl } from './mask-url';
export { TcpForwarder } from './tcp-forwarder';
export { ensureChromium, findChromium } from './packages';
export { externalPgdata, POSTGRES_DATABASE, POSTGRES_PORT, POSTGRES_USER } from './postgres';
export type { PostgresStatus } from './postgres';
export { REDIS_PORT } from './redis';
export type { RedisStatus } from './redis';

export interface EnsureLocalServicesOptions {
  /** The repository's `.rewind/` (REWIND_DATA_DIR): Postgres in `<dataDir>/postgres`, Redis in `<dataDir>/redis`. */
  dataDir: string;
  /** Start (or reuse) the local Postgres; default true. */
  postgres?: boolean;
  /** Start (or reuse) the local Redis; default true. */
  redis?: boolean;
  /** Default POSTGRES_PORT (54329). */
  postgresPort?: number;
  /** Default REDIS_PORT (63790). */
  redisPort?: number;
  /** Progress lines; passwords are never in them (URLs are masked). */
  log?: (line: string) => void;
}

export interface LocalServices {
  /** `postgresql://rewind:<pw>@127.0.0.1:<port>/rewind`, when Postgres was asked for. */
  databaseUrl?: string;
  /** `redis://:<pw>@127.0.0.1:<port>`, when Redis was asked for. */
  redisUrl?: string;
  /** Whether this call started Postgres (false: it was running already, or not asked for). */
  startedPostgres: boolean;
  startedRedis: boolean;
  /** Stops what this call started; servers that were already running are left running. Idempotent. */
  stop(): Promise<void>;
}

export interface LocalServicesStatus {
  dataDir: string;
  postgres: PostgresStatus;
  redis: RedisStatus;
}

const LOCK = 'services';
const LOCK_WHAT = 'starting or stopping the local services';

function checkPort(name: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name} must be an integer from 1 to 65535 (got ${port})`);
  return port;
}

/** Rethrows with any password scrubbed from the message. */
function scrubbed(e: unknown, secrets: readonly string[]): Error {
  if (e instanceof Error) {
    e.message = scrubSecrets(e.message, secrets);
    if (e.stack) e.stack = scrubSecrets(e.stack, secrets);
    return e;
  }
  return new Error(scrubSecrets(String(e), secrets));
}

/**
 * The embedded default: local Postgres and Redis servers with their data under `dataDir`, listening on
 * 127.0.0.1 only (ports 54329 and 63790 unless overridden), installed from Debian's packages when missing
 * and we are root. Servers already running on that data dir are reused. Safe to call from several
 * processes at once (`<dataDir>/services.lock`).
 */
export async function ensureLocalServices(opts: EnsureLocalServicesOptions): Promise<LocalServices> {
  const dataDir = path.resolve(opts.dataDir);
  const wantPostgres = opts.postgres ?? true;
  const wantRedis = opts.redis ?? true;
  const postgresPort = checkPort('postgresPort', opts.postgresPort ?? POSTGRES_PORT);
  const redisPort = checkPort('redisPort', opts.redisPort ?? REDIS_PORT);
  if (wantPostgres && wantRedis && postgresPort === redisPort) throw new Error(`postgresPort and redisPort must differ (both ${postgresPort})`);
  const secrets: string[] = [];
  const log = (line: string): void => opts.log?.(scrubSecrets(line, secrets));

  let stopped = false;
  const services: LocalServices = {
    startedPostgres: false,
    startedRedis: false,
    async stop() {
      if (stopped || (!services.startedPostgres && !services.startedRedis)) return;
      await withLock(
        dataDir,
        LOCK,
        async () => {
          const errors: string[] = [];
          if (services.startedRedis) await stopRedis(dataDir, log).catch((e: unknown) => errors.push(scrubbed(e, secrets).message));
          if (services.startedPostgres) await stopPostgres(dataDir, log).catch((e: unknown) => errors.push(scrubbed(e, secrets).message));
          if (errors.length > 0) throw new Error(`Stopping the local services failed:\n${errors.join('\n')}`);
        },
        { what: LOCK_WHAT },
      );
      stopped = true;
    },
  };
  if (!wantPostgres && !wantRedis) return services;

  try {
    await ensureServerPackages(dataDir, { postgres: wantPostgres, redis: wantRedis }, log);
    await withLock(
      dataDir,
      LOCK,
      async () => {
        const creds = loadCredentials(dataDir);
        secrets.push(creds.postgresPassword, creds.redisPassword);
        try {
          if (wantPostgres) {
            const pg = await startPostgres(dataDir, creds.postgresPassword, postgresPort, log);
            services.databaseUrl = pg.url;
            services.startedPostgres = pg.started;
          }
          if (wantRedis) {
            const redis = await startRedis(dataDir, creds.redisPassword, redisPort, log);
            services.redisUrl = redis.url;
            services.startedRedis = redis.started;
          }
        } catch (e) {
          // Leave nothing running that no one can stop.
          if (services.startedPostgres) await stopPostgres(dataDir, log).catch(() => undefined);
          services.startedPostgres = false;
          throw e;
        }
      },
      { what: LOCK_WHAT },
    );
  } catch (e) {
    throw scrubbed(e, secrets);
  }
  return services;
}

/** Stops the local Postgres (`pg_ctl stop -m fast`) and Redis of `dataDir` if they run, whoever started them. */
export async function stopLocalServices(dataDir: string, log: (line: string) => void = () => undefined): Promise<{ postgres: boolean; redis: boolean }> {
  const dir = path.resolve(dataDir);
  return withLock(
    dir,
    LOCK,
    async () => {
      const errors: string[] = [];
      const redis = await stopRedis(dir, log).catch((e: unknown) => (errors.push((e as Error).message), false));
      const postgres = await stopPostgres(dir, log).catch((e: unknown) => (errors.push((e as Error).message), false));
      if (errors.length > 0) throw new Error(`Stopping the local services failed:\n${errors.join('\n')}`);
      return { postgres, redis };
    },
    { what: LOCK_WHAT },
  );
}

/** What runs for `dataDir`: pids, ports, data and log locations. Reads files only; takes no lock. */
export async function localServicesStatus(dataDir: string): Promise<LocalServicesStatus> {
  const dir = path.resolve(dataDir);
  return { dataDir: dir, postgres: await postgresStatus(dir), redis: redisStatus(dir) };
}
