import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { runCloudplayLauncher, TrafficLog } from '@rewind/agents';
import { EventStore, verifySession } from '@rewind/event-store';
import { Ingest } from '@rewind/ingest';
import { TcpForwarder } from '@rewind/local-services';
import { startRecordingProxy, type RunningRecordingProxy } from '@rewind/proxy';
import { Recorder } from '@rewind/recorder';
import { httpExchanges, readStreams } from '@rewind/recorder/test-support';
import { Redactor } from '@rewind/redaction';
import { startSimulator, type RunningSimulator } from '@rewind/simulator';
import { createTestPool, waitFor } from '@rewind/testing';
import { reconcileHttp } from './soak-worker';

/**
 * The soak's HTTP reconciliation over the real stack (bot → recording proxy → recorder → ingest → Postgres), for the
 * exchanges a bot got no answer to (reliability, open problem 10): one the proxy received is stored, answered or not,
 * and reads as the bot logged it (`→ undefined`); one that never reached the proxy is the bot's alone, counted apart.
 */
describe("the soak's HTTP reconciliation: exchanges without an answer (real proxy, recorder, Postgres)", () => {
  let pool: Pool;
  let store: EventStore;
  let sim: RunningSimulator;
  let fwd: TcpForwarder;
  let proxy: RunningRecordingProxy;
  let ingest: Ingest;
  let recorder: Recorder;
  let redactor: Redactor;
  let dir: string;
  const logs: string[] = [];

  beforeAll(async () => {
    pool = createTestPool(2);
    store = new EventStore(pool);
    dir = mkdtempSync(join(tmpdir(), 'rewind-soak-http-'));
    const log = { info: () => undefined, warn: (m: string) => logs.push(m), error: (m: string) => logs.push(`ERROR ${m}`) };
    ingest = await Ingest.open({ store, journalDir: dir, log });
    redactor = new Redactor(randomBytes(32));
    recorder = new Recorder({ ingest, store, redactor, log, sealAfterMs: 150, accountIdleMs: 150 });
    sim = await startSimulator({ port: 0, seed: 'soak-http', platformOptions: { cloudplay: { timeScale: 0.001 } } });
    // The platform behind a forwarder that can hold its bytes: a platform that does not answer (yet).
    const upstream = new URL(sim.baseUrl('cloudplay'));
    fwd = await TcpForwarder.start(upstream.hostname, Number(upstream.port));
    upstream.port = String(fwd.port);
    proxy = await startRecordingProxy({ port: 0, upstreams: { cloudplay: upstream.toString() }, sink: recorder });
  });
  afterAll(async () => {
    await proxy.close();
    await fwd.close();
    await sim.close();
    recorder.close();
    await ingest.close();
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a cloud-play launch the bot gave up on while the platform was silent is stored as unanswered and matches what the bot logged', async () => {
    const traffic = new TrafficLog();
    // 1. The launch reaches the proxy, which forwards it; the platform says nothing; the bot gives up (its signal).
    fwd.stall(60_000);
    const giveUp = new AbortController();
    const accepted = fwd.counts.accepted;
    const abandoned = runCloudplayLauncher({ baseUrl: `${proxy.url}/cloudplay`, seed: 'gave-up', traffic, signal: giveUp.signal, token: 'soak-http-token-1' }).catch((e: Error) => e);
    await waitFor('the launch forwarded to the silent platform', () => fwd.counts.accepted > accepted);
    giveUp.abort();
    expect(await abandoned).toMatchObject({ name: 'AbortError' });
    fwd.stall(0);
    // 2. A whole run after it, answered throughout (another account: the held launch may still reach the platform).
    await runCloudplayLauncher({ baseUrl: `${proxy.url}/cloudplay`, seed: 'played', traffic, token: 'soak-http-token-2', keepalives: 1, keepaliveIntervalMs: 10, pollIntervalMs: 20 });

    await waitFor('every stream sealed', () => recorder.stats(), { until: (s) => s.openStreams === 0 }).catch(() => undefined); // the expect below says what is left
    expect(recorder.stats()).toMatchObject({ openStreams: 0, failures: 0 });
    await ingest.waitUntilStored();
    const streams = await readStreams(
      store,
      recorder.openedStreams().map((s) => s.id),
    );
    for (const id of streams.keys()) expect(await verifySession(store, id)).toMatchObject({ ok: true });
    const http = httpExchanges(streams, traffic, redactor);
    const unanswered = 'POST /api/game/launch → undefined | {"gameSlug":"garden-of-forking-paths"} | ';
    expect(http.bot.filter((l) => l.includes('→ undefined'))).toEqual([unanswered]);
    expect(http.stored).toEqual(http.bot);
    // The store says why: the client went away before the answer.
    const markers = [...streams.values()].flat().filter((e) => e.kind === 'marker' && e.msgType === 'proxy-error');
    expect(markers.map((e) => e.body)).toEqual(['client went away before the response']);
    expect(reconcileHttp(http.bot, http.stored)).toMatchObject({ matched: http.bot.length, noAnswer: 1, neverReached: 0, lost: [], storeOnly: [] });
    expect(logs.filter((l) => l.startsWith('ERROR'))).toEqual([]);
  });

  it("a launch that never reached the proxy (connection refused) is the bot's alone: counted apart, not lost", async () => {
    const closed = await TcpForwarder.start('127.0.0.1', 1);
    const port = closed.port;
    await closed.close();
    const traffic = new TrafficLog();
    const failed = await runCloudplayLauncher({ baseUrl: `http://127.0.0.1:${port}/cloudplay`, seed: 'refused', traffic, token: 'soak-http-token-3' }).catch((e: Error) => e);
    expect(failed).toMatchObject({ message: 'fetch failed' });
    expect(traffic.entries.at(-1)?.meta).toMatchObject({ error: 'fetch failed (ECONNREFUSED)' });
    const bot = httpExchanges(new Map(), traffic, redactor).bot;
    expect(reconcileHttp(bot, [])).toMatchObject({ matched: 0, noAnswer: 1, neverReached: 1, lost: [] });
  });
});
