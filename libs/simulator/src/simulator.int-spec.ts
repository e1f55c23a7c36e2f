import * as net from 'node:net';
import WebSocket from 'ws';
import { RunningSimulator, startSimulator } from './simulator';

/** A port P with P … P + 4 free a moment ago (for a simulator on a fixed port and its four platform ports). */
async function freeRun(): Promise<number> {
  const canListen = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let all = true;
    for (let i = 0; i <= 4 && all; i++) all = await canListen(base + i);
    if (all) return base;
  }
  throw new Error('no run of five free ports found');
}

describe('simulator host', () => {
  let sut: RunningSimulator;
  beforeAll(async () => {
    sut = await startSimulator({ port: 0, seed: 'host-test', faults: [{ platform: 'rgs', fault: 'status-503', times: 1 }] });
  });
  afterAll(() => sut.close());

  it('serves each platform under its own base path', () => {
    expect(sut.baseUrl('moltstation')).toBe(`${sut.url}/moltstation`);
    expect(sut.baseUrl('spacemolt')).toBe(`${sut.url}/spacemolt`);
  });

  it('answers health and a clear 404 for unknown platforms', async () => {
    const health = await fetch(`${sut.url}/health`);
    expect(await health.json()).toEqual({ status: 'ok', platforms: ['moltstation', 'spacemolt', 'cloudplay', 'rgs'] });
    const unknown = await fetch(`${sut.url}/steam/api`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'not_found', message: expect.stringContaining('unknown platform "steam"') });
  });

  it('manages faults over HTTP and validates them', async () => {
    const listed = (await (await fetch(`${sut.url}/admin/faults`)).json()) as { faults: unknown[] };
    expect(listed.faults).toEqual([expect.objectContaining({ platform: 'rgs', fault: 'status-503', times: 1 })]);

    const created = await fetch(`${sut.url}/admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ platform: 'moltstation', fault: 'drop-socket', target: 'abc', params: { afterTicks: 3 } }),
    });
    expect(created.status).toBe(201);
    const fault = (await created.json()) as { id: number };
    expect(sut.faults.peek('moltstation', 'drop-socket', 'abc')).toMatchObject({ id: fault.id, params: { afterTicks: 3 } });

    const bad = await fetch(`${sut.url}/admin/faults`, { method: 'POST', body: '{"platform":"steam","fault":"x"}' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_fault' });
    const malformed = await fetch(`${sut.url}/admin/faults`, { method: 'POST', body: '{not json' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: 'invalid_json' });

    expect((await fetch(`${sut.url}/admin/faults/${fault.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await fetch(`${sut.url}/admin/faults/${fault.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${sut.url}/admin/faults`, { method: 'DELETE' })).status).toBe(200);
    expect(sut.faults.list()).toEqual([]);
  });

  it('refuses WebSocket upgrades to unknown paths with 404 and keeps serving', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${sut.url.replace('http', 'ws')}/nowhere/ws`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('upgrade to an unknown path was accepted')));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(404);
    expect((await fetch(`${sut.url}/health`)).status).toBe(200);
  });

  it('serves each platform at the root of a port of its own too, with the same answers as under its prefix', async () => {
    const same = async (platform: 'moltstation' | 'spacemolt' | 'cloudplay' | 'rgs', method: string, path: string) => {
      const root = await fetch(new URL(path, sut.rootUrl(platform)), { method });
      const prefixed = await fetch(`${sut.baseUrl(platform)}${path}`, { method });
      return { platform, root: root.status, prefixed: prefixed.status, rootType: root.headers.get('content-type'), prefixedType: prefixed.headers.get('content-type') };
    };
    const ports = new Set([sut.port]);
    for (const p of ['moltstation', 'spacemolt', 'cloudplay', 'rgs'] as const) {
      expect(sut.rootUrl(p)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      ports.add(Number(new URL(sut.rootUrl(p)).port));
    }
    expect(ports.size).toBe(5);
    for (const [platform, method, path, status] of [
      ['moltstation', 'POST', '/api/games/flappybots/auth/nonce', 200],
      ['spacemolt', 'GET', '/api/v2/openapi.json', 200],
      ['cloudplay', 'GET', '/api/game/sessions', 401],
      ['rgs', 'GET', '/nowhere', 404],
    ] as const) {
      const r = await same(platform, method, path);
      expect(r).toEqual({ platform, root: status, prefixed: status, rootType: r.prefixedType, prefixedType: expect.stringContaining('json') });
    }
    // A platform's own port is that platform's only: another platform's prefix is a path it does not know.
    expect((await fetch(`${sut.rootUrl('moltstation')}/spacemolt/api/v2/openapi.json`)).status).toBe(404);
  });

  it('puts the platform ports at port + 1 … + 4 for a fixed port, and has none with rootPorts: false', async () => {
    const base = await freeRun();
    const fixed = await startSimulator({ port: base, seed: 'host-fixed' });
    try {
      expect(['moltstation', 'spacemolt', 'cloudplay', 'rgs'].map((p) => fixed.rootUrl(p as 'moltstation'))).toEqual([1, 2, 3, 4].map((i) => `http://127.0.0.1:${base + i}`));
      expect((await fetch(`http://127.0.0.1:${base + 2}/api/v2/openapi.json`)).status).toBe(200);
    } finally {
      await fixed.close();
    }
    const off = await startSimulator({ port: base, seed: 'host-off', rootPorts: false });
    try {
      expect(() => off.rootUrl('spacemolt')).toThrow(/no port of its own/);
      await expect(fetch(`http://127.0.0.1:${base + 2}/api/v2/openapi.json`)).rejects.toThrow();
    } finally {
      await off.close();
    }
  });

  it('survives garbage on the socket', async () => {
    const net = await import('node:net');
    await new Promise<void>((resolve) => {
      const socket = net.connect(sut.port, '127.0.0.1', () => socket.end('NOT HTTP AT ALL\r\n\r\n'));
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    expect((await fetch(`${sut.url}/health`)).status).toBe(200);
  });
});
