import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Credentials {
  postgresPassword: string;
  redisPassword: string;
}

export const credentialsFile = (dataDir: string): string => path.join(dataDir, 'credentials.json');

const newPassword = (): string => randomBytes(24).toString('base64url');

/**
 * The local servers' passwords: generated once per data dir with crypto-strength randomness and kept in
 * `<dataDir>/credentials.json` (mode 0600), reused on every later run. Callers hold the data dir's lock.
 */
export function loadCredentials(dataDir: string): Credentials {
  const file = credentialsFile(dataDir);
  let stored: Partial<Credentials> = {};
  if (fs.existsSync(file)) {
    try {
      stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Credentials>;
    } catch (e) {
      throw new Error(
        `${file} is not valid JSON (${(e as Error).message}). Fix it, or delete it together with ` +
          `${path.join(dataDir, 'postgres')} and ${path.join(dataDir, 'redis')} to start over (this deletes the local data).`,
        { cause: e },
      );
    }
  }
  const creds: Credentials = {
    postgresPassword: typeof stored.postgresPassword === 'string' && stored.postgresPassword ? stored.postgresPassword : newPassword(),
    redisPassword: typeof stored.redisPassword === 'string' && stored.redisPassword ? stored.redisPassword : newPassword(),
  };
  if (creds.postgresPassword !== stored.postgresPassword || creds.redisPassword !== stored.redisPassword) {
    fs.mkdirSync(dataDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  fs.chmodSync(file, 0o600);
  return creds;
}
