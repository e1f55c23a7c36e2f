import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool, PoolClient } from 'pg';
import { moltstation, runSpaceMoltWsMiner, TrafficEntry, TrafficLog } from '@rewind/agents';
import { EventStore, StoredEvent, verifySession } from '@rewind/event-store';
import { startSimulator, type RunningSimulator } from '@rewind/simulator';
import { createTestPool, testDatabaseUrl, waitFor } from '@rewind/testing';
import { TcpForwarder } from '@rewind/testing';
import { byDirection, httpExchanges, readStreams, wsSequences } from '@rewind/recorder/test-support';
import { RunningRecorderService, startRecorderService } from './recorder-service';

const received = (traffic: TrafficLog, stream: RegExp): TrafficEntry[] => traffic.entries.filter((e) => e.channel === 'ws' && e.direction === 'received' && stream.test(e.stream) && e.data !== '');

/** The recorder process in-process, its Postgres behind a forwarder the test cuts while bots play through its proxy. */
describe('Recorder service: Postgres unreachable mid-run', () => {
  let pool: Pool;
  let store: EventStore;
  let sim: RunningSimulator | undefined;
  let forwarder: TcpForwarder | undefined;
  let service: RunningRecorderService | undefined;
  const dirs: string[] = [];

  beforeAll(() => {
    pool = createTestPool(3);
    store = new EventStore(pool);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    forwarder?.resume();
    await service?.close().catch(() => undefined);
    service = undefined;
    await forwarder?.close();
    forwarder = undefined;
    await sim?.close();
    sim = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  afterAll(async () => {
    await pool.end();
  });

  it('given bots playing MoltStation and SpaceMolt through the proxy, when Postgres is cut for seconds mid-run, then forwarding never stalls and every exchanged event is stored once, in order, byte for byte', async () => {
    const u = new URL(testDatabaseUrl());
    forwarder = await TcpForwarder.start(u.hostname, Number(u.port || 5432));
    const fwd = forwarder;
    sim = await startSimulator({ port: 0, seed: `outage-${randomBytes(3).toString('hex')}`, platformOptions: { spacemolt: { tickMs: 200 } } });
    const dataDir = mkdtempSync(join(tmpdir(), 'rewind-recorder-outage-'));
    dirs.push(dataDir);
    const logs: string[] = [];
    const instance = 'outage-test';
    service = await startRecorderService({
      databaseUrl: fwd.urlFor(testDatabaseUrl()),
      proxyPort: 0,
      upstreams: { moltstation: sim.baseUrl('moltstation'), spacemolt: sim.baseUrl('spacemolt') },
      dataDir,
      instance,
      redactionKey: randomBytes(32),
      sealAfterMs: 300,
      accountIdleMs: 500,
      // The cut below is placed inside a write transaction by intercepting the store on this thread; the
      // writer thread's own outage handling is tested in writer-thread.int-spec.ts.
      ingestWriter: 'inline',
      log: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`ERROR ${m}`) },
    });
    const svc = service;

    // Two runs at once through the proxy: a ShellRunners agent (20 frames/s, exits at tick 240 = 12 s) and a
    // SpaceMolt WebSocket miner (3 cycles at 200 ms ticks, ~13 s).
    const moltTraffic = new TrafficLog();
    const smTraffic = new TrafficLog();
    const molt = moltstation.runShellRunnersSteerer({
      baseUrl: `${svc.proxyUrl}/moltstation`,
      seed: `outage-molt-${randomBytes(3).toString('hex')}`,
      traffic: moltTraffic,
      exitAfterTick: 240,
      simulatorOptions: { hungerMax: 1_000_000, livesMax: 1000 },
    });
    const miner = runSpaceMoltWsMiner({ baseUrl: `${svc.proxyUrl}/spacemolt`, seed: `outage-sm-${randomBytes(3).toString('hex')}`, traffic: smTraffic, cycles: 3 });
    molt.catch(() => undefined); // awaited below
    miner.catch(() => undefined);

    await waitFor('both bots to be playing', () => received(moltTraffic, /^play-ws/).length >= 30 && received(smTraffic, /./).length >= 10, 15_000);
    await waitFor('the events so far to be stored', () => svc.stats().ingest.appended > 0, 5000);
    expect(svc.stats().ingest.outage).toBe(false);

    // The cut: Postgres becomes unreachable while a write transaction of the ingest is open (the worst
    // moment, made deterministic: the next transaction cuts the link right after its BEGIN), and stays
    // unreachable for 3.5 s while both bots keep playing. (A failure "Unhandled error … Connection terminated
    // unexpectedly" here means a checked-out pg client had no 'error' listener: the recorder process would crash.)
    const realTransaction = svc.store.transaction.bind(svc.store);
    let cutInTransaction: (() => void) | undefined;
    jest.spyOn(svc.store, 'transaction').mockImplementation((<T>(work: (client: PoolClient) => Promise<T>) =>
      realTransaction(async (client) => {
        const cut = cutInTransaction;
        cutInTransaction = undefined;
        cut?.();
        return work(client);
      })) as typeof svc.store.transaction);
    let cutTimer: NodeJS.Timeout | undefined;
    const cutAt = await Promise.race([
      new Promise<number>((resolve) => {
        cutInTransaction = () => {
          fwd.pause();
          resolve(Date.now());
        };
      }),
      new Promise<never>((_, reject) => (cutTimer = setTimeout(() => reject(new Error('no write transaction within 5 s')), 5000))),
    ]);
    clearTimeout(cutTimer);
    const samples: { atMs: number; outage: boolean; journaled: number }[] = [];
    const sample = (): void => {
      const s = svc.stats().ingest;
      samples.push({ atMs: Date.now(), outage: s.outage, journaled: s.journaled });
    };
    await waitFor(
      'the ingest to notice the outage',
      () => {
        sample();
        return svc.stats().ingest.outage;
      },
      5000,
    );
    const outageSeenAt = Date.now();
    const moltAtOutage = received(moltTraffic, /^play-ws/).length;
    const smAtOutage = received(smTraffic, /./).length;
    // The outage itself lasts 3.5 s (the wait is the fault under test), sampled every 50 ms meanwhile.
    while (Date.now() - cutAt < 3500) {
      sample();
      await new Promise((r) => setTimeout(r, 50));
    }
    sample();
    const resumedAt = Date.now();
    // What the bots received between the two snapshots (by position: a time filter races the counts).
    const moltDuring = received(moltTraffic, /^play-ws/).slice(moltAtOutage);
    const smDuring = received(smTraffic, /./).slice(smAtOutage);
    fwd.resume();

    // While Postgres was away the ingest said so, and events went to the journal.
    const during = samples.filter((s) => s.atMs >= outageSeenAt);
    expect(during.length).toBeGreaterThan(20);
    expect(during.every((s) => s.outage)).toBe(true);
    expect(Math.max(...during.map((s) => s.journaled))).toBeGreaterThan(0);
    // …and the forwarding did not stall: frames kept coming at the game's pace (20/s), to both bots.
    const outageMs = resumedAt - outageSeenAt;
    expect(outageMs).toBeGreaterThan(1500);
    expect(moltDuring.every((e) => e.atMs >= outageSeenAt && e.atMs <= resumedAt)).toBe(true);
    expect(moltDuring.length).toBeGreaterThanOrEqual(Math.floor((outageMs / 50) * 0.6));
    const moltTimes = [outageSeenAt, ...moltDuring.map((e) => e.atMs), resumedAt];
    // No gap near the outage's length (a stalled forwarder): 1 s allows a loaded machine's pauses, 20 frames' worth.
    expect(Math.max(...moltTimes.slice(1).map((t, i) => t - moltTimes[i]!))).toBeLessThan(1000);
    expect(smDuring.length).toBeGreaterThanOrEqual(3);
    expect(received(smTraffic, /./).length).toBeGreaterThan(smAtOutage);

    await waitFor('Postgres to be reachable again for the ingest', () => !svc.stats().ingest.outage, 15_000);
    process.stderr.write(
      `postgres outage: ${outageMs} ms seen by the ingest (${outageSeenAt - cutAt} ms to notice, ${Date.now() - resumedAt} ms to recover); ` +
        `${moltDuring.length} MoltStation frames and ${smDuring.length} SpaceMolt messages forwarded meanwhile; up to ${Math.max(...during.map((s) => s.journaled))} events journaled\n`,
    );

    const [moltSummary, smSummary] = await Promise.all([molt, miner]);
    expect(moltSummary).toMatchObject({ closeReason: 'EXIT', phase: 'ended', connections: 1 });
    expect(moltSummary.framesReceived).toBeGreaterThan(200);
    expect(smSummary.cyclesCompleted).toBe(3);

    // Every run ended and was sealed, every account stream went idle; then everything is in Postgres.
    await waitFor('every stream to be sealed', () => svc.recorder.stats().openStreams === 0, 15_000, 50);
    await svc.ingest.waitUntilStored(20_000);
    expect(svc.recorder.stats()).toMatchObject({ failures: 0, openStreams: 0 });
    expect(svc.ingest.stats()).toMatchObject({ buffered: 0, journaled: 0, outage: false, rejected: 0, rejectedSessions: [] });
    const journalDir = join(dataDir, 'journal', instance);
    expect(existsSync(journalDir)).toBe(true);
    expect(readdirSync(journalDir).filter((n) => n.endsWith('.ndjson') || n.endsWith('.tmp'))).toEqual([]);

    const opened = svc.recorder.openedStreams();
    const streams = await readStreams(
      store,
      opened.map((s) => s.id),
    );
    for (const [id, events] of streams) {
      expect(events.length).toBeGreaterThan(0);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(await verifySession(store, id)).toMatchObject({ ok: true, sealed: true, eventsChecked: events.length, headSeq: events.length });
      expect((await store.getSession(id))?.status).toBe('sealed');
    }
    const of = (platform: string): Map<string, StoredEvent[]> => new Map([...streams].filter(([id]) => opened.find((s) => s.id === id)?.platform === platform));
    const moltStreams = of('moltstation');
    const smStreams = of('spacemolt');
    expect(moltStreams.size + smStreams.size).toBe(streams.size);

    // What each bot exchanged, byte for byte after redaction: WebSocket messages in order, HTTP exchanges.
    const moltWs = wsSequences(moltStreams, moltTraffic, svc.redactor);
    expect(moltWs.stored.length).toBeGreaterThan(200);
    expect(byDirection(moltWs.stored)).toEqual(byDirection(moltWs.bot));
    const moltHttp = httpExchanges(moltStreams, moltTraffic, svc.redactor);
    expect(moltHttp.stored.length).toBeGreaterThanOrEqual(4);
    expect(moltHttp.stored).toEqual(moltHttp.bot);
    const smWs = wsSequences(smStreams, smTraffic, svc.redactor);
    expect(smWs.stored.length).toBeGreaterThan(20);
    expect(byDirection(smWs.stored)).toEqual(byDirection(smWs.bot));

    // The MoltStation run: one stream, its frames once each and in tick order, one outcome.
    const moltRuns = opened.filter((s) => s.platform === 'moltstation' && s.kind === 'run');
    expect(moltRuns).toHaveLength(1);
    const runEvents = moltStreams.get(moltRuns[0]!.id)!;
    const ticks = runEvents.filter((e) => e.kind === 'frame').map((e) => e.tick as number);
    expect(ticks.length).toBe(moltSummary.framesReceived);
    for (let i = 1; i < ticks.length - 1; i++) expect(ticks[i]!).toBe(ticks[i - 1]! + 1);
    expect(runEvents.filter((e) => e.kind === 'outcome')).toHaveLength(1);
    expect(JSON.parse(String(runEvents.find((e) => e.kind === 'outcome')!.body))).toMatchObject({ reason: 'EXIT', phase: 'ended' });
    const smRuns = opened.filter((s) => s.platform === 'spacemolt' && s.kind === 'run');
    expect(smRuns).toHaveLength(1);
    expect(smStreams.get(smRuns[0]!.id)!.filter((e) => e.kind === 'outcome')).toHaveLength(1);

    expect(logs.filter((l) => l.startsWith('ERROR'))).toEqual([]);
    expect(logs.some((l) => /unreachable/.test(l))).toBe(true);
    expect(logs.some((l) => /reachable again/.test(l))).toBe(true);
    await svc.close();
    service = undefined;
  }, 60_000);
});
