import { DEMO_BOTS } from '@rewind/agents';
import { EventStore, verifySession } from '@rewind/event-store';
import { Queue } from 'bullmq';
import { createTestPool, freePorts, spawnRewind, testRedisUrl, waitFor } from '@rewind/testing';

describe('rewind demo (the README command, as a user runs it)', () => {
  it('serves the four platforms, bots complete runs, and it stops cleanly', async () => {
    const [apiPort, simPort, proxyPort, replayMolt, replaySpace, ...rootPorts] = (await freePorts(9)) as [number, number, number, number, number, number, number, number, number];
    const startedAt = new Date();
    // The seed is pinned: the simulator's cloud-play cache layout, and so its launch times, derive from it.
    const cli = spawnRewind(['demo', '--seconds', '25'], {
      REWIND_API_PORT: String(apiPort),
      SIMULATOR_PORT: String(simPort),
      SIMULATOR_SEED: 'rewind',
      SIMULATOR_FAULTS: '',
      REWIND_PROXY_PORT: String(proxyPort),
      // Free ports for the per-platform listeners (the defaults would clash with other runs in parallel).
      REWIND_PROXY_PORT_MOLTSTATION: String(rootPorts[0]),
      REWIND_PROXY_PORT_SPACEMOLT: String(rootPorts[1]),
      REWIND_PROXY_PORT_CLOUDPLAY: String(rootPorts[2]),
      REWIND_PROXY_PORT_RGS: String(rootPorts[3]),
      SIMULATOR_PLATFORM_PORTS: '0',
      REWIND_REPLAY_PORT_MOLTSTATION: String(replayMolt),
      REWIND_REPLAY_PORT_SPACEMOLT: String(replaySpace),
      REWIND_CAPTURE_QUEUE: `demo-e2e-${apiPort}`,
      REWIND_QUEUE_PREFIX: `demo-e2e-${apiPort}`,
      REWIND_SEAL_AFTER_MS: '1000',
    });
    await cli.waitFor('Stopping after 25 s.');
    for (const platform of ['moltstation', 'spacemolt', 'cloudplay', 'rgs']) {
      expect(cli.stdout).toContain(`${platform.padEnd(12)} http://127.0.0.1:${proxyPort}/${platform}  →  http://127.0.0.1:${simPort}/${platform}`);
    }
    ['moltstation', 'spacemolt', 'cloudplay', 'rgs'].forEach((platform, i) =>
      expect(cli.stdout).toContain(`${platform.padEnd(12)} http://127.0.0.1:${rootPorts[i]}/…  →  http://127.0.0.1:${simPort}/${platform}`),
    );
    expect(cli.stdout).toContain(`  moltstation http://127.0.0.1:${replayMolt}  (a spectate page's base`);
    expect(cli.stdout).toContain(`  spacemolt  ws://127.0.0.1:${replaySpace}/ws?sessionId=<sessionId>`);
    expect(cli.stdout).toContain(`bots         ${DEMO_BOTS.map((b) => b.name).join(', ')}`);
    expect((await fetch(`http://127.0.0.1:${simPort}/health`)).status).toBe(200);
    // Ready while it runs (a probe may miss its deadline once on a loaded machine: wait for a ready answer).
    await waitFor('the API ready', async () => (await fetch(`http://127.0.0.1:${apiPort}/health/ready`)).status, { until: (status) => status === 200, timeoutMs: 30_000 });

    expect(await cli.exited).toBe(0);
    // Every bot, on every platform, finished at least one run, and none failed.
    const counts = JSON.parse(/bot runs: (\{.*\})/.exec(cli.stderr)?.[1] ?? '{}') as Record<string, { ok: number; failed: number }>;
    for (const bot of DEMO_BOTS) {
      expect({ bot: bot.name, failed: counts[bot.name]?.failed }).toEqual({ bot: bot.name, failed: 0 });
      expect(counts[bot.name]?.ok ?? 0).toBeGreaterThanOrEqual(1);
    }
    expect(cli.stderr).toContain('rewind: stopped');

    // What the bots played through the proxy is recorded: runs of every platform, chains intact; the
    // MoltStation runs also have the spectator's stream; ended runs carry their outcome.
    const pool = createTestPool(2);
    try {
      const { rows } = await pool.query<{ id: string; platform: string; status: string; captured_by: string; outcomes: number }>(
        `SELECT s.id, s.platform, s.status, s.metadata->>'capturedBy' AS captured_by,
                (SELECT count(*)::int FROM events e WHERE e.session_id = s.id AND e.kind = 'outcome') AS outcomes
           FROM sessions s WHERE s.started_at >= $1 AND s.metadata->>'stream' = 'run'`,
        [startedAt],
      );
      const by = (platform: string, capturedBy: string) => rows.filter((r) => r.platform === platform && r.captured_by === capturedBy);
      for (const platform of ['moltstation', 'spacemolt', 'cloudplay', 'rgs']) expect({ platform, runs: by(platform, 'proxy').length > 0 }).toEqual({ platform, runs: true });
      expect(by('moltstation', 'spectator').length).toBeGreaterThan(0);
      for (const platform of ['moltstation', 'spacemolt', 'cloudplay']) {
        expect({ platform, ended: by(platform, 'proxy').some((r) => r.status !== 'open' && r.outcomes === 1) }).toEqual({ platform, ended: true });
      }
      const store = new EventStore(pool);
      for (const r of rows) expect({ id: r.id, ok: (await verifySession(store, r.id))?.ok }).toEqual({ id: r.id, ok: true });
      // The runs that ended were handed to the pipeline: their handoff jobs exist under this run's prefix.
      const rewards = new Queue('reward-handoff', { connection: { url: testRedisUrl() }, prefix: `demo-e2e-${apiPort}` });
      const capture = new Queue(`demo-e2e-${apiPort}`, { connection: { url: testRedisUrl() }, prefix: 'rewind' });
      try {
        const counts = await rewards.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
        expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      } finally {
        for (const q of [rewards, capture]) {
          await q.obliterate({ force: true });
          await q.close();
        }
      }
    } finally {
      await pool.end();
    }
  }, 240_000);
});
