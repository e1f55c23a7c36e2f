import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRng, FaultRegistry } from '../index';
import { createRgsSimulatorWith } from './index';

/** The factory with non-default options, mounted on a bare HTTP server the way the host mounts it. */
describe('RGS simulator options', () => {
  let server: http.Server;
  let base: string;
  let clock = 0;

  beforeEach(async () => {
    clock = Date.parse('2026-01-01T00:00:00Z');
    const rgs = createRgsSimulatorWith({ sessionTtlMs: 5_000, operatorKey: 'k2', iframeBase: 'https://games.example/play', maxBodyBytes: 256 })({
      rng: createRng('opts'),
      seed: 'opts',
      faults: new FaultRegistry(),
      baseUrl: () => base,
      now: () => clock,
      log: () => undefined,
    });
    server = http.createServer((req, res) => {
      void (async () => {
        const path = (req.url ?? '/').replace(/^\/rgs/, '') || '/';
        if (!(await rgs.handleHttp(req, res, path))) res.writeHead(404).end();
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rgs`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const post = (path: string, auth: string, body: unknown) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('uses the configured operator key, iframe base, session TTL and body limit', async () => {
    expect((await post('/operator/launch', 'rgs-operator-dev-key', { playerId: 'p', gameCode: 'dice-alpha' })).status).toBe(401);
    const launch = await post('/operator/launch', 'k2', { playerId: 'p', gameCode: 'dice-alpha' });
    const { launchUrl, expiresAt } = (await launch.json()) as { launchUrl: string; expiresAt: string };
    expect(launchUrl.startsWith('https://games.example/play/dice?sessionToken=')).toBe(true);
    expect(expiresAt).toBe('2026-01-01T00:00:05Z');
    const token = new URL(launchUrl).searchParams.get('sessionToken')!;
    const big = await post('/game/play', token, { pad: 'x'.repeat(300) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toBe('payload_too_large');
    clock += 5_001;
    const expired = await post('/game/current', token, {});
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { error: string }).error).toBe('session_expired');
  });
});
