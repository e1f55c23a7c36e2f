import WebSocket from 'ws';
import { RunningSimulator, startSimulator } from './simulator';

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
