import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { moltstation, TrafficLog } from '@rewind/agents';
import { metricsText } from '@rewind/observability';
import { startSimulator, RunningSimulator } from '@rewind/simulator';
import { testDatabaseUrl, waitFor } from '@rewind/testing';
import { byDirection, readStreams, wsSequences } from '@rewind/recorder/test-support';
import type { AdmissionSample } from './admission';
import { RunningRecorderService, startRecorderService } from './recorder-service';

/**
 * Graceful overload, end to end: the recorder's admission control is driven by an injected signal (the event-loop
 * delay of a sample source; storage, proxy and simulator are real). While it is closed, a new run's first request and a
 * new socket get `503` + `Retry-After` + `capture_overloaded`, each refusal is stored and counted, and a run accepted
 * before goes on relaying and recording; once the signal drops, admission reopens and new runs are taken again.
 */
describe('capture admission: the recorder refuses new captures while overloaded and keeps what it accepted', () => {
  let sim: RunningSimulator;
  let service: RunningRecorderService;
  let dataDir: string;
  const logs: string[] = [];
  const signal: AdmissionSample = { lagMs: 0, buffered: 0, bufferedBound: 50_000, loopDelayMs: 0, outage: false };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rewind-admission-'));
    sim = await startSimulator({ port: 0, seed: 'admission', platformOptions: { spacemolt: { tickMs: 50 } } });
    const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(`ERROR ${m}`) };
    service = await startRecorderService({
      databaseUrl: testDatabaseUrl(),
      proxyPort: 0,
      upstreams: { moltstation: sim.baseUrl('moltstation'), spacemolt: sim.baseUrl('spacemolt') },
      dataDir,
      instance: 'admission',
      redactionKey: randomBytes(32),
      sealAfterMs: 300,
      accountIdleMs: 300,
      admission: { sample: () => ({ ...signal }), sampleMs: 25, maxLoopDelayMs: 1000, closeAfterMs: 100, reopenShare: 0.5, reopenAfterMs: 400 },
      log,
    });
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await sim?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = (): Promise<Response> =>
    fetch(`${service.proxyUrl}/moltstation/api/games/flappybots/sessions/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 'browser_ws' }) });

  it('refuses a new run and a new socket with 503 while closed, records and counts each refusal, keeps the accepted run whole, and reopens when the signal drops', async () => {
    // A run accepted while admission is open: it plays for several seconds.
    const traffic = new TrafficLog();
    const bot = moltstation.runFlappyBotsFlapper({ baseUrl: `${service.proxyUrl}/moltstation`, seed: 'admitted', traffic, stopAfterTick: 160 });
    await waitFor('the accepted run to be playing', () => traffic.entries.filter((e) => e.channel === 'ws' && e.direction === 'received').length >= 10, 20_000);
    const framesBefore = traffic.entries.filter((e) => e.channel === 'ws').length;

    // Overload: the event loop is late by 5 s (over the 1 s threshold).
    signal.loopDelayMs = 5000;
    await waitFor('admission to close', () => service.admission?.open === false);
    expect(logs.filter((l) => l.includes('capture admission: CLOSED (event_loop_delay)'))).toHaveLength(1);

    // A new run's first request: refused, with Retry-After and the JSON body; nothing reached the platform (which would say 401).
    const refused = await start();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ error: 'capture_overloaded', reason: 'event_loop_delay', retryAfterS: 1 });
    // A new socket (a SpaceMolt connection is a new run): refused at the upgrade.
    const upgrade = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const ws = new WebSocket(`${service.proxyUrl.replace(/^http/, 'ws')}/spacemolt/ws`);
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.on('open', () => reject(new Error('the upgrade was admitted')));
      ws.on('error', () => undefined);
    });
    expect(upgrade.status).toBe(503);
    expect(JSON.parse(upgrade.body)).toMatchObject({ error: 'capture_overloaded' });
    // The accepted run goes on meanwhile: more of its messages are relayed.
    await waitFor('the accepted run to go on relaying', () => traffic.entries.filter((e) => e.channel === 'ws').length > framesBefore + 20, 20_000);
    // Requests of the accepted run's platform that open no run pass (its live list, here).
    expect((await fetch(`${service.proxyUrl}/moltstation/api/games/flappybots/sessions/live`)).status).not.toBe(503);

    const metrics = await metricsText();
    expect(metrics).toMatch(/rewind_capture_refused_total\{platform="moltstation",reason="event_loop_delay"\} [1-9]/);
    expect(metrics).toMatch(/rewind_capture_refused_total\{platform="spacemolt",reason="event_loop_delay"\} [1-9]/);
    expect(metrics).toMatch(/rewind_capture_admission_open 0/);
    expect(service.stats().admission).toMatchObject({ open: false, reason: 'event_loop_delay', refused: 2, closings: 1 });

    // The signal drops below half its threshold: admission reopens after 400 ms of calm, once.
    signal.loopDelayMs = 700; // between the two levels: still closed
    await waitFor('a few samples at 700 ms', () => service.stats().admission?.sample?.loopDelayMs === 700);
    expect(service.admission?.open).toBe(false);
    signal.loopDelayMs = 10;
    await waitFor('admission to reopen', () => service.admission?.open === true, 10_000);
    expect(logs.filter((l) => l.includes('capture admission: reopened'))).toHaveLength(1);
    // Forwarded again: the platform answers it itself (401: this request carries no agent's credentials).
    expect((await start()).status).toBe(401);
    expect(await metricsText()).toMatch(/rewind_capture_admission_open 1/);

    // The accepted run ends on its own and is stored whole, each direction byte for byte and in order, in one stream.
    await bot;
    await waitFor('every stream sealed', () => service.stats().recorder.openStreams === 0, 30_000);
    await service.ingest.waitUntilStored();
    const streams = await readStreams(
      service.store,
      service.recorder.openedStreams().map((s) => s.id),
    );
    const runStreams = [...streams].filter(([, events]) => events.some((e) => e.kind === 'frame' && traffic.entries.some((t) => t.data === e.body)));
    expect(runStreams).toHaveLength(1);
    const ws = wsSequences(new Map(runStreams), traffic, service.redactor);
    expect(ws.stored.length).toBeGreaterThan(40);
    expect(byDirection(ws.stored)).toEqual(byDirection(ws.bot));

    // Each refusal is in the audit trail: a proxy-error marker at stage `admission` with the exact 503 answer.
    const markers = [...streams.values()].flat().filter((e) => e.meta?.includes('"stage":"admission"'));
    expect(markers).toHaveLength(2);
    for (const m of markers) {
      expect(JSON.parse(m.meta as string)).toMatchObject({ stage: 'admission', status: 503, answeredBy: 'proxy' });
      expect(JSON.parse(String(m.body))).toMatchObject({ error: 'capture_overloaded' });
    }
  }, 120_000);
});
