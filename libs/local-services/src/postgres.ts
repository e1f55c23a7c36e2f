import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { isRoot, pidAlive, run, RunResult, sleep, withLogTail } from './exec';
import { maskUrl } from './mask-url';
import { portOpen } from './net';
import { findPostgresBin } from './packages';

export const POSTGRES_PORT = 54329;
export const POSTGRES_DATABASE = 'rewind';
export const POSTGRES_USER = 'rewind';
/** Where the data goes when the `postgres` system user cannot enter the repository's `.rewind/`. */
export const EXTERNAL_DATA_ROOT = '/var/lib/rewind';

const SERVER_USER = 'postgres';
const READY_TIMEOUT_S = 60;
const CONF_MARKER = '# Rewind (embedded local default)';

type Log = (line: string) => void;

export interface PostgresStatus {
  running: boolean;
  pid: number | null;
  port: number;
  /** The cluster's real directory (the target when `<dataDir>/postgres` is a symlink). */
  dataDir: string;
  logFile: string;
}

/** `<dataDir>/postgres`: the cluster, or a symlink to it. */
export const postgresLink = (dataDir: string): string => path.join(dataDir, 'postgres');

/** `/var/lib/rewind/<first 12 hex of sha256(absolute dataDir)>/postgres`. */
export function externalPgdata(dataDir: string): string {
  const hash = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12);
  return path.join(EXTERNAL_DATA_ROOT, hash, 'postgres');
}

// ---- running things as the postgres system user --------------------------------------------------------

/** Postgres refuses to run as root; as root, its programs run as the `postgres` user Debian's package creates. */
function asServerUser(file: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  const options = { cwd: '/', timeoutMs };
  if (!isRoot()) return run(file, args, options);
  const runuser = fs.existsSync('/usr/sbin/runuser') ? '/usr/sbin/runuser' : 'runuser';
  return run(runuser, ['-u', SERVER_USER, '--', file, ...args], options);
}

async function serverUserIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', SERVER_USER]), run('id', ['-g', SERVER_USER])]);
  if (uid.code !== 0 || gid.code !== 0) {
    throw new Error(
      `Postgres refuses to run as root, and there is no "${SERVER_USER}" system user to run it as. ` +
        `Install Debian's postgresql package (apt-get install -y postgresql creates the user), or create it: useradd --system --home /var/lib/postgresql ${SERVER_USER}.`,
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

async function serverUserCanEnter(dir: string): Promise<boolean> {
  if (!isRoot()) return true;
  return (await asServerUser('test', ['-x', dir])).code === 0;
}

// ---- the data directory ---------------------------------------------------------------------------------

const initialised = (dir: string): boolean => fs.existsSync(path.join(dir, 'PG_VERSION'));

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

/** pg_ctl runs the server through `sh -c` with paths in double quotes: these characters would break that. */
function shellUnsafe(p: string): string | null {
  const m = /["$`\\\n]/.exec(p);
  return m ? JSON.stringify(m[0]) : null;
}

/** An empty directory owned by the server user, ready for initdb, at `<dataDir>/postgres` or behind a symlink there. */
async function preparePgdata(dataDir: string, log: Log): Promise<string> {
  const link = postgresLink(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const ids = isRoot() ? await serverUserIds() : null;
  let pgdata = link;
  const existing = lstatOrNull(link);
  if (existing?.isDirectory()) {
    try {
      fs.readdirSync(link);
    } catch (e) {
      // Not ours to judge (or delete): it may well hold a cluster we just cannot see into.
      throw new Error(`Cannot read ${link} (${(e as NodeJS.ErrnoException).code}): run as root or as the owner of that directory.`, { cause: e });
    }
  }
  if (existing) fs.rmSync(link, { recursive: true, force: true }); // no PG_VERSION: a failed initdb, or a dangling link
  const unsafe = shellUnsafe(link);
  if (unsafe && !isRoot()) {
    throw new Error(`pg_ctl cannot handle a data directory whose path contains ${unsafe}: ${link}. Use another REWIND_DATA_DIR, or set DATABASE_URL.`);
  }
  if (unsafe || !(await serverUserCanEnter(dataDir))) {
    pgdata = externalPgdata(dataDir);
    const why = unsafe ? `pg_ctl cannot handle ${unsafe} in the path ${dataDir}` : `the ${SERVER_USER} system user cannot enter ${dataDir} (a parent directory is private)`;
    log(`${why}, so the Postgres data lives in ${pgdata}, linked from ${link}`);
    if (fs.existsSync(pgdata)) log(`removing ${pgdata}, left over from an earlier cluster whose link was deleted`);
    fs.rmSync(pgdata, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(pgdata), { recursive: true, mode: 0o755 });
    fs.symlinkSync(pgdata, link);
  }
  fs.mkdirSync(pgdata, { mode: 0o700 });
  if (ids) fs.chownSync(pgdata, ids.uid, ids.gid);
  return pgdata;
}

async function initdb(bin: string, pgdata: string, password: string, log: Log): Promise<void> {
  log(`initialising a Postgres cluster in ${pgdata} (superuser ${POSTGRES_USER}, UTF8)`);
  // The password file sits next to the (still empty) data dir, where the server user can read it.
  const pwfile = path.join(path.dirname(pgdata), `.initdb-pw-${randomBytes(6).toString('hex')}`);
  fs.writeFileSync(pwfile, password + '\n', { mode: 0o600 });
  try {
    if (isRoot()) {
      const { uid, gid } = await serverUserIds();
      fs.chownSync(pwfile, uid, gid);
    }
    const r = await asServerUser(path.join(bin, 'initdb'), [
      '-D',
      pgdata,
      '-U',
      POSTGRES_USER,
      `--pwfile=${pwfile}`,
      '--auth-host=scram-sha-256',
      '--auth-local=peer',
      '--encoding=UTF8',
      '--no-locale',
    ]);
    if (r.code !== 0) throw new Error(`initdb of ${pgdata} failed (exit ${r.code}):\n${(r.stderr || r.stdout).trim()}`);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

/** Our settings, appended to postgresql.conf once (also when an earlier run stopped between initdb and this). */
function ensureConfig(pgdata: string, port: number): void {
  const conf = path.join(pgdata, 'postgresql.conf');
  if (fs.readFileSync(conf, 'utf8').includes(CONF_MARKER)) return;
  // Appending keeps the file's owner (the server user).
  fs.appendFileSync(conf, ['', CONF_MARKER, "listen_addresses = '127.0.0.1'", `port = ${port}`, "unix_socket_directories = ''", 'max_connections = 200', "timezone = 'UTC'", ''].join('\n'));
}

// ---- is it running ---------------------------------------------------------------------------------------

/** The postmaster's pid and port from `postmaster.pid`, if that process is alive. */
function readPostmasterPid(pgdata: string): { pid: number; port: number | null } | null {
  try {
    const lines = fs.readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    return pidAlive(pid) ? { pid, port: Number.isInteger(port) && port > 0 ? port : null } : null;
  } catch {
    return null;
  }
}

/** Running = a live postmaster.pid that `pg_ctl status` confirms. */
async function runningPostmaster(pgdata: string): Promise<{ pid: number; port: number | null } | null> {
  const pm = readPostmasterPid(pgdata);
  if (!pm) return null;
  const bin = findPostgresBin();
  if (!bin) return pm;
  return (await asServerUser(path.join(bin, 'pg_ctl'), ['status', '-D', pgdata])).code === 0 ? pm : null;
}

const urlFor = (password: string, port: number, database: string): string => `postgresql://${POSTGRES_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

/** Waits until the server accepts our login, then creates the `rewind` database if it is missing. */
async function ensureDatabase(password: string, port: number, logfile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_S * 1000;
  for (;;) {
    const client = new Client({ connectionString: urlFor(password, port, 'postgres'), connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [POSTGRES_DATABASE]);
      if (rowCount === 0) {
        try {
          await client.query(`CREATE DATABASE ${POSTGRES_DATABASE}`);
        } catch (e) {
          if ((e as { code?: string }).code !== '42P04') throw e; // created meanwhile
        }
      }
      return;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === '28P01' || code === '28000') {
        throw new Error(
          `The local Postgres on 127.0.0.1:${port} rejects the password in credentials.json (${(e as Error).message}). ` +
            `The cluster and credentials.json do not belong together: restore the old credentials.json, or stop the server and delete ` +
            `the cluster to start over (this deletes the local data).`,
          { cause: e },
        );
      }
      if (Date.now() > deadline) {
        throw new Error(withLogTail(`The local Postgres on 127.0.0.1:${port} did not accept connections within ${READY_TIMEOUT_S} s: ${(e as Error).message}.`, logfile), { cause: e });
      }
      await sleep(250);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

// ---- start / stop / status -------------------------------------------------------------------------------

export interface PostgresStarted {
  url: string;
  port: number;
  started: boolean;
  pgdata: string;
}

export async function startPostgres(dataDir: string, password: string, port: number, log: Log): Promise<PostgresStarted> {
  const bin = findPostgresBin();
  if (!bin) throw new Error(`No Postgres server found (looked for /usr/lib/postgresql/<version>/bin/pg_ctl): install Debian's postgresql package.`);
  const link = postgresLink(dataDir);
  let pgdata = initialised(link) ? fs.realpathSync(link) : await preparePgdata(dataDir, log);
  if (!initialised(pgdata)) await initdb(bin, pgdata, password, log);
  pgdata = fs.realpathSync(pgdata);
  ensureConfig(pgdata, port);
  const logfile = path.join(pgdata, 'server.log');

  let started = false;
  let actualPort = port;
  const running = await runningPostmaster(pgdata);
  if (running) {
    if (running.port !== null && running.port !== port) {
      log(`the Postgres of ${dataDir} already runs on port ${running.port} (not ${port}); using it`);
      actualPort = running.port;
    }
  } else {
    if (await portOpen(port)) {
      throw new Error(
        `Cannot start the local Postgres: 127.0.0.1:${port} is already taken by another program (not the server of ${pgdata}). ` +
          `Stop that program (see: ss -ltnp 'sport = :${port}'), or set DATABASE_URL to use another Postgres.`,
      );
    }
    const pgCtl = path.join(bin, 'pg_ctl');
    const r = await asServerUser(pgCtl, ['-D', pgdata, '-l', logfile, '-w', '-t', String(READY_TIMEOUT_S), '-o', `-p ${port}`, 'start'], (READY_TIMEOUT_S + 30) * 1000);
    if (r.code !== 0) {
      const message = withLogTail(`The local Postgres did not start (pg_ctl start exited ${r.code}: ${(r.stderr || r.stdout).trim()}).`, logfile);
      if (readPostmasterPid(pgdata)) await stopCluster(pgdata).catch(() => undefined); // it timed out but may come up later
      throw new Error(message);
    }
    started = true;
  }
  try {
    await ensureDatabase(password, actualPort, logfile);
  } catch (e) {
    if (started) await stopCluster(pgdata).catch(() => undefined);
    throw e;
  }
  const url = urlFor(password, actualPort, POSTGRES_DATABASE);
  log(started ? `started Postgres at ${maskUrl(url)} (data ${pgdata})` : `using the running Postgres at ${maskUrl(url)}`);
  return { url, port: actualPort, started, pgdata };
}

async function stopCluster(pgdata: string): Promise<void> {
  const logfile = path.join(pgdata, 'server.log');
  const bin = findPostgresBin();
  if (bin) {
    const r = await asServerUser(path.join(bin, 'pg_ctl'), ['-D', pgdata, '-m', 'fast', '-w', '-t', String(READY_TIMEOUT_S), 'stop'], (READY_TIMEOUT_S + 30) * 1000);
    if (r.code !== 0) throw new Error(withLogTail(`pg_ctl stop -m fast of ${pgdata} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`, logfile));
    return;
  }
  // The binaries were removed: SIGINT is Postgres's fast shutdown.
  const pm = readPostmasterPid(pgdata);
  if (!pm) return;
  process.kill(pm.pid, 'SIGINT');
  const deadline = Date.now() + READY_TIMEOUT_S * 1000;
  while (pidAlive(pm.pid)) {
    if (Date.now() > deadline) throw new Error(withLogTail(`Postgres (pid ${pm.pid}) did not stop within ${READY_TIMEOUT_S} s.`, logfile));
    await sleep(100);
  }
}

/** Stops the cluster of `dataDir` if it runs (fast shutdown); true if it was running. */
export async function stopPostgres(dataDir: string, log: Log = () => undefined): Promise<boolean> {
  const link = postgresLink(dataDir);
  if (!initialised(link)) return false;
  const pgdata = fs.realpathSync(link);
  const running = await runningPostmaster(pgdata);
  if (!running) return false;
  await stopCluster(pgdata);
  log(`stopped Postgres (pid ${running.pid}, data ${pgdata})`);
  return true;
}

export async function postgresStatus(dataDir: string): Promise<PostgresStatus> {
  const link = postgresLink(dataDir);
  const pgdata = initialised(link) ? fs.realpathSync(link) : link;
  const running = initialised(link) ? await runningPostmaster(pgdata) : null;
  return {
    running: running !== null,
    pid: running?.pid ?? null,
    port: running?.port ?? POSTGRES_PORT,
    dataDir: pgdata,
    logFile: path.join(pgdata, 'server.log'),
  };
}
