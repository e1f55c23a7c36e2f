import * as fs from 'node:fs';
import * as path from 'node:path';
import { isRoot, runVisible } from './exec';
import { withLock } from './lock';

const POSTGRES_LIB = '/usr/lib/postgresql';

/** The bin directory of the newest Postgres server installed the Debian way (/usr/lib/postgresql/<v>/bin), or null. */
export function findPostgresBin(): string | null {
  if (!fs.existsSync(POSTGRES_LIB)) return null;
  const versions = fs
    .readdirSync(POSTGRES_LIB)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .filter((v) => ['initdb', 'pg_ctl', 'postgres'].every((b) => fs.existsSync(path.join(POSTGRES_LIB, v, 'bin', b))))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(POSTGRES_LIB, versions[0], 'bin') : null;
}

export function findRedisServer(): string | null {
  for (const candidate of ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server']) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

function missingPackages(postgres: boolean, redis: boolean): string[] {
  const missing: string[] = [];
  if (postgres && !findPostgresBin()) missing.push('postgresql');
  if (redis && !findRedisServer()) missing.push('redis-server');
  return missing;
}

let aptUpdated = false;
const APT_TIMEOUT_MS = 15 * 60_000;

/**
 * Makes sure the server binaries exist: as root, installs the missing Debian packages (apt-get update
 * once, then apt-get install -y); otherwise explains what to install. Serialised by `<dataDir>/install.lock`.
 */
export async function ensureServerPackages(dataDir: string, want: { postgres: boolean; redis: boolean }, log: (line: string) => void): Promise<void> {
  const missing = missingPackages(want.postgres, want.redis);
  if (missing.length === 0) return;
  const list = missing.join(' ');
  const alternative = 'or run `docker compose up -d` (see docker-compose.yml) and set DATABASE_URL and REDIS_URL (see .env.example)';
  if (!isRoot()) {
    throw new Error(
      `Rewind's local services need the Debian package(s) ${list}, which are not installed, and this process is not root ` +
        `so it cannot install them. Install them (sudo apt-get install -y ${list}), ${alternative}.`,
    );
  }
  if (!fs.existsSync('/usr/bin/apt-get')) {
    throw new Error(`Rewind's local services need ${list}, which are not installed, and there is no apt-get here. Install them, ${alternative}.`);
  }
  await aptInstall(dataDir, () => missingPackages(want.postgres, want.redis), alternative, 'the local servers', log);
}

/**
 * apt-get update (once per process) and apt-get install -y of what `missing()` lists, serialised by
 * `<dataDir>/install.lock` (another process may have installed them meanwhile); throws with `alternative`
 * when it fails or the packages still cannot be found.
 */
async function aptInstall(dataDir: string, missing: () => string[], alternative: string, what: string, log: (line: string) => void): Promise<void> {
  await withLock(
    dataDir,
    'install',
    async () => {
      const stillMissing = missing();
      if (stillMissing.length === 0) return;
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      if (!aptUpdated) {
        log(`running apt-get update (once) to install ${what}`);
        const code = await runVisible('apt-get', ['update'], env);
        if (code !== 0) log(`apt-get update failed (exit ${code}); trying the install anyway`);
        aptUpdated = true;
      }
      log(`installing ${stillMissing.join(', ')}: apt-get install -y ${stillMissing.join(' ')}`);
      const code = await runVisible('apt-get', ['install', '-y', ...stillMissing], env);
      if (code !== 0) {
        throw new Error(`apt-get install -y ${stillMissing.join(' ')} failed (exit ${code}; its output is above). Install them by hand, ${alternative}.`);
      }
      const after = missing();
      if (after.length > 0) throw new Error(`apt-get installed ${stillMissing.join(' ')}, but ${after.join(' and ')} still cannot be found.`);
      log(`installed ${stillMissing.join(', ')}`);
    },
    { timeoutMs: APT_TIMEOUT_MS, what: `installing ${what} with apt-get` },
  );
}

/** Debian's Chromium (the viewer's browser test drives it with playwright-core; no browser download), or null. */
export function findChromium(): string | null {
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

/** The path of Chromium, installed with apt-get (as root) when missing. */
export async function ensureChromium(dataDir: string, log: (line: string) => void): Promise<string> {
  const found = findChromium();
  if (found) return found;
  const alternative = 'e.g. sudo apt-get install -y chromium';
  if (!isRoot() || !fs.existsSync('/usr/bin/apt-get'))
    throw new Error(`the viewer's browser test needs Debian's chromium, which is not installed, and it cannot be installed from here: ${alternative}`);
  await aptInstall(dataDir, () => (findChromium() ? [] : ['chromium']), alternative, 'Chromium', log);
  return findChromium() as string;
}
