import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { pidAlive, processCommandLine, run, sleep, withLogTail } from './exec';
import { maskUrl } from './mask-url';
import { portOpen } from './net';
import { findRedisServer } from './packages';

export const REDIS_PORT = 63790;

const READY_TIMEOUT_S = 60;
type Log = (line: string) => void;

export interface RedisStatus {
  running: boolean;
  pid: number | null;
  port: number;
  dataDir: string;
  logFile: string;
}

const files = (dataDir: string) => {
  const dir = path.join(dataDir, 'redis');
  return { dir, conf: path.join(dir, 'redis.conf'), pidfile: path.join(dir, 'redis.pid'), logfile: path.join(dir, 'redis.log') };
};

/** A value for redis.conf: double-quoted, so paths with spaces work. */
function quote(value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`cannot put a value with a line break into redis.conf: ${JSON.stringify(value)}`);
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The live redis-server whose pid is in the pidfile (a recycled pid belonging to another program does not count). */
function runningPid(pidfile: string): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidfile, 'utf8').trim());
  } catch {
    return null;
  }
  if (!pidAlive(pid)) return null;
  const cmd = processCommandLine(pid);
  return cmd === null || cmd.includes('redis') ? pid : null;
}

/** The port in an existing redis.conf (that of the running server: the file is only rewritten when none runs). */
function configuredPort(conf: string): number | null {
  try {
    const m = /^port\s+(\d+)\s*$/m.exec(fs.readFileSync(conf, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const urlFor = (password: string, port: number): string => `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}`;

async function ping(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000, enableOfflineQueue: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== 'PONG') throw new Error(`unexpected answer to PING: ${pong}`);
  } finally {
    client.disconnect();
  }
}

async function waitForPong(url: string, port: number, logfile: string, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_S * 1000;
  const since = Date.now();
  for (;;) {
    try {
      await ping(url);
      return;
    } catch (e) {
      const message = (e as Error).message;
      if (/WRONGPASS|NOAUTH|invalid password/i.test(message)) {
        throw new Error(
          `The local Redis on 127.0.0.1:${port} rejects the password in credentials.json (${message}). ` +
            `Stop that redis-server and run again (the configuration is rewritten with the stored password).`,
          { cause: e },
        );
      }
      if (!alive() && Date.now() - since > 3000) {
        throw new Error(withLogTail(`redis-server exited before answering PING on 127.0.0.1:${port} (${message}).`, logfile), { cause: e });
      }
      if (Date.now() > deadline) {
        throw new Error(withLogTail(`The local Redis on 127.0.0.1:${port} did not answer PING within ${READY_TIMEOUT_S} s (${message}).`, logfile), { cause: e });
      }
      await sleep(100);
    }
  }
}

function writeConfig(dataDir: string, password: string, port: number): void {
  const f = files(dataDir);
  const lines = [
    '# Written by @rewind/local-services on every start; edits are lost.',
    `port ${port}`,
    'bind 127.0.0.1',
    'protected-mode yes',
    `requirepass ${quote(password)}`,
    `dir ${quote(f.dir)}`,
    'appendonly yes',
    'appendfsync everysec',
    '# BullMQ must never lose keys to eviction.',
    'maxmemory-policy noeviction',
    'daemonize yes',
    `pidfile ${quote(f.pidfile)}`,
    `logfile ${quote(f.logfile)}`,
    '',
  ];
  const tmp = `${f.conf}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, lines.join('\n'), { mode: 0o600 });
  fs.renameSync(tmp, f.conf);
  fs.chmodSync(f.conf, 0o600);
}

export interface RedisStarted {
  url: string;
  port: number;
  started: boolean;
}

export async function startRedis(dataDir: string, password: string, port: number, log: Log): Promise<RedisStarted> {
  const server = findRedisServer();
  if (!server) throw new Error("No redis-server found (looked in /usr/bin, /usr/local/bin, /usr/sbin): install Debian's redis-server package.");
  const f = files(dataDir);
  fs.mkdirSync(f.dir, { recursive: true, mode: 0o700 });

  const pid = runningPid(f.pidfile);
  if (pid !== null) {
    const actualPort = configuredPort(f.conf) ?? port;
    if (actualPort !== port) log(`the Redis of ${dataDir} already runs on port ${actualPort} (not ${port}); using it`);
    const url = urlFor(password, actualPort);
    await waitForPong(url, actualPort, f.logfile, () => pidAlive(pid));
    log(`using the running Redis at ${maskUrl(url)}`);
    return { url, port: actualPort, started: false };
  }

  if (await portOpen(port)) {
    throw new Error(
      `Cannot start the local Redis: 127.0.0.1:${port} is already taken by another program (not the redis-server of ${f.dir}). ` +
        `Stop that program (see: ss -ltnp 'sport = :${port}'), or set REDIS_URL to use another Redis.`,
    );
  }
  writeConfig(dataDir, password, port);
  fs.rmSync(f.pidfile, { force: true });
  const r = await run(server, [f.conf], { cwd: f.dir, timeoutMs: READY_TIMEOUT_S * 1000 });
  if (r.code !== 0) throw new Error(withLogTail(`redis-server ${f.conf} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`, f.logfile));
  const url = urlFor(password, port);
  try {
    await waitForPong(url, port, f.logfile, () => runningPid(f.pidfile) !== null);
  } catch (e) {
    await stopRedis(dataDir).catch(() => undefined);
    throw e;
  }
  log(`started Redis at ${maskUrl(url)} (data ${f.dir})`);
  return { url, port, started: true };
}

/** Stops the redis-server of `dataDir` (SIGTERM, which Redis treats like SHUTDOWN: flushes the AOF and exits); true if it ran. */
export async function stopRedis(dataDir: string, log: Log = () => undefined): Promise<boolean> {
  const f = files(dataDir);
  const pid = runningPid(f.pidfile);
  if (pid === null) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch (e) {
    throw new Error(`Cannot stop redis-server (pid ${pid} from ${f.pidfile}): ${(e as Error).message}`, { cause: e });
  }
  const deadline = Date.now() + READY_TIMEOUT_S * 1000;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) throw new Error(withLogTail(`redis-server (pid ${pid}) did not stop within ${READY_TIMEOUT_S} s.`, f.logfile));
    await sleep(50);
  }
  log(`stopped Redis (pid ${pid}, data ${f.dir})`);
  return true;
}

export function redisStatus(dataDir: string): RedisStatus {
  const f = files(dataDir);
  const pid = runningPid(f.pidfile);
  return { running: pid !== null, pid, port: (pid !== null ? configuredPort(f.conf) : null) ?? REDIS_PORT, dataDir: f.dir, logFile: f.logfile };
}
