import { Pool, PoolConfig } from 'pg';

/** A `pg` pool with Rewind's connection defaults (UTC sessions, an application name for pg_stat_activity). */
export function createPgPool(connectionString: string, overrides: PoolConfig = {}): Pool {
  const pool = new Pool({
    connectionString,
    max: 10,
    application_name: 'rewind',
    options: '-c TimeZone=UTC',
    connectionTimeoutMillis: 10_000,
    ...overrides,
  });
  // An idle client that loses its server (restart, network) must not crash the process: the next
  // query gets a fresh connection and its own error.
  pool.on('error', () => undefined);
  return pool;
}

/** The database name of a connection string. */
export function databaseName(connectionString: string): string {
  return decodeURIComponent(new URL(connectionString).pathname.replace(/^\//, '')) || 'postgres';
}

/** The same server with another database. */
export function withDatabase(connectionString: string, database: string): string {
  const u = new URL(connectionString);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** A connection string with its password replaced, for logs and messages. */
export function redactUrl(connectionString: string): string {
  try {
    const u = new URL(connectionString);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
