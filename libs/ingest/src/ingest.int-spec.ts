import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { createPgPool } from '@rewind/db';
import { EventStore, EventStoreError, EventStoreErrorCode, NewEvent, StoredEvent, verifySession } from '@rewind/event-store';
import { aSession, createTestPool, testDatabaseUrl, waitFor } from '@rewind/testing';
import { Ingest } from './ingest';
import { WriterThread } from './writer-thread';
import { TcpForwarder } from '@rewind/testing';
import { IngestLogger, RecordInput } from './types';

const frame = (sessionId: string, i: number): RecordInput => ({
  kind: 'frame',
  direction: 'platform_to_client',
  channel: 'play_ws',
  format: 'json',
  body: JSON.stringify({ type: 'frame', session: sessionId.slice(0, 8), i, s: 'ü "q"' }),
  msgType: 'frame',
  tick: i,
});

function quietLog(): IngestLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
}

async function readAll(store: EventStore, sessionId: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.readSession(sessionId)) out.push(e);
  return out;
}

/** Every event of the session stored exactly once, seq 1..n in order, bodies as recorded, chain intact. */
async function expectStoredExactly(store: EventStore, sessionId: string, bodies: (string | Buffer | null)[]): Promise<void> {
  const stored = await readAll(store, sessionId);
  expect(stored.map((e) => e.seq)).toEqual(bodies.map((_, i) => i + 1));
  expect(stored.map((e) => e.body)).toEqual(bodies);
  for (let i = 1; i < stored.length; i++) expect(stored[i]!.offsetUs).toBeGreaterThanOrEqual(stored[i - 1]!.offsetUs);
  const report = await verifySession(store, sessionId);
  expect(report).toMatchObject({ ok: true, eventsChecked: bodies.length, headSeq: bodies.length });
}

const journalSegments = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.ndjson'));

describe('Ingest (real Postgres)', () => {
  let pool: Pool;
  let store: EventStore;
  let dirs: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'rewind-ingest-'));
    dirs.push(d);
    return d;
  };
  const target = (): { host: string; port: number } => {
    const u = new URL(testDatabaseUrl());
    return { host: u.hostname, port: Number(u.port || 5432) };
  };
  /** An EventStore reached through a forwarder that the test can cut. */
  async function storeBehindForwarder(): Promise<{ forwarder: TcpForwarder; store: EventStore }> {
    const { host, port } = target();
    const forwarder = await TcpForwarder.start(host, port);
    const p = createPgPool(forwarder.urlFor(testDatabaseUrl()), { max: 3, connectionTimeoutMillis: 1000 });
    cleanups.push(async () => {
      await forwarder.close();
      await p.end();
    });
    return { forwarder, store: new EventStore(p) };
  }

  beforeAll(() => {
    pool = createTestPool(4);
    store = new EventStore(pool);
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    dirs = [];
  });
  afterAll(async () => {
    await pool.end();
  });

  it('given a steady trickle of events, then batches go at most once per flush interval (each waits for company), not back to back, and every event is stored', async () => {
    const ingest = await Ingest.open({ store, journalDir: tmp(), flushIntervalMs: 100, log: quietLog() });
    const s = aSession();
    ingest.openSession(s);
    const bodies: string[] = [];
    const t0 = Date.now();
    // One event every ~2 ms for ~500 ms: a batch taken as soon as the last one returned would hold one or two.
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const input = frame(s.id, bodies.length + 1);
        ingest.record(s.id, input);
        bodies.push(input.body as string);
        if (Date.now() - t0 < 500) setTimeout(tick, 2);
        else resolve();
      };
      tick();
    });
    const elapsedMs = Date.now() - t0;
    const callsWhileTrickling = ingest.stats().appendCalls;
    await ingest.flush();
    expect(bodies.length).toBeGreaterThan(50);
    // One batch per 100 ms at most (the session's open goes with the first), and a margin for the timer's jitter.
    expect(callsWhileTrickling).toBeLessThanOrEqual(Math.ceil(elapsedMs / 100) + 2);
    await expectStoredExactly(store, s.id, bodies);
    await ingest.close();
  });

  it('given many record() calls, when flushed, then they are appended in few batches, in order, with their seqs and monotonic offsets', async () => {
    const log = quietLog();
    const ingest = await Ingest.open({ store, journalDir: tmp(), batchSize: 500, log });
    const appendSpy = jest.spyOn(store, 'writeBatch');
    const sessions = [aSession(), aSession(), aSession()];
    const t0 = process.hrtime.bigint();
    for (const s of sessions) ingest.openSession(s, { startNs: t0 });
    const bodies = new Map<string, (string | Buffer | null)[]>(sessions.map((s) => [s.id, []]));
    for (let i = 1; i <= 1000; i++) {
      for (const s of sessions) {
        const input = frame(s.id, i);
        // i ms after the start, except every 100th event which claims to be earlier: offsets never decrease.
        const atNs = t0 + BigInt(i % 100 === 0 ? 1 : i) * 1_000_000n;
        expect(ingest.record(s.id, { ...input, atNs })).toBe(i);
        bodies.get(s.id)!.push(input.body);
      }
    }
    const [first] = sessions as [(typeof sessions)[0]];
    expect(ingest.record(first.id, { kind: 'frame', direction: 'platform_to_client', channel: 'play_ws', format: 'binary', body: Buffer.from([0, 1, 255]) })).toBe(1001);
    expect(ingest.record(first.id, { kind: 'lifecycle', direction: 'internal', channel: 'internal', format: 'empty', body: null })).toBe(1002);
    bodies.get(first.id)!.push(Buffer.from([0, 1, 255]), null);
    await ingest.flush();

    expect(appendSpy.mock.calls.length).toBeGreaterThan(0);
    expect(appendSpy.mock.calls.length).toBeLessThanOrEqual(10); // 3,002 events in batches of ≤ 500
    // One store transaction per batch, whatever it holds: the sessions are opened in the first one.
    expect(appendSpy.mock.calls[0]?.[0].opens?.map((o) => o.id)).toEqual(sessions.map((s) => s.id));
    appendSpy.mockRestore();
    for (const s of sessions) await expectStoredExactly(store, s.id, bodies.get(s.id)!);
    const stored = await readAll(store, first.id);
    expect(stored[0]!.offsetUs).toBe(1000);
    expect(stored[98]!.offsetUs).toBe(99_000);
    expect(stored[99]!.offsetUs).toBe(99_000); // claimed to be earlier: held at the previous offset
    expect(stored[100]!.offsetUs).toBe(101_000);
    expect(ingest.stats()).toMatchObject({ buffered: 0, journaled: 0, appended: 3002, outage: false });
    await ingest.close();
  });

  it('given a run whose outcome event is the last of a full batch, when stored, then its end (and seal) commit in the same transaction, never in the next batch', async () => {
    const ingest = await Ingest.open({ store, journalDir: tmp(), batchSize: 3, log: quietLog() });
    const spy = jest.spyOn(store, 'writeBatch');
    const s = aSession();
    ingest.openSession(s);
    ingest.record(s.id, frame(s.id, 1));
    ingest.record(s.id, frame(s.id, 2));
    ingest.record(s.id, { kind: 'outcome', direction: 'internal', channel: 'internal', format: 'json', body: '{"score":3}', msgType: 'outcome' });
    ingest.endSession(s.id, new Date('2026-11-23T10:00:00Z'), { score: 3 });
    ingest.sealSession(s.id);
    const other = aSession();
    ingest.openSession(other);
    ingest.record(other.id, frame(other.id, 1));
    await ingest.waitUntilStored();
    const withOutcome = spy.mock.calls.map(([b]) => b).find((b) => b.events?.some((e) => e.kind === 'outcome'));
    spy.mockRestore();
    expect(withOutcome?.events?.length).toBe(3);
    expect(withOutcome?.ends).toEqual([{ sessionId: s.id, endedAt: new Date('2026-11-23T10:00:00Z'), outcome: { score: 3 } }]);
    expect(withOutcome?.seals).toEqual([s.id]);
    expect(await store.getSession(s.id)).toMatchObject({ status: 'sealed', headSeq: 3, outcome: { score: 3 } });
    expect(await store.getSession(other.id)).toMatchObject({ status: 'open', headSeq: 1 });
    await ingest.close();
  });

  it('given Postgres down, when events are recorded, then record() returns at once and flush() resolves once the journal holds them all', async () => {
    const { forwarder, store: remote } = await storeBehindForwarder();
    forwarder.pause();
    const dir = tmp();
    const log = quietLog();
    const ingest = await Ingest.open({ store: remote, journalDir: dir, log, retryDelayMs: 50 });
    const session = aSession();
    ingest.openSession(session);
    const started = process.hrtime.bigint();
    for (let i = 1; i <= 2000; i++) ingest.record(session.id, frame(session.id, i));
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(elapsedMs).toBeLessThan(2_000); // 2,000 synchronous calls, no waiting on the dead store (loose: a loaded machine)
    await ingest.flush();
    expect(ingest.stats()).toMatchObject({ buffered: 0, journaled: 2000, outage: true, appended: 0 });
    const lines = journalSegments(dir).flatMap((n) => readFileSync(join(dir, n), 'utf8').trim().split('\n'));
    expect(lines.filter((l) => l.includes('"t":"event"'))).toHaveLength(2000);
    expect(log.lines.some((l) => l.startsWith('warn the event store is unreachable'))).toBe(true);
    await ingest.close();
  });

  it('given an outage in the middle of several sessions, when Postgres comes back, then every event is stored exactly once, in order, with intact chains', async () => {
    const { forwarder, store: remote } = await storeBehindForwarder();
    const dir = tmp();
    const log = quietLog();
    const ingest = await Ingest.open({ store: remote, journalDir: dir, log, retryDelayMs: 50, maxRetryDelayMs: 200, outageJournalIntervalMs: 100 });
    const [a, b, c] = [aSession(), aSession({ platform: 'spacemolt' }), aSession()];
    const bodies = new Map<string, string[]>([a, b, c].map((s) => [s.id, []]));
    const rec = (id: string): void => {
      const input = frame(id, bodies.get(id)!.length + 1);
      expect(ingest.record(id, input)).toBe(bodies.get(id)!.length + 1);
      bodies.get(id)!.push(input.body as string);
    };
    ingest.openSession(a);
    ingest.openSession(b);
    for (let i = 0; i < 100; i++) [a, b].forEach((s) => rec(s.id));
    await ingest.flush();
    expect(ingest.stats()).toMatchObject({ appended: 200, journaled: 0 });

    forwarder.pause();
    ingest.openSession(c); // opened during the outage: its open goes through the journal too
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 50; i++) [a, b, c].forEach((s) => rec(s.id));
      await new Promise((r) => setTimeout(r, 40)); // pacing: the outage's traffic arrives over time while the writer fails, journals and retries
    }
    await ingest.flush();
    await waitFor('the ingest to see the outage', () => ingest.stats().outage);
    expect(ingest.stats().outage).toBe(true);
    expect(ingest.stats().journaled).toBe(900);

    forwarder.resume();
    for (let i = 0; i < 20; i++) [a, b, c].forEach((s) => rec(s.id)); // newer events, recorded while the journal drains
    await ingest.waitUntilStored(20_000);

    await expectStoredExactly(store, a.id, bodies.get(a.id)!);
    await expectStoredExactly(store, b.id, bodies.get(b.id)!);
    await expectStoredExactly(store, c.id, bodies.get(c.id)!);
    expect(ingest.stats()).toMatchObject({ buffered: 0, journaled: 0, outage: false, rejected: 0 });
    expect(journalSegments(dir)).toEqual([]);
    expect(log.lines.some((l) => l === 'info the event store is reachable again')).toBe(true);
    await ingest.close();
  });

  describe('the write-ahead log (what the recorder uses)', () => {
    it('given a process SIGKILLed with everything it recorded still in memory, when the next Ingest starts on its directory, then every event is stored once, in order, with the end', async () => {
      const dir = tmp();
      const sessionId = aSession().id;
      const { spawnSync } = await import('node:child_process');
      const register = join(__dirname, '../../../scripts/register.js');
      const child = spawnSync(process.execPath, ['-r', register, join(__dirname, 'test-support/wal-child.ts'), testDatabaseUrl(), dir, sessionId, '300'], { encoding: 'utf8', timeout: 60_000 });
      expect(child.signal).toBe('SIGKILL');
      expect(child.stdout).toContain('recorded 300');
      expect(await store.getSession(sessionId)).toBeNull(); // nothing had reached Postgres
      expect(readdirSync(join(dir, 'wal')).filter((n) => n.endsWith('.ndjson')).length).toBeGreaterThan(0);

      const log = quietLog();
      const next = await Ingest.open({ store, journalDir: dir, writeAhead: true, log });
      await next.waitUntilStored(20_000);
      const stored = await readAll(store, sessionId);
      expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      expect(stored.map((e) => e.tick)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      expect(stored[9]!.body).toEqual(Buffer.from([10, 0, 255]));
      expect(await store.getSession(sessionId)).toMatchObject({ status: 'ended', outcome: { score: 300 } });
      expect((await verifySession(store, sessionId))?.ok).toBe(true);
      expect(log.lines.some((l) => l.includes('the write-ahead log of an earlier process held 302 items'))).toBe(true);
      await next.close();
      // A clean close leaves no log behind; a second start finds nothing to recover.
      expect(readdirSync(join(dir, 'wal')).filter((n) => n.endsWith('.ndjson'))).toEqual([]);
    });

    it('given a log cut mid-line (the machine stopped), then the complete lines are recovered and the torn one is dropped and said', async () => {
      const dir = tmp();
      const s = aSession();
      const first = await Ingest.open({ store, journalDir: dir, writeAhead: true, flushIntervalMs: 600_000, batchSize: 1_000_000, log: quietLog() });
      first.openSession(s);
      for (let i = 1; i <= 5; i++) first.record(s.id, frame(s.id, i));
      await new Promise<void>((r) => setImmediate(r)); // the log writes a turn's items at the turn's end
      const walDir = join(dir, 'wal');
      const [name] = readdirSync(walDir);
      writeFileSync(join(walDir, name!), readFileSync(join(walDir, name!), 'utf8') + '{"t":"event","o":99,"ev');
      const log = quietLog();
      const next = await Ingest.open({ store, journalDir: dir, writeAhead: true, log });
      await next.waitUntilStored(10_000);
      expect((await readAll(store, s.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(log.lines.some((l) => l.startsWith('warn write-ahead log') && l.includes('cut mid-write'))).toBe(true);
      await next.close();
    });

    it('deletes log files once what they hold is stored, while recording goes on', async () => {
      const dir = tmp();
      const s = aSession();
      const ingest = await Ingest.open({ store, journalDir: dir, writeAhead: true, log: quietLog() });
      ingest.openSession(s);
      for (let i = 1; i <= 200; i++) ingest.record(s.id, frame(s.id, i));
      await ingest.flush();
      ingest.record(s.id, frame(s.id, 201));
      await ingest.flush();
      const walFiles = () => readdirSync(join(dir, 'wal')).filter((n) => n.endsWith('.ndjson'));
      await waitFor('the stored log files deleted', () => walFiles(), { until: (files) => files.length <= 1 });
      expect(walFiles().length).toBeLessThanOrEqual(1); // at most the file being written
      await ingest.close();
      expect(readdirSync(join(dir, 'wal')).filter((n) => n.endsWith('.ndjson'))).toEqual([]);
    });
  });

  describe('the writer thread (what the recorder uses)', () => {
    it('given batches written by the thread, when Postgres is cut mid-run and comes back, then every event (binary bodies too) is stored exactly once, in order', async () => {
      const forwarder = await TcpForwarder.start(target().host, target().port);
      const writer = new WriterThread({ databaseUrl: forwarder.urlFor(testDatabaseUrl()), connectionTimeoutMs: 1000 });
      cleanups.push(async () => {
        await writer.close();
        await forwarder.close();
      });
      const log = quietLog();
      const ingest = await Ingest.open({ store, writer, journalDir: tmp(), log, retryDelayMs: 50, maxRetryDelayMs: 200, outageJournalIntervalMs: 100, storeTimeoutMs: 2000 });
      const [a, b] = [aSession(), aSession({ platform: 'spacemolt' })];
      const bodies = new Map<string, (string | Buffer)[]>([a, b].map((s) => [s.id, []]));
      const rec = (id: string, n: number): void => {
        const binary = n % 7 === 0;
        const body = binary ? Buffer.from([0, n % 256, 255, 10]) : (frame(id, n).body as string);
        ingest.record(id, { ...frame(id, n), ...(binary ? { format: 'binary' as const, body, msgType: null } : {}) });
        bodies.get(id)!.push(body);
      };
      ingest.openSession(a);
      ingest.openSession(b);
      let n = 0;
      for (; n < 100; n++) [a, b].forEach((s) => rec(s.id, n + 1));
      await ingest.flush();
      // On a loaded machine the thread's first writes may miss the store timeout (an outage before the cut): wait
      // until the first 200 are stored and the ingest is out of it.
      await waitFor('the first 200 events stored by the thread', () => ingest.stats().appended === 200 && !ingest.stats().outage, 30_000);
      expect(ingest.stats()).toMatchObject({ appended: 200, outage: false });
      expect(writer.threadId).not.toBeNull();

      forwarder.pause();
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 40; i++, n++) [a, b].forEach((s) => rec(s.id, n + 1));
        await new Promise((r) => setTimeout(r, 60)); // pacing: the outage's traffic arrives over time
      }
      await ingest.flush();
      await waitFor('the writer thread to see the outage', () => ingest.stats().outage);
      forwarder.resume();
      for (let i = 0; i < 20; i++, n++) [a, b].forEach((s) => rec(s.id, n + 1));
      await ingest.waitUntilStored(20_000);
      await expectStoredExactly(store, a.id, bodies.get(a.id)!);
      await expectStoredExactly(store, b.id, bodies.get(b.id)!);
      expect(log.lines.some((l) => l.startsWith('warn the event store is unreachable'))).toBe(true);
      await ingest.close();
    });

    it('given warm() at boot, then the thread runs before any write, and the first write goes to that thread', async () => {
      const writer = new WriterThread({ databaseUrl: testDatabaseUrl() });
      cleanups.push(() => writer.close());
      expect(writer.threadId).toBeNull();
      writer.warm();
      const warmed = writer.threadId;
      expect(warmed).not.toBeNull();
      writer.warm(); // a thread already running is kept
      expect(writer.threadId).toBe(warmed);
      const s = aSession();
      await expect(writer.writeBatch({ opens: [s], events: [{ ...frame(s.id, 1), sessionId: s.id, seq: 1, offsetUs: 0, recordedAtUs: Date.now() * 1000, requestId: null }] })).resolves.toMatchObject({
        appended: 1,
      });
      expect(writer.threadId).toBe(warmed);
    });

    it('given a batch of every event form (bodies text, NUL-holding, binary and empty; meta; null and absent fields), when written through the thread (its events packed as columns), then its rows are those of the same batch written by the store itself, and its chain verifies', async () => {
      const writer = new WriterThread({ databaseUrl: testDatabaseUrl() });
      cleanups.push(() => writer.close());
      const forms = (sessionId: string): NewEvent[] =>
        [
          { ...frame(sessionId, 1), body: '{"t":"frame","s":"ü \\"q\\""}', requestId: null },
          { kind: 'input', direction: 'client_to_platform', channel: 'play_ws', format: 'text', body: `a NUL \u0000, a lone \ud800 and ${'x'.repeat(100)}`, tick: null, msgType: null },
          { kind: 'notification', direction: 'platform_to_client', channel: 'play_ws', format: 'binary', body: Buffer.from([0, 10, 13, 255]), meta: '{"undelivered":true}' },
          { kind: 'lifecycle', direction: 'internal', channel: 'play_ws', format: 'empty', body: null, msgType: 'ws-close', requestId: 'conn-1', meta: '{"code":1000}' },
          { kind: 'response', direction: 'platform_to_client', channel: 'http', format: 'json', body: '{"ok":true}', msgType: 'GET /api', requestId: 'conn-1', meta: '{"status":200}' },
        ].map((e, i) => ({ ...(e as RecordInput), sessionId, seq: i + 1, offsetUs: i * 10, recordedAtUs: 1_795_000_000_000_000 + i }) as NewEvent);
      const viaThread = aSession();
      const direct = aSession();
      await writer.writeBatch({ opens: [viaThread], events: forms(viaThread.id) });
      await store.writeBatch({ opens: [direct], events: forms(direct.id) });
      const rows = async (id: string) => {
        const out: Omit<StoredEvent, 'sessionId' | 'globalPosition' | 'txId' | 'hash'>[] = [];
        for await (const { sessionId: _s, globalPosition: _g, txId: _t, hash: _h, ...e } of store.readSession(id)) out.push(e);
        return out;
      };
      expect(await rows(viaThread.id)).toEqual(await rows(direct.id));
      expect((await rows(viaThread.id)).length).toBe(5);
      expect((await verifySession(store, viaThread.id))?.ok).toBe(true);
    });

    it("given a refusal, then it comes back as the store's typed error naming the session; given the thread dies, then its pending write fails (transient) and the next write starts a new thread", async () => {
      const writer = new WriterThread({ databaseUrl: testDatabaseUrl() });
      cleanups.push(() => writer.close());
      const s = aSession();
      await writer.writeBatch({ opens: [s], events: [{ ...frame(s.id, 1), sessionId: s.id, seq: 1, offsetUs: 0, recordedAtUs: Date.now() * 1000, requestId: null }] });
      const refusal = await writer.writeBatch({ events: [{ ...frame(s.id, 5), sessionId: s.id, seq: 5, offsetUs: 1, recordedAtUs: Date.now() * 1000, requestId: null }] }).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(EventStoreError);
      expect(refusal).toMatchObject({ code: EventStoreErrorCode.SeqGap, details: { sessionId: s.id, expected: 2, got: 5 } });

      const first = writer.threadId;
      // Kill the thread while a write waits on it.
      const pending = writer.writeBatch({ events: [{ ...frame(s.id, 2), sessionId: s.id, seq: 2, offsetUs: 2, recordedAtUs: Date.now() * 1000, requestId: null }] });
      await (writer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      const lost = await pending.then(
        () => null,
        (e: Error) => e,
      );
      // Either it committed before the kill or it failed as transient (not a refusal): never a wrong answer.
      if (lost) expect(lost).not.toBeInstanceOf(EventStoreError);
      const head = (await store.getSession(s.id))!.headSeq;
      const next = head + 1;
      await writer.writeBatch({ events: [{ ...frame(s.id, next), sessionId: s.id, seq: next, offsetUs: 3, recordedAtUs: Date.now() * 1000, requestId: null }] });
      expect(writer.threadId).not.toBe(first);
      expect((await store.getSession(s.id))!.headSeq).toBe(next);
    });
  });

  it('given a journal left by a crashed process, when a new Ingest starts, then it drains it first, continues the seqs, and a replay of events already stored is harmless', async () => {
    const { forwarder, store: deadStore } = await storeBehindForwarder();
    forwarder.pause();
    const dir = tmp();
    const session = aSession();
    const bodies: string[] = [];
    const first = await Ingest.open({ store: deadStore, journalDir: dir, log: quietLog(), retryDelayMs: 10_000 });
    first.openSession(session);
    for (let i = 1; i <= 150; i++) {
      const input = frame(session.id, i);
      first.record(session.id, input);
      bodies.push(input.body as string);
    }
    await first.flush(); // durable in the journal; then the process "dies"
    await first.close();
    writeFileSync(join(dir, 'seg-000000000009999.ndjson.tmp'), '{"t":"event","torn'); // a write cut short by the crash
    const backup = tmp();
    for (const n of journalSegments(dir)) copyFileSync(join(dir, n), join(backup, n));

    const second = await Ingest.open({ store, journalDir: dir, log: quietLog() });
    expect(second.stats().journaled).toBe(150);
    second.openSession(session); // known from the journal: the seqs continue
    for (let i = 151; i <= 200; i++) {
      const input = frame(session.id, i);
      expect(second.record(session.id, input)).toBe(i);
      bodies.push(input.body as string);
    }
    await second.waitUntilStored(20_000);
    await second.close();
    await expectStoredExactly(store, session.id, bodies);
    expect(readdirSync(dir).filter((n) => n.startsWith('seg-'))).toEqual([]);

    // The same journal replayed again (as after a crash between the append and the journal's deletion).
    const third = await Ingest.open({ store, journalDir: backup, log: quietLog() });
    await third.waitUntilStored(20_000);
    expect(third.stats()).toMatchObject({ appended: 0, duplicates: 150, rejected: 0 });
    await third.close();
    await expectStoredExactly(store, session.id, bodies);
  });

  it('given a stream stored by an earlier process, when resumed, then the seqs and offsets continue from the stored head', async () => {
    const session = aSession();
    const bodies: string[] = [];
    const before = await Ingest.open({ store, journalDir: tmp(), log: quietLog() });
    before.openSession(session);
    for (let i = 1; i <= 30; i++) {
      const input = frame(session.id, i);
      before.record(session.id, input);
      bodies.push(input.body as string);
    }
    await before.close();
    const lastOffset = (await readAll(store, session.id))[29]!.offsetUs;

    const after = await Ingest.open({ store, journalDir: tmp(), log: quietLog() });
    expect(await after.resumeSession(session)).toBe(31);
    const input = frame(session.id, 31);
    expect(after.record(session.id, input)).toBe(31);
    bodies.push(input.body as string);
    await after.close();
    await expectStoredExactly(store, session.id, bodies);
    expect((await readAll(store, session.id))[30]!.offsetUs).toBeGreaterThanOrEqual(lastOffset);
  });

  it('given a small memory bound while Postgres is down, then the buffer never exceeds it and the journal takes the rest', async () => {
    const { forwarder, store: remote } = await storeBehindForwarder();
    forwarder.pause();
    const ingest = await Ingest.open({ store: remote, journalDir: tmp(), maxBufferedEvents: 100, batchSize: 50, log: quietLog(), retryDelayMs: 50 });
    const session = aSession();
    ingest.openSession(session);
    const bodies: string[] = [];
    let maxBuffered = 0;
    for (let i = 1; i <= 1000; i++) {
      const input = frame(session.id, i);
      ingest.record(session.id, input);
      bodies.push(input.body as string);
      maxBuffered = Math.max(maxBuffered, ingest.stats().buffered);
      if (i % 250 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(maxBuffered).toBeLessThanOrEqual(100 + 50);
    await ingest.flush();
    expect(ingest.stats()).toMatchObject({ buffered: 0, journaled: 1000 });
    forwarder.resume();
    await ingest.waitUntilStored(20_000);
    await ingest.close();
    await expectStoredExactly(store, session.id, bodies);
  });

  it('given a slow Postgres and a small memory bound, then events spill to the journal and still arrive in order', async () => {
    const { forwarder, store: remote } = await storeBehindForwarder();
    const ingest = await Ingest.open({ store: remote, journalDir: tmp(), maxBufferedEvents: 100, batchSize: 50, log: quietLog() });
    const session = aSession();
    ingest.openSession(session);
    await ingest.flush();
    forwarder.delayMs = 30;
    const bodies: string[] = [];
    let maxBuffered = 0;
    let sawJournal = false;
    for (let i = 1; i <= 600; i++) {
      const input = frame(session.id, i);
      ingest.record(session.id, input);
      bodies.push(input.body as string);
      const s = ingest.stats();
      maxBuffered = Math.max(maxBuffered, s.buffered);
      sawJournal ||= s.journaled > 0;
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5)); // pacing: recorded over time, as a live stream is
    }
    expect(maxBuffered).toBeLessThanOrEqual(100 + 50);
    expect(sawJournal).toBe(true);
    await ingest.waitUntilStored(20_000);
    forwarder.delayMs = 0;
    await ingest.close();
    await expectStoredExactly(store, session.id, bodies);
  });

  it("given a stream another writer took over while this one still held events of it, then those events are re-homed to a new stream (nothing set aside), with the rest of this writer's items of it; its seal (the run is over) seals both", async () => {
    const log = quietLog();
    const stale = await Ingest.open({ store, journalDir: tmp(), log, writerToken: 'A/101/stale001' });
    const session = aSession({ metadata: { stream: 'run', capturedBy: 'spectator', task: 'moltstation-spectate', taskId: 't-1' } });
    stale.openSession(session);
    for (let i = 1; i <= 5; i++) stale.record(session.id, frame(session.id, i));
    await stale.waitUntilStored();
    // The task is taken over: the new holder continues the stored stream (seq 6…) while the stale holder still records.
    const taker = await Ingest.open({ store, journalDir: tmp(), log: quietLog() });
    expect(await taker.resumeSession(session)).toBe(6);
    const takerBodies: string[] = [];
    for (let i = 6; i <= 10; i++) {
      const input = { ...frame(session.id, i), body: `{"taker":${i}}` };
      taker.record(session.id, input);
      takerBodies.push(input.body);
    }
    await taker.waitUntilStored();
    const staleBodies: string[] = [];
    for (let i = 6; i <= 8; i++) {
      const input = { ...frame(session.id, i), body: `{"stale":${i}}` };
      stale.record(session.id, input);
      staleBodies.push(input.body);
    }
    stale.endSession(session.id, new Date('2026-11-23T12:00:00Z'));
    stale.sealSession(session.id);
    await stale.waitUntilStored();
    expect(stale.stats()).toMatchObject({ rejected: 0, rejectedSessions: [] });

    const stored = await readAll(store, session.id);
    expect(stored.map((e) => e.body)).toEqual([...stored.slice(0, 5).map((e) => e.body), ...takerBodies]);
    // Left open, nobody would ever close it: the writer whose items were stored there is no longer its holder.
    expect(await store.getSession(session.id)).toMatchObject({ status: 'sealed', headSeq: 10 });
    const { rows } = await pool.query<{ id: string }>(`SELECT id FROM sessions WHERE metadata->>'rehomedFrom' = $1`, [session.id]);
    expect(rows).toHaveLength(1);
    const home = rows[0]!.id;
    expect(await store.getSession(home)).toMatchObject({
      status: 'sealed',
      platform: session.platform,
      headSeq: 3,
      metadata: { task: 'moltstation-spectate', taskId: 't-1', capturedBy: 'spectator', writer: 'A/101/stale001', rehomedFrom: session.id, rehomeReason: 'DUPLICATE_CONFLICT' },
    });
    await expectStoredExactly(store, home, staleBodies);
    expect(log.lines.some((l) => l.startsWith(`warn the stream ${session.id} was written by another writer meanwhile`))).toBe(true);
    await stale.close();
    await taker.close();
  });

  it("given a dead writer's journal holding the tail of a stream another writer continued meanwhile, then the tail (its outcome's handoff included) goes to a sealed re-homed stream, and a resume by the new process continues the stream itself", async () => {
    // What a soak found: recorder A SIGKILLed mid-run; B took the spectate task over at once (A's last events
    // unstored); A's successor recovered A's log — re-homed, right — but then took the task over itself and
    // everything it recorded followed the re-homing too, leaving the stream open forever.
    const session = aSession({ metadata: { stream: 'run', capturedBy: 'spectator', task: 'moltstation-spectate', taskId: 't-2' } });
    const first = await Ingest.open({ store, journalDir: tmp(), log: quietLog() });
    first.openSession(session);
    const bodies: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const input = frame(session.id, i);
      first.record(session.id, input);
      bodies.push(input.body as string);
    }
    await first.waitUntilStored();
    await first.close();
    // The writer that dies: its events 6–8 and the run's outcome (with its handoff) reach only its journal.
    const { forwarder, store: deadStore } = await storeBehindForwarder();
    forwarder.pause();
    const dir = tmp();
    const dead = await Ingest.open({ store: deadStore, journalDir: dir, log: quietLog(), retryDelayMs: 60_000, writerToken: 'A/1/dead0001' });
    dead.openSession(session, { resumeFrom: { seq: 5, offsetUs: 0 } });
    const deadBodies: string[] = [];
    for (let i = 6; i <= 8; i++) {
      const input = { ...frame(session.id, i), body: `{"dead":${i}}` };
      dead.record(session.id, input);
      deadBodies.push(input.body);
    }
    const payload = { sessionId: session.id, platform: 'moltstation', outcome: { reason: 'GAME_OVER' } };
    dead.record(
      session.id,
      { kind: 'outcome', direction: 'internal', channel: 'internal', format: 'json', body: '{"reason":"GAME_OVER"}', msgType: 'outcome' },
      { outbox: [{ queue: 'reward-handoff', jobName: 'reward', payload, dedupeKey: `reward-handoff:${session.id}` }] },
    );
    dead.endSession(session.id, new Date('2026-11-23T12:00:00Z'), { reason: 'GAME_OVER' });
    await dead.flush();
    await dead.close();
    // The taker continues the stored stream from seq 6.
    const taker = await Ingest.open({ store, journalDir: tmp(), log: quietLog(), writerToken: 'B/2/taker001' });
    expect(await taker.resumeSession(session)).toBe(6);
    for (let i = 6; i <= 10; i++) {
      const input = { ...frame(session.id, i), body: `{"taker":${i}}` };
      taker.record(session.id, input);
      bodies.push(input.body);
    }
    await taker.waitUntilStored();
    await taker.close();

    // The dead writer's successor on its directory: the tail is re-homed and, nobody of this process writing
    // the stream, the re-homed stream is complete: sealed.
    const log = quietLog();
    const successor = await Ingest.open({ store, journalDir: dir, log, writerToken: 'A/3/succ0001' });
    await successor.waitUntilStored(20_000);
    const { rows } = await pool.query<{ id: string }>(`SELECT id FROM sessions WHERE metadata->>'rehomedFrom' = $1`, [session.id]);
    expect(rows).toHaveLength(1);
    const home = rows[0]!.id;
    expect(await store.getSession(home)).toMatchObject({ status: 'sealed', headSeq: 4, outcome: { reason: 'GAME_OVER' }, metadata: { rehomedFrom: session.id, writer: 'A/3/succ0001' } });
    expect((await readAll(store, home)).map((e) => e.body)).toEqual([...deadBodies, '{"reason":"GAME_OVER"}']);
    const outbox = await pool.query<{ session_id: string; payload: { sessionId: string } }>(`SELECT session_id, payload FROM outbox WHERE dedupe_key = $1`, [`reward-handoff:${session.id}`]);
    expect(outbox.rows).toEqual([{ session_id: home, payload: { ...payload, sessionId: home } }]); // the handoff names the stream holding the outcome

    // Then the successor takes the task over: it continues the stream itself, after the taker's head.
    expect(await successor.resumeSession(session)).toBe(11);
    for (let i = 11; i <= 12; i++) {
      const input = { ...frame(session.id, i), body: `{"successor":${i}}` };
      successor.record(session.id, input);
      bodies.push(input.body);
    }
    successor.endSession(session.id, new Date());
    successor.sealSession(session.id);
    await successor.waitUntilStored();
    await successor.close();
    await expectStoredExactly(store, session.id, bodies);
    expect(await store.getSession(session.id)).toMatchObject({ status: 'sealed' });
    expect(await store.getSession(home)).toMatchObject({ status: 'sealed', headSeq: 4 });
    expect(successor.stats()).toMatchObject({ rejected: 0 });
    expect(log.lines.filter((l) => l.includes('was written by another writer meanwhile'))).toHaveLength(1);
  });

  it("given this writer's events re-homed while it still recorded (its task taken over), when it releases the stream without ending it, then the re-homed stream is sealed and the stream itself is left to the taker", async () => {
    const stale = await Ingest.open({ store, journalDir: tmp(), log: quietLog(), writerToken: 'A/4/stale002' });
    const session = aSession({ metadata: { stream: 'run', capturedBy: 'spectator', task: 'moltstation-spectate', taskId: 't-3' } });
    stale.openSession(session);
    for (let i = 1; i <= 3; i++) stale.record(session.id, frame(session.id, i));
    await stale.waitUntilStored();
    const taker = await Ingest.open({ store, journalDir: tmp(), log: quietLog() });
    expect(await taker.resumeSession(session)).toBe(4);
    taker.record(session.id, { ...frame(session.id, 4), body: '{"taker":4}' });
    await taker.waitUntilStored();
    stale.record(session.id, { ...frame(session.id, 4), body: '{"stale":4}' });
    stale.record(session.id, { ...frame(session.id, 5), body: '{"stale":5}' });
    stale.releaseSession(session.id); // its lock was lost: the task stops here without ending the run
    await stale.waitUntilStored();
    const { rows } = await pool.query<{ id: string }>(`SELECT id FROM sessions WHERE metadata->>'rehomedFrom' = $1`, [session.id]);
    expect(rows).toHaveLength(1);
    expect(await store.getSession(rows[0]!.id)).toMatchObject({ status: 'sealed', headSeq: 2 });
    await expectStoredExactly(store, rows[0]!.id, ['{"stale":4}', '{"stale":5}']);
    expect(await store.getSession(session.id)).toMatchObject({ status: 'open', headSeq: 4 });
    await stale.close();
    await taker.close();
  });

  it('given the store refuses a session (a bug), then it is logged loudly, its events are kept aside and other sessions are unaffected', async () => {
    const dir = tmp();
    const log = quietLog();
    const conflicting = aSession({ platform: 'rgs' });
    await store.openSession(conflicting);
    const ingest = await Ingest.open({ store, journalDir: dir, log });
    const good = aSession();
    ingest.openSession({ ...conflicting, platform: 'moltstation' }); // same id, other platform: SESSION_CONFLICT
    ingest.openSession(good);
    const bodies: string[] = [];
    for (let i = 1; i <= 20; i++) {
      ingest.record(conflicting.id, frame(conflicting.id, i));
      const input = frame(good.id, i);
      ingest.record(good.id, input);
      bodies.push(input.body as string);
    }
    await ingest.waitUntilStored(10_000);
    await ingest.close();
    await expectStoredExactly(store, good.id, bodies);
    expect((await store.getSession(conflicting.id))!.headSeq).toBe(0);
    expect(ingest.stats()).toMatchObject({ rejected: 20, rejectedSessions: [conflicting.id] });
    expect(log.lines.some((l) => l.startsWith('error BUG: the event store refused') && l.includes('SESSION_CONFLICT'))).toBe(true);
    const kept = readFileSync(join(dir, 'rejected', `${conflicting.id}.ndjson`), 'utf8')
      .trim()
      .split('\n');
    expect(kept).toHaveLength(21); // the open and its 20 events
    expect(existsSync(join(dir, 'rejected'))).toBe(true);
  });
});
