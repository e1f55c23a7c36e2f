import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { loadCredentials } from './credentials';
import { ensureLocalServices, externalPgdata, localServicesStatus, stopLocalServices } from './index';

jest.setTimeout(120000);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A port nothing listens on now (not the defaults, so a developer's running instance is never touched). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => (socket.destroy(), resolve(false)));
  });
}

async function pgQuery<T>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

async function withRedis<T>(url: string, work: (r: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // failures surface through the commands
  try {
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

/** Removes a temporary data dir and, when the symlink fallback was used, its /var/lib/rewind/<hash> dir. */
async function removeDataDir(dataDir: string): Promise<void> {
  await stopLocalServices(dataDir).catch(() => undefined);
  const external = path.dirname(externalPgdata(dataDir));
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (fs.existsSync(external)) fs.rmSync(external, { recursive: true, force: true });
}

describe('ensureLocalServices (real postgres and redis-server)', () => {
  let dataDir: string;
  let postgresPort: number;
  let redisPort: number;
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-local-services-')); // mode 0700: exercises the symlink fallback
    postgresPort = await freePort();
    redisPort = await freePort();
  });

  afterAll(async () => {
    if (process.env.REWIND_TEST_VERBOSE) process.stderr.write(lines.map((l) => `  ${l}\n`).join(''));
    await removeDataDir(dataDir);
  });

  it('starts both, reuses them, stops only what it started, and keeps the data across restarts', async () => {
    const first = await ensureLocalServices({ dataDir, postgresPort, redisPort, log });
    expect(first).toMatchObject({ startedPostgres: true, startedRedis: true });
    expect(first.databaseUrl).toMatch(new RegExp(`^postgresql://rewind:[^@]+@127\\.0\\.0\\.1:${postgresPort}/rewind$`));
    expect(first.redisUrl).toMatch(new RegExp(`^redis://:[^@]+@127\\.0\\.0\\.1:${redisPort}$`));
    const databaseUrl = first.databaseUrl as string;
    const redisUrl = first.redisUrl as string;

    expect(await pgQuery<{ one: number }>(databaseUrl, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(await pgQuery<{ e: string }>(databaseUrl, 'SELECT pg_encoding_to_char(encoding) AS e FROM pg_database WHERE datname = current_database()')).toEqual([{ e: 'UTF8' }]);
    expect(await pgQuery<{ max_connections: string }>(databaseUrl, 'SHOW max_connections')).toEqual([{ max_connections: '200' }]);
    expect(await pgQuery<{ listen_addresses: string }>(databaseUrl, 'SHOW listen_addresses')).toEqual([{ listen_addresses: '127.0.0.1' }]);
    await pgQuery(databaseUrl, 'CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)');

    await withRedis(redisUrl, async (redis) => {
      expect(await redis.ping()).toBe('PONG');
      expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await redis.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      await redis.set('kept', 'yes');
    });
    // Without the password Redis refuses.
    await withRedis(`redis://127.0.0.1:${redisPort}`, async (redis) => expect(redis.ping()).rejects.toThrow(/NOAUTH/));

    const status = await localServicesStatus(dataDir);
    expect(status.postgres).toMatchObject({ running: true, port: postgresPort });
    expect(status.redis).toMatchObject({ running: true, port: redisPort });
    expect(status.postgres.pid).toEqual(expect.any(Number));
    expect(status.redis.pid).toEqual(expect.any(Number));

    const second = await ensureLocalServices({ dataDir, postgresPort, redisPort, log });
    expect(second).toMatchObject({ startedPostgres: false, startedRedis: false, databaseUrl, redisUrl });
    await second.stop(); // started nothing, so stops nothing
    expect(await portOpen(postgresPort)).toBe(true);
    expect(await portOpen(redisPort)).toBe(true);

    await first.stop();
    expect(await portOpen(postgresPort)).toBe(false);
    expect(await portOpen(redisPort)).toBe(false);
    expect((await localServicesStatus(dataDir)).postgres.running).toBe(false);
    expect((await localServicesStatus(dataDir)).redis.running).toBe(false);
    await first.stop(); // idempotent

    const third = await ensureLocalServices({ dataDir, postgresPort, redisPort, log });
    expect(third).toMatchObject({ startedPostgres: true, startedRedis: true, databaseUrl, redisUrl });
    expect(await pgQuery<{ v: number }>(databaseUrl, 'SELECT v FROM kept')).toEqual([{ v: 42 }]);
    expect(await withRedis(redisUrl, (redis) => redis.get('kept'))).toBe('yes');
    await third.stop();
    expect(await portOpen(postgresPort)).toBe(false);
    expect(await portOpen(redisPort)).toBe(false);
  });

  it('keeps the secrets private: 0600 files, masked logs', () => {
    const creds = loadCredentials(dataDir);
    expect(fs.statSync(path.join(dataDir, 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dataDir, 'redis', 'redis.conf')).mode & 0o777).toBe(0o600);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).not.toContain(creds.postgresPassword);
      expect(line).not.toContain(creds.redisPassword);
    }
    expect(lines.some((l) => l.includes(`rewind:***@127.0.0.1:${postgresPort}`))).toBe(true);
    expect(lines.some((l) => l.includes(`redis://:***@127.0.0.1:${redisPort}`))).toBe(true);
  });

  (isRoot ? it : it.skip)('puts the Postgres data in /var/lib/rewind when the postgres user cannot enter the data dir', () => {
    const link = path.join(dataDir, 'postgres');
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(link)).toBe(externalPgdata(dataDir));
    expect(externalPgdata(dataDir)).toMatch(/^\/var\/lib\/rewind\/[0-9a-f]{12}\/postgres$/);
    expect(fs.existsSync(path.join(link, 'PG_VERSION'))).toBe(true);
    expect(lines.filter((l) => l.includes('cannot enter'))).toHaveLength(1);
  });

  it('refuses a port another program holds, naming it', async () => {
    const squatter = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => squatter.listen(redisPort, '127.0.0.1', r));
    try {
      await expect(ensureLocalServices({ dataDir, postgres: false, redisPort, log })).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${redisPort} is already taken by another program.*REDIS_URL`));
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });
});

describe('ensureLocalServices from two processes at once', () => {
  const register = path.resolve(__dirname, '../../../scripts/register.js');
  const entry = path.resolve(__dirname, 'index.ts');
  let dataDir: string;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-local-services-race-'));
  });
  afterAll(async () => {
    await removeDataDir(dataDir);
  });

  function ensureInChild(postgresPort: number, redisPort: number): Promise<{ startedPostgres: boolean; startedRedis: boolean; databaseUrl: string }> {
    const script = `require(${JSON.stringify(entry)})
      .ensureLocalServices({ dataDir: ${JSON.stringify(dataDir)}, postgresPort: ${postgresPort}, redisPort: ${redisPort} })
      .then((s) => process.stdout.write(JSON.stringify(s)), (e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });`;
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-r', register, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited ${code}: ${err}`))));
    });
  }

  it('initialises and starts once; the other process reuses', async () => {
    const postgresPort = await freePort();
    const redisPort = await freePort();
    const results = await Promise.all([ensureInChild(postgresPort, redisPort), ensureInChild(postgresPort, redisPort)]);
    expect(results.filter((r) => r.startedPostgres)).toHaveLength(1);
    expect(results.filter((r) => r.startedRedis)).toHaveLength(1);
    expect(results[0].databaseUrl).toBe(results[1].databaseUrl);
    expect(await pgQuery<{ one: number }>(results[0].databaseUrl, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(await stopLocalServices(dataDir)).toEqual({ postgres: true, redis: true });
    expect(await portOpen(postgresPort)).toBe(false);
    expect(await portOpen(redisPort)).toBe(false);
    expect(fs.readdirSync(dataDir).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });
});
