import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { FaultRegistry } from '../core/faults';
import { createRng } from '../core/rng';
import type { PlatformSimulator } from '../core/types';
import { createSpaceMoltSimulatorWith, SpaceMoltOptions } from './index';

/** The platform mounted alone on a plain HTTP server, to test options the host does not expose. */
async function mount(options: SpaceMoltOptions, now: () => number = Date.now): Promise<{ url: string; close: () => Promise<void> }> {
  const sim: PlatformSimulator = createSpaceMoltSimulatorWith(options)({
    rng: createRng('factory'),
    seed: 'factory',
    faults: new FaultRegistry(),
    baseUrl: () => '',
    now,
    log: () => undefined,
  });
  const server = http.createServer((req, res) => {
    void (async () => {
      if (!(await sim.handleHttp(req, res, req.url ?? '/'))) {
        res.writeHead(404);
        res.end();
      }
    })();
  });
  server.on('upgrade', (req, socket, head) => {
    if (!sim.handleUpgrade(req, socket, head, req.url ?? '/')) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: async () => {
      await sim.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('SpaceMolt simulator factory options', () => {
  it('answers 404 with a JSON error when the OpenAPI files are absent (no crash)', async () => {
    const m = await mount({ specDir: '/nonexistent/spacemolt', tickMs: 1000 });
    try {
      for (const p of ['/api/v2/openapi.json', '/api/openapi.json']) {
        const r = await fetch(`${m.url}${p}`);
        expect(r.status).toBe(404);
        expect(r.headers.get('content-type')).toContain('application/json');
        expect(((await r.json()) as { error: unknown }).error).toEqual({ code: 'not_found', message: expect.stringContaining('/nonexistent/spacemolt') });
      }
      expect((await fetch(`${m.url}/healthz`)).status).toBe(200);
    } finally {
      await m.close();
    }
  });

  it('closes an idle connection (no frames, no pongs) with 1000; a client answering pings stays', async () => {
    const m = await mount({ tickMs: 1000, pingMs: 50, idleMs: 200 });
    try {
      const wsUrl = `${m.url.replace(/^http/, 'ws')}/ws`;
      const silent = new WebSocket(wsUrl, { autoPong: false });
      const polite = new WebSocket(wsUrl);
      const closed = await new Promise<{ code: number; reason: string }>((resolve) => silent.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
      expect(closed).toEqual({ code: 1000, reason: 'connection idle' });
      expect(polite.readyState).toBe(WebSocket.OPEN);
      polite.terminate();
    } finally {
      await m.close();
    }
  });

  it('on shutdown every client gets close 1000 "server going away"', async () => {
    const m = await mount({ tickMs: 1000 });
    const ws = new WebSocket(`${m.url.replace(/^http/, 'ws')}/ws`);
    await new Promise((resolve) => ws.once('message', resolve));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await m.close();
    expect(await closed).toEqual({ code: 1000, reason: 'server going away' });
  });

  it('HTTP sessions expire after 30 minutes of inactivity (session_invalid); use slides expires_at', async () => {
    let clock = Date.UTC(2026, 4, 28, 12, 0, 0);
    const m = await mount({ tickMs: 1000 }, () => clock);
    try {
      const post = async (p: string, session?: string, body?: unknown) => {
        const r = await fetch(`${m.url}${p}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(session ? { 'x-session-id': session } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
        return { status: r.status, json: (await r.json()) as any };
      };
      const s = (await post('/api/v2/session')).json.session.id as string;
      await post('/api/v2/spacemolt_auth/register', s, { username: 'clock_pilot', empire: 'solarian', registration_code: 'c' });
      clock += 29 * 60 * 1000;
      const alive = await post('/api/v2/spacemolt/get_status', s);
      expect(alive.status).toBe(200);
      expect(alive.json.session.expires_at).toBe(new Date(clock + 30 * 60 * 1000).toISOString());
      clock += 30 * 60 * 1000 + 1;
      const dead = await post('/api/v2/spacemolt/get_status', s);
      expect(dead.status).toBe(401);
      expect(dead.json.error.code).toBe('session_invalid');
    } finally {
      await m.close();
    }
  });

  it('refuses WebSocket upgrades on other paths', async () => {
    const m = await mount({ tickMs: 1000 });
    try {
      const ws = new WebSocket(`${m.url.replace(/^http/, 'ws')}/not-ws`);
      await expect(new Promise((resolve, reject) => (ws.on('open', resolve), ws.on('error', reject)))).rejects.toThrow();
    } finally {
      await m.close();
    }
  });
});
