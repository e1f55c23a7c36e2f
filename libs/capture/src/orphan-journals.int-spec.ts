import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { createPgPool } from '@rewind/db';
import { EventStore, verifySession } from '@rewind/event-store';
import { createTestPool } from '@rewind/testing';
import { Ingest } from '@rewind/ingest';
import { adoptOrphanJournals, claimJournalDir } from './orphan-journals';

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('journals left by dead recorders', () => {
  let pool: Pool;
  let store: EventStore;
  let root: string;
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(`ERROR ${m}`) };

  beforeAll(() => {
    pool = createTestPool(2);
    store = new EventStore(pool);
  });
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'rewind-orphans-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  afterAll(() => pool.end());

  /** What a recorder killed during a Postgres outage leaves: a journal with a session and its events. */
  async function leaveJournal(name: string, owner: { host: string; pid: number; writer?: string }): Promise<{ sessionId: string; events: number }> {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    const unreachable = createPgPool('postgresql://nobody:x@127.0.0.1:1/none', { max: 1 });
    const ingest = await Ingest.open({ store: new EventStore(unreachable), journalDir: dir, retryDelayMs: 60_000, log });
    const sessionId = randomUUID();
    ingest.openSession({ id: sessionId, platform: 'moltstation', startedAt: new Date(), ...(owner.writer ? { metadata: { stream: 'run', writer: owner.writer } } : {}) });
    for (let i = 0; i < 25; i++) {
      ingest.record(sessionId, { kind: 'frame', direction: 'platform_to_client', channel: 'play_ws', format: 'json', body: `{"t":"frame","frame":{"tick":${i}}}`, tick: i });
    }
    await ingest.close();
    await unreachable.end();
    writeFileSync(join(dir, 'owner.json'), JSON.stringify({ ...owner, startedAt: new Date().toISOString() }));
    return { sessionId, events: 25 };
  }

  it('given the journal of a process that died on this host, when a recorder starts, then every event reaches the store in order and the journal is removed', async () => {
    const left = await leaveJournal('host-dead', { host: hostname(), pid: deadPid() });
    const own = join(root, 'me');
    mkdirSync(own);
    const result = await adoptOrphanJournals({ root, ownDir: own, store, log });
    expect(result.adopted).toHaveLength(1);
    expect(readdirSync(root)).toEqual(['me']);
    const events = [];
    for await (const e of store.readSession(left.sessionId)) events.push(e);
    expect(events.map((e) => e.tick)).toEqual(Array.from({ length: left.events }, (_, i) => i));
    expect((await verifySession(store, left.sessionId))?.ok).toBe(true);
  });

  it('given a dead recorder that left streams open (stored and journaled), when its journal is adopted, then they end with a recorder-died marker and are sealed; open task streams and other writers are left alone', async () => {
    const dead = `A/${deadPid()}/dead0001`;
    const open = async (metadata: Record<string, unknown>): Promise<string> => {
      const id = randomUUID();
      await store.openSession({ id, platform: 'moltstation', startedAt: new Date(), metadata });
      await store.append([
        { sessionId: id, seq: 1, kind: 'frame', direction: 'platform_to_client', channel: 'play_ws', recordedAtUs: Date.now() * 1000, offsetUs: 0, format: 'json', body: '{"t":"frame"}', tick: 1 },
      ]);
      return id;
    };
    const run = await open({ stream: 'run', capturedBy: 'proxy', writer: dead });
    const task = await open({ stream: 'run', capturedBy: 'spectator', task: 'moltstation-spectate', writer: dead });
    const endedTask = await open({ stream: 'run', capturedBy: 'spectator', task: 'moltstation-spectate', writer: dead });
    const rehomed = await open({ stream: 'run', capturedBy: 'spectator', task: 'moltstation-spectate', writer: dead, rehomedFrom: task });
    await store.endSession(endedTask, new Date(), { reason: 'game_over' });
    const other = await open({ stream: 'run', capturedBy: 'proxy', writer: 'B/1/alive001' });
    // It died during an outage: one of its streams exists only in its journal.
    const left = await leaveJournal('host-dead-writer', { host: hostname(), pid: Number(dead.split('/')[1]), writer: dead });
    const result = await adoptOrphanJournals({ root, ownDir: join(root, 'me'), store, log });
    expect(result.adopted).toHaveLength(1);
    const journaled = await store.getSession(left.sessionId);
    expect(journaled).toMatchObject({ status: 'sealed', headSeq: left.events + 1 }); // drained first, then sealed
    const sealed = await store.getSession(run);
    expect(sealed).toMatchObject({ status: 'sealed', headSeq: 2, outcome: null });
    const last = [];
    for await (const e of store.readSession(run, { fromSeq: 2 })) last.push(e);
    expect(last).toMatchObject([{ kind: 'marker', msgType: 'capture-stopped', body: JSON.stringify({ reason: 'recorder-died', writer: dead }) }]);
    expect((await verifySession(store, run))?.ok).toBe(true);
    expect(await store.getSession(task)).toMatchObject({ status: 'open', headSeq: 1 }); // a take-over may continue it
    expect(await store.getSession(rehomed)).toMatchObject({ status: 'sealed', headSeq: 2 }); // its events were the dead writer's alone
    expect(await store.getSession(endedTask)).toMatchObject({ status: 'sealed', headSeq: 1, outcome: { reason: 'game_over' } }); // only its seal was missing
    expect(await store.getSession(other)).toMatchObject({ status: 'open', headSeq: 1 });
  });

  it('claims a journal directory and names the writer of a dead previous owner (not its own, not a live one)', () => {
    const dir = join(root, 'inst');
    mkdirSync(dir);
    expect(claimJournalDir(dir, 'inst/1/first')).toEqual({ previousWriter: null });
    writeFileSync(join(dir, 'owner.json'), JSON.stringify({ host: hostname(), pid: deadPid(), startedAt: '', writer: 'inst/2/dead' }));
    expect(claimJournalDir(dir, 'inst/3/me')).toEqual({ previousWriter: 'inst/2/dead' });
    expect(claimJournalDir(dir, 'inst/3/me')).toEqual({ previousWriter: null }); // ours now
  });

  it("leaves alone the journals of live processes and of other hosts; refuses to share a live process's journal", async () => {
    await leaveJournal('alive', { host: hostname(), pid: process.pid });
    await leaveJournal('elsewhere', { host: `not-${hostname()}`, pid: deadPid() });
    const result = await adoptOrphanJournals({ root, ownDir: join(root, 'me'), store, log });
    expect(result).toEqual({ adopted: [], kept: [] });
    expect(readdirSync(root).sort()).toEqual(['alive', 'elsewhere']);
    // A second recorder with the same instance name while the first lives: a clear refusal.
    const shared = join(root, 'alive');
    writeFileSync(join(shared, 'owner.json'), JSON.stringify({ host: hostname(), pid: process.ppid, startedAt: '' }));
    expect(() => claimJournalDir(shared)).toThrow(/belongs to the running process .*another --instance name/);
    expect(existsSync(join(shared, 'owner.json'))).toBe(true);
  });
});
