import { freePorts, spawnRewind } from '@rewind/testing';

describe('rewind up (the CLI, as a user runs it)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('serves health, prints where to look, and stops cleanly on %s', async (signal) => {
    const [port, proxyPort, simPort, replayMolt, replaySpace] = (await freePorts(5)) as [number, number, number, number, number];
    const cli = spawnRewind(['up'], {
      REWIND_API_PORT: String(port),
      REWIND_REPLAY_PORT_MOLTSTATION: String(replayMolt),
      REWIND_REPLAY_PORT_SPACEMOLT: String(replaySpace),
      REWIND_PROXY_PORT: String(proxyPort),
      SIMULATOR_PORT: String(simPort),
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
    } finally {
      cli.kill(signal);
    }
    expect(await cli.exited).toBe(0);
    expect(cli.stderr).toContain('rewind: stopped');
    expect(cli.stderr).not.toMatch(/Error/);
  });
});
