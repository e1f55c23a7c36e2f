import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RunningSimulator, startSimulator } from '@rewind/simulator';
import { TrafficLog } from '../traffic-log';
import { CloudplayBotError, createCloudplayDemoBot, retryAfterMs, runCloudplayLauncher } from './index';

const TOKEN = 'bot-token-0001';
const SPEEDUP = 1000;

/**
 * The simulator on a clock running 1000× faster than the wall: its documented real constants (downloads
 * up to 60 s, 30-minute idle timeout) pass in milliseconds while the bot keeps real timers.
 */
async function fastSimulator(): Promise<RunningSimulator> {
  const origin = Date.now();
  return startSimulator({ port: 0, seed: 'bot-test', now: () => origin + (Date.now() - origin) * SPEEDUP });
}

const FAST = { pollIntervalMs: 5, keepaliveIntervalMs: 20, keepalives: 3 };

async function raw(sim: RunningSimulator, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${sim.baseUrl('cloudplay')}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('cloud-play launcher bot', () => {
  let sim: RunningSimulator;
  beforeEach(async () => {
    sim = await fastSimulator();
  });
  afterEach(async () => {
    await sim.close();
  });

  it('launches, sees starting → running, keeps alive, stops and reads the statistics; logs all traffic', async () => {
    const traffic = new TrafficLog();
    const lines: string[] = [];
    const result = await runCloudplayLauncher({ baseUrl: sim.baseUrl('cloudplay'), token: TOKEN, traffic, log: (l) => lines.push(l), ...FAST });

    expect(result.sessionId).toMatch(/^ses[0-9a-z]{21}$/);
    expect(result.transitions.map((t) => t.status)).toEqual(['starting', 'running', 'stopped']);
    expect(result.keepalives).toHaveLength(3);
    for (const e of result.keepalives) expect(e).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(result.stop.status).toBe('stopped');
    expect(result.stop.duration).toBeGreaterThan(0);
    expect(result.stop.cpuSeconds).toBeGreaterThan(0);
    expect(result.stop.peakMemoryMb).toBeGreaterThan(0);
    expect(result.retries).toBe(0);

    // Every request has its response, paired by seq, with method/path/status; bodies as on the wire.
    const sent = traffic.entries.filter((e) => e.direction === 'sent');
    const received = traffic.entries.filter((e) => e.direction === 'received');
    expect(sent.length).toBe(received.length);
    sent.forEach((req, i) => {
      const res = received[i]!;
      expect(res.meta?.['seq']).toBe(req.meta?.['seq']);
      expect(res.stream).toBe(req.stream);
      expect(typeof res.meta?.['status']).toBe('number');
      expect(req.channel).toBe('http');
    });
    const launchReq = traffic.of('POST /api/game/launch');
    expect(launchReq[0]!.data).toBe('{"gameSlug":"garden-of-forking-paths"}');
    expect(launchReq[1]!.meta?.['status']).toBe(202);
    expect(JSON.parse(launchReq[1]!.data as string)).toEqual({ sessionId: result.sessionId, status: 'starting' });
    const getStatus = traffic.entries.find((e) => e.meta?.['method'] === 'GET' && e.direction === 'sent')!;
    expect(getStatus.data).toBe('');
    const stopRes = traffic.of('POST /api/game/stop').at(-1)!;
    expect(JSON.parse(stopRes.data as string)).toEqual(result.stop);
    expect(traffic.of('POST /api/game/keepalive')).toHaveLength(6);
    expect(lines.some((l) => l.includes('POST /api/game/launch'))).toBe(true);
  });

  it('waits out a 429 for its Retry-After and then launches', async () => {
    sim.faults.add({ platform: 'cloudplay', fault: 'status-429', params: { retryAfter: 1 }, times: 1 });
    const traffic = new TrafficLog();
    const t0 = Date.now();
    const result = await runCloudplayLauncher({ baseUrl: sim.baseUrl('cloudplay'), token: TOKEN, traffic, ...FAST, keepalives: 1 });
    expect(result.retries).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    const launches = traffic.of('POST /api/game/launch').filter((e) => e.direction === 'received');
    expect(launches.map((e) => e.meta?.['status'])).toEqual([429, 202]);
    expect(JSON.parse(launches[0]!.data as string)).toEqual({ error: 'rate_limited', message: expect.any(String) });
    expect(result.transitions.at(-1)?.status).toBe('stopped');
  });

  it('on 409 stops the active session and launches again (default)', async () => {
    const existing = await raw(sim, 'POST', '/api/game/launch', { gameSlug: 'the-aleph' });
    expect(existing.status).toBe(202);
    const traffic = new TrafficLog();
    const result = await runCloudplayLauncher({ baseUrl: sim.baseUrl('cloudplay'), token: TOKEN, traffic, ...FAST, keepalives: 1 });
    expect(result.stoppedConflicting).toEqual([existing.json.sessionId]);
    expect(result.sessionId).not.toBe(existing.json.sessionId);
    expect(result.reused).toBe(false);
    expect(
      traffic
        .of('POST /api/game/launch')
        .filter((e) => e.direction === 'received')
        .map((e) => e.meta?.['status']),
    ).toEqual([409, 202]);
    expect((await raw(sim, 'GET', `/api/game/session-status?sessionId=${existing.json.sessionId}`)).json.status).toBe('stopped');
  });

  it('on 409 with onConflict "reuse" continues the active session of the same game', async () => {
    const existing = await raw(sim, 'POST', '/api/game/launch', { gameSlug: 'garden-of-forking-paths' });
    const result = await runCloudplayLauncher({ baseUrl: sim.baseUrl('cloudplay'), token: TOKEN, onConflict: 'reuse', ...FAST, keepalives: 1 });
    expect(result.reused).toBe(true);
    expect(result.sessionId).toBe(existing.json.sessionId);
    expect(result.stop.status).toBe('stopped');
    expect(result.transitions.map((t) => t.status)).toContain('running');
  });

  it('rejects with the answer when the launch is refused (unknown game), and on a failed launch', async () => {
    const err = await runCloudplayLauncher({ baseUrl: sim.baseUrl('cloudplay'), token: TOKEN, gameSlug: 'no-such-game', ...FAST }).catch((e) => e);
    expect(err).toBeInstanceOf(CloudplayBotError);
    expect(err.status).toBe(404);
    expect(JSON.parse(err.body)).toMatchObject({ error: 'not_found' });

    sim.faults.add({ platform: 'cloudplay', fault: 'fail-launch', times: 1 });
    await expect(runCloudplayLauncher({ baseUrl: sim.baseUrl('cloudplay'), token: TOKEN, ...FAST })).rejects.toThrow(/ended in error/);
  });

  it('works through any base URL (a pass-through proxy under another prefix)', async () => {
    const target = new URL(sim.baseUrl('cloudplay'));
    const proxy = http.createServer((req, res) => {
      const path = (req.url ?? '/').replace(/^\/elsewhere\/cp/, target.pathname);
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (proxy.address() as AddressInfo).port;
      const traffic = new TrafficLog();
      const result = await runCloudplayLauncher({ baseUrl: `http://127.0.0.1:${port}/elsewhere/cp/`, token: TOKEN, traffic, ...FAST, keepalives: 1 });
      expect(result.stop.status).toBe('stopped');
      expect(traffic.entries[0]!.meta).toMatchObject({ method: 'POST', path: '/api/game/launch' });
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it('runs as a demo bot and summarises the run in one line', async () => {
    const bot = createCloudplayDemoBot(FAST);
    expect(bot.platform).toBe('cloudplay');
    const summary = await bot.run({ baseUrl: sim.baseUrl('cloudplay'), seed: 'demo/1' });
    expect(summary).toMatch(/^ses[0-9a-z]{21} starting→running→stopped: \d+ s, [\d.]+ cpu-s, \d+ MB peak$/);
  });

  it('stops early when aborted', async () => {
    const controller = new AbortController();
    const run = runCloudplayLauncher({ baseUrl: sim.baseUrl('cloudplay'), token: TOKEN, signal: controller.signal, ...FAST, keepaliveIntervalMs: 10_000 });
    setTimeout(() => controller.abort(), 100);
    await expect(run).rejects.toThrow(/abort/i);
  });
});

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(retryAfterMs('7')).toBe(7000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    const ms = retryAfterMs(new Date(Date.now() + 5000).toUTCString())!;
    expect(ms).toBeGreaterThan(3000);
    expect(ms).toBeLessThanOrEqual(5000);
  });
});
