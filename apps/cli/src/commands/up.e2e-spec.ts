import { freePorts, spawnRewind } from '@rewind/testing';

describe('rewind up (the CLI, as a user runs it)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('serves health, prints where to look, and stops cleanly on %s', async (signal) => {
    const [port, proxyPort, simPort, moltPort, cloudPort, replayMolt, replaySpace] = (await freePorts(7)) as [number, number, number, number, number, number, number];
    const cli = spawnRewind(['up'], {
      REWIND_API_PORT: String(port),
      REWIND_REPLAY_PORT_MOLTSTATION: String(replayMolt),
      REWIND_REPLAY_PORT_SPACEMOLT: String(replaySpace),
      REWIND_PROXY_PORT: String(proxyPort),
      // Free ports (the defaults 8181… would clash with other runs in parallel); 0 turns a platform's listener off.
      REWIND_PROXY_PORT_MOLTSTATION: String(moltPort),
      REWIND_PROXY_PORT_SPACEMOLT: '0',
      REWIND_PROXY_PORT_CLOUDPLAY: String(cloudPort),
      REWIND_PROXY_PORT_RGS: '0',
      SIMULATOR_PORT: String(simPort),
      SIMULATOR_PLATFORM_PORTS: '0',
      REWIND_CAPTURE_QUEUE: `up-e2e-${port}`,
      REWIND_QUEUE_PREFIX: `up-e2e-${port}`,
    });
    try {
      await cli.waitFor('Press Ctrl-C to stop.');
      expect(cli.stdout).toContain(`API       http://127.0.0.1:${port}`);
      expect(cli.stdout).toMatch(/Postgres {2}postgresql:\/\/rewind:\*\*\*@/);
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(res.status).toBe(200);
      expect(cli.stdout).toContain(`Proxy     http://127.0.0.1:${proxyPort}/<platform>/…`);
      expect(cli.stdout).toContain(`Replay    ws://127.0.0.1:${port}/replay/<sessionId>  (API key in .rewind/api-key)`);
      // The replay gateway's per-platform ports: printed, and serving their platform's paths at the root (404 elsewhere).
      expect(cli.stdout).toContain(`  moltstation http://127.0.0.1:${replayMolt}  (a spectate page's base`);
      expect(cli.stdout).toContain(`  spacemolt ws://127.0.0.1:${replaySpace}/ws?sessionId=<sessionId>`);
      const token = await fetch(`http://127.0.0.1:${replayMolt}/api/games/flappybots/sessions/none/spectate-token`, { method: 'POST' });
      expect(token.status).toBe(401); // the replay base's guard: an API key is required
      expect((await fetch(`http://127.0.0.1:${replaySpace}/nowhere`)).status).toBe(404);
      expect(cli.stdout).toContain(`Viewer    http://127.0.0.1:${port}/  (recorded runs in a browser`);
      const viewer = await fetch(`http://127.0.0.1:${port}/`);
      expect({ status: viewer.status, type: viewer.headers.get('content-type') }).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
      // No platform listens on the default upstream (the simulator is not part of \`up\`): a clear 502.
      const viaProxy = await fetch(`http://127.0.0.1:${proxyPort}/cloudplay/api/game/sessions`);
      expect(viaProxy.status).toBe(502);
      // The per-platform ports are printed and serve the platform's own paths at the root (same 502: same upstream).
      expect(cli.stdout).toContain(`  moltstation http://127.0.0.1:${moltPort}/…  →  http://127.0.0.1:${simPort}/moltstation`);
      expect(cli.stdout).toContain(`  cloudplay http://127.0.0.1:${cloudPort}/…  →  http://127.0.0.1:${simPort}/cloudplay`);
      expect(cli.stdout).not.toMatch(/ {2}spacemolt +http:\/\/127\.0\.0\.1:\d+\/…/);
      const atRoot = await fetch(`http://127.0.0.1:${cloudPort}/api/game/sessions`);
      expect({ status: atRoot.status, body: await atRoot.json() }).toEqual({ status: 502, body: expect.objectContaining({ error: 'upstream_unreachable' }) });
    } finally {
      cli.kill(signal);
    }
    expect(await cli.exited).toBe(0);
    expect(cli.stderr).toContain('rewind: stopped');
    expect(cli.stderr).not.toMatch(/Error/);
  });
});
