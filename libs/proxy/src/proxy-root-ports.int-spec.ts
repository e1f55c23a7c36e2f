/**
 * A platform at the root of a port of its own (`platformPorts`): the same forwarding and the same facts as the
 * prefixed form, and an unknown WebSocket upgrade path answered 404 at once on every listener (proxy and simulator).
 */
import * as http from 'node:http';
import * as net from 'node:net';
import WebSocket from 'ws';
import { startSimulator, type RunningSimulator } from '@rewind/simulator';
import { RecordingSink } from './test-helpers';
import { startRecordingProxy } from './server';
import type { RunningRecordingProxy } from './types';

/** The status of a refused upgrade and how long it took; an accepted upgrade fails the test. */
function upgradeStatus(url: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (req, res) => {
      resolve({ status: res.statusCode ?? 0, ms: performance.now() - started });
      req.destroy();
    });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error(`upgrade to ${url} was accepted`));
    });
    ws.on('error', (e) => reject(e));
  });
}

describe('recording proxy: a platform at the root of its own port', () => {
  let sim: RunningSimulator;
  let proxy: RunningRecordingProxy;
  const sink = new RecordingSink();

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 'proxy-root-ports' });
    // A long upstream timeout: a refused upgrade that came back only after it would be a hang, not an answer.
    proxy = await startRecordingProxy({
      port: 0,
      platformPorts: { moltstation: 0, spacemolt: 0 },
      upstreams: { moltstation: sim.baseUrl('moltstation'), spacemolt: sim.baseUrl('spacemolt'), rgs: sim.baseUrl('rgs') },
      sink,
      upstreamTimeoutMs: 30_000,
    });
  });
  afterAll(async () => {
    await proxy.close();
    await sim.close();
  });

  it('reports a URL per platform port, serves the platform paths at the root, and records them as the prefixed form does', async () => {
    expect(Object.keys(proxy.platformUrls).sort()).toEqual(['moltstation', 'spacemolt']);
    const root = proxy.platformUrls.moltstation!;
    expect(root).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(root).not.toBe(proxy.url);

    const before = sink.facts.length;
    const viaRoot = await fetch(new URL('/api/games/flappybots/auth/nonce', root), { method: 'POST' });
    const viaPrefix = await fetch(`${proxy.url}/moltstation/api/games/flappybots/auth/nonce`, { method: 'POST' });
    expect(viaRoot.status).toBe(viaPrefix.status);
    expect(Object.keys((await viaRoot.json()) as object).sort()).toEqual(Object.keys((await viaPrefix.json()) as object).sort());
    const requests = sink.facts.slice(before).filter((f) => f.type === 'http-request');
    expect(requests.map((f) => ({ platform: f.platform, path: f.type === 'http-request' ? f.path : '' }))).toEqual([
      { platform: 'moltstation', path: '/api/games/flappybots/auth/nonce' },
      { platform: 'moltstation', path: '/api/games/flappybots/auth/nonce' },
    ]);

    // The root of a platform's port is that platform's: another platform's prefix is just a path it does not know.
    const foreign = await fetch(new URL('/rgs/game/launch', root));
    expect(foreign.status).toBe(404);
    expect(sink.facts.some((f) => f.type === 'http-request' && f.platform === 'moltstation' && f.path === '/rgs/game/launch')).toBe(true);
    // The usual refusals hold at the root too (sent raw: fetch would resolve the dot segments itself).
    const dots = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: Number(new URL(root).port), path: '/api/%2e%2e/x' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
    expect({ status: dots.status, body: JSON.parse(dots.body) }).toEqual({ status: 400, body: expect.objectContaining({ error: 'bad_path' }) });
  });

  it('relays a WebSocket at the root with the platform path recorded as the prefixed form records it', async () => {
    const ws = new WebSocket(new URL('/ws', proxy.platformUrls.spacemolt!.replace('http', 'ws')));
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (d: Buffer) => resolve(d.toString('utf8')));
      ws.once('error', reject);
    });
    expect(JSON.parse(first)).toMatchObject({ type: 'welcome' });
    ws.close(1000);
    await new Promise((r) => ws.once('close', r));
    const open = sink.of('ws-open').find((f) => f.platform === 'spacemolt');
    expect(open).toMatchObject({ platform: 'spacemolt', path: '/ws' });
  });

  it('answers an unknown WebSocket upgrade path with an HTTP 404 at once, on every kind of listener', async () => {
    const ws = (u: string) => u.replace(/^http/, 'ws');
    const cases = {
      // prefixed proxy listener: not a platform → the proxy's own 404
      proxyPrefixed: await upgradeStatus(`${ws(proxy.url)}/nowhere/ws`),
      // prefixed proxy listener, a platform without that path → the platform's 404, relayed
      proxyPrefixedPlatform: await upgradeStatus(`${ws(proxy.url)}/moltstation/nowhere`),
      // a platform's own proxy port: the platform's 404, relayed
      proxyRoot: await upgradeStatus(`${ws(proxy.platformUrls.moltstation!)}/nowhere`),
      proxyRootBadSlug: await upgradeStatus(`${ws(proxy.platformUrls.moltstation!)}/ws/no-such-game/play?sessionId=x`),
      proxyRootNoWs: await upgradeStatus(`${ws(proxy.url)}/rgs/ws`),
      // the simulator's prefixed layout and a platform's own simulator port
      simPrefixed: await upgradeStatus(`${ws(sim.url)}/nowhere/ws`),
      simRoot: await upgradeStatus(`${ws(sim.rootUrl('moltstation'))}/nowhere`),
      simRootNoWs: await upgradeStatus(`${ws(sim.rootUrl('cloudplay'))}/ws`),
    };
    for (const [where, r] of Object.entries(cases)) expect({ where, status: r.status, quick: r.ms < 5_000 }).toEqual({ where, status: 404, quick: true });
  });

  it('refuses a platform port without an upstream, and a port in use, leaving nothing listening', async () => {
    await expect(startRecordingProxy({ port: 0, platformPorts: { rgs: 0 }, upstreams: { moltstation: sim.baseUrl('moltstation') }, sink })).rejects.toThrow(
      /a port of its own for rgs needs an upstream for rgs/,
    );
    const taken = Number(new URL(proxy.platformUrls.spacemolt!).port);
    const fresh = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    await expect(startRecordingProxy({ port: fresh, platformPorts: { spacemolt: taken }, upstreams: { spacemolt: sim.baseUrl('spacemolt') }, sink })).rejects.toThrow(
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken} for spacemolt \\(EADDRINUSE\\)`),
    );
    // The prefixed listener that had started was closed again: its port is free.
    await new Promise<void>((resolve, reject) => {
      const s = net
        .createServer()
        .once('error', reject)
        .listen(fresh, '127.0.0.1', () => s.close(() => resolve()));
    });
  });
});
