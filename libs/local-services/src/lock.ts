import * as fs from 'node:fs';
import * as path from 'node:path';
import { pidAlive, processStartTime, sleep } from './exec';

export const LOCK_TIMEOUT_MS = 60_000;

/** Holders within this process (and this module instance), so concurrent calls queue instead of racing. */
const queues = new Map<string, Promise<void>>();

const ownToken = (): string => `${process.pid} ${processStartTime(process.pid) ?? '-'}`;

interface Holder {
  raw: string;
  pid: number;
  start: string | null;
}

function readHolder(file: string): Holder | null {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch {
    return null; // released meanwhile
  }
  const [pid, start] = raw.trim().split(/\s+/);
  return { raw, pid: Number(pid), start: start && start !== '-' ? start : null };
}

function ageMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** A lock is stale when its process is gone, or the pid now belongs to a process started later. */
function isStale(file: string, holder: Holder): boolean {
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return ageMs(file) > 5_000; // mid-write, or garbage
  if (!pidAlive(holder.pid)) return true;
  const start = processStartTime(holder.pid);
  return holder.start !== null && start !== null && start !== holder.start;
}

/** Removes a stale lock, guarded by a second O_EXCL file so two waiters cannot both break (and one re-take) it. */
function breakStale(file: string, holder: Holder): void {
  const breaker = `${file}.break`;
  try {
    fs.writeFileSync(breaker, ownToken(), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    if (ageMs(breaker) > 10_000) fs.rmSync(breaker, { force: true }); // its writer died mid-break
    return;
  }
  try {
    if (readHolder(file)?.raw === holder.raw) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(breaker, { force: true });
  }
}

async function acquire(file: string, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(file, ownToken(), { flag: 'wx', mode: 0o644 });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(file);
    if (holder && isStale(file, holder)) {
      breakStale(file, holder);
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${file}: another process (pid ${holder?.pid ?? '?'}) is ${what}. ` +
          `Wait for it to finish and retry; if no such process exists, delete the lock file.`,
      );
    }
    await sleep(200);
  }
}

/**
 * Runs `work` holding `<dataDir>/<name>.lock`: a file created with O_EXCL that holds our pid (and process
 * start time). Waits up to `timeoutMs` for another holder; locks of dead processes are broken.
 */
export async function withLock<T>(dataDir: string, name: string, work: () => Promise<T>, options: { timeoutMs?: number; what?: string } = {}): Promise<T> {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(path.resolve(dataDir), `${name}.lock`);
  const previous = queues.get(file) ?? Promise.resolve();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const mine = previous.then(() => gate);
  queues.set(file, mine);
  await previous;
  try {
    await acquire(file, options.timeoutMs ?? LOCK_TIMEOUT_MS, options.what ?? 'using the local services');
    try {
      return await work();
    } finally {
      fs.rmSync(file, { force: true });
    }
  } finally {
    release();
    if (queues.get(file) === mine) queues.delete(file);
  }
}
