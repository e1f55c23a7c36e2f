import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '@rewind/event-store';
import { Ingest } from '@rewind/ingest';
import { captureStopped } from '@rewind/recorder';
import type { CaptureTaskLogger } from '@rewind/capture-facts';

const OWNER_FILE = 'owner.json';

interface Owner {
  host: string;
  pid: number;
  startedAt: string;
  /** The recorder's writer token (`metadata.writer` of the streams it opened). */
  writer?: string;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(dir: string): Owner | null {
  try {
    const o = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as Owner;
    return typeof o.host === 'string' && Number.isInteger(o.pid) ? o : null;
  } catch {
    return null;
  }
}

/**
 * Claims `dir` as this process's journal directory: refuses (clearly) when a live process on this host owns
 * it — two recorders with the same instance name would interleave one journal.
 */
export function claimJournalDir(dir: string, writer?: string): { previousWriter: string | null } {
  const owner = readOwner(dir);
  if (owner && owner.host === hostname() && owner.pid !== process.pid && isProcessAlive(owner.pid)) {
    throw new Error(`the journal ${dir} belongs to the running process ${owner.pid}: give this recorder another --instance name`);
  }
  const me: Owner = { host: hostname(), pid: process.pid, startedAt: new Date().toISOString(), ...(writer ? { writer } : {}) };
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify(me));
  return { previousWriter: owner && owner.pid !== process.pid && owner.writer && owner.writer !== writer ? owner.writer : null };
}

/**
 * Ends and seals the streams a dead recorder process left open (its proxy's runs and accounts, found by the
 * `metadata.writer` token it stamped on them): each gets a `capture-stopped` marker (`recorder-died`: the
 * capture ended there, not necessarily the run), is marked ended without an outcome, and sealed; one already
 * ended is only sealed. Call once that process's journal is drained (its events are in). A capture task's
 * stream still open is left to whoever takes the task over. Returns how many streams were sealed.
 */
export async function sealStreamsOfDeadWriter(o: { store: EventStore; ingest: Ingest; writer: string; log: CaptureTaskLogger }): Promise<number> {
  // A capture task's stream still open may be continued by whoever took the task over: not ours to close.
  // Once ended (its run is over), only its seal is missing (the dead process's grace timer never fired).
  // A stream re-homed from a task's stream (see Ingest) belongs to this writer alone: closed like a proxy's.
  const open = (await o.store.openSessionsOfWriter(o.writer)).filter((s) => {
    const m = s.metadata as Record<string, unknown>;
    return s.status === 'ended' || m['task'] === undefined || m['rehomedFrom'] !== undefined;
  });
  for (const s of open) {
    await o.ingest.resumeSession({ id: s.id, platform: s.platform, startedAt: s.startedAt });
    if (s.status === 'ended') {
      o.ingest.sealSession(s.id);
      continue;
    }
    o.ingest.record(s.id, captureStopped({ reason: 'recorder-died', writer: o.writer }));
    o.ingest.endSession(s.id, new Date());
    o.ingest.sealSession(s.id);
  }
  if (open.length > 0) {
    await o.ingest.waitUntilStored(60_000);
    o.log.info(`sealed ${open.length} streams left open by the dead recorder ${o.writer}`);
  }
  return open.length;
}

/**
 * Drains the journals that recorder processes of this host left behind when they died (SIGKILL, crash,
 * power loss during a Postgres outage): each is renamed atomically to `<dir>.adopted-<pid>` (so only one
 * live process adopts it), replayed into the store in order through an Ingest of its own, and removed once
 * empty. Events the store refuses (a take-over wrote the same seq meanwhile) stay in its `rejected/` folder,
 * which is kept and named in the log. Runs in the background; resolves when every adopted journal is done.
 */
export async function adoptOrphanJournals(o: {
  root: string;
  ownDir: string;
  store: EventStore;
  log: CaptureTaskLogger;
  isAlive?: (pid: number) => boolean;
  timeoutMs?: number;
}): Promise<{ adopted: string[]; kept: string[] }> {
  const alive = o.isAlive ?? isProcessAlive;
  const adopted: string[] = [];
  const kept: string[] = [];
  if (!existsSync(o.root)) return { adopted, kept };
  for (const name of readdirSync(o.root)) {
    const dir = join(o.root, name);
    if (dir === o.ownDir) continue;
    const owner = readOwner(dir);
    if (!owner || owner.host !== hostname() || alive(owner.pid)) continue;
    const claimed = `${join(o.root, name.replace(/\.adopted-\d+$/, ''))}.adopted-${process.pid}`;
    try {
      renameSync(dir, claimed);
    } catch {
      continue; // another process adopted it first
    }
    writeFileSync(join(claimed, OWNER_FILE), JSON.stringify({ host: hostname(), pid: process.pid, startedAt: new Date().toISOString() }));
    // writeAhead: the dead process's write-ahead log is recovered first (what it held in memory when it died).
    const ingest = await Ingest.open({ store: o.store, journalDir: claimed, log: o.log, writeAhead: true, ...(owner.writer ? { writerToken: owner.writer } : {}) });
    const journaled = ingest.stats().journaled;
    try {
      await ingest.waitUntilStored(o.timeoutMs ?? 10 * 60_000);
    } catch (e) {
      o.log.warn(`the journal left by process ${owner.pid} is not drained yet (${(e as Error).message}); it stays in ${claimed} for the next start`);
      await ingest.close();
      kept.push(claimed);
      continue;
    }
    if (owner.writer) {
      await sealStreamsOfDeadWriter({ store: o.store, ingest, writer: owner.writer, log: o.log }).catch((e: unknown) =>
        o.log.warn(`could not seal the streams left open by process ${owner.pid}: ${(e as Error).message}`),
      );
    }
    const stats = ingest.stats();
    await ingest.close();
    const rejected = join(claimed, 'rejected');
    if (stats.rejected > 0 || (existsSync(rejected) && readdirSync(rejected).length > 0)) {
      o.log.error(`the journal left by process ${owner.pid}: ${stats.rejected} events refused by the store are kept in ${rejected}`);
      kept.push(claimed);
    } else {
      rmSync(claimed, { recursive: true, force: true });
      adopted.push(claimed);
    }
    o.log.info(`drained the journal left by process ${owner.pid} (${journaled} events, ${stats.appended} appended, ${stats.duplicates} already stored)`);
  }
  return { adopted, kept };
}
