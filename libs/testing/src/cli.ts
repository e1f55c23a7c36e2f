import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { findRepoRoot } from '@rewind/config';
import { testDatabaseUrl, testRedisUrl } from '@rewind/db/test-support';
import { waitFor } from './wait';

export interface RunningCli {
  /** What the command printed so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when stdout contains `text` (or rejects after `timeoutMs`). */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** The exit code. */
  exited: Promise<number | null>;
}

/** Runs `./rewind <args>` as a user would, on the test database and Redis, with extra environment. */
export function spawnRewind(args: string[], env: Record<string, string> = {}): RunningCli {
  const root = findRepoRoot();
  const child = spawn(path.join(root, 'rewind'), args, {
    cwd: root,
    env: { ...process.env, DATABASE_URL: testDatabaseUrl(), REDIS_URL: testRedisUrl(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    // A process start on a loaded 2-core machine (the suite beside a benchmark) takes tens of seconds: a generous bound.
    async waitFor(text, timeoutMs = 120_000) {
      await waitFor(`"${text}" printed`, () => stdout.includes(text), { timeoutMs, intervalMs: 100 }).catch((e: Error) => {
        throw new Error(`${e.message}; stdout:\n${stdout}\nstderr:\n${stderr}`);
      });
    },
    kill: (signal) => child.kill(signal),
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
  };
}
