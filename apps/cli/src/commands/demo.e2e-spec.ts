import { DEMO_BOTS } from '@rewind/agents';
import { spawnRewind } from '@rewind/testing';

describe('rewind demo (the README command, as a user runs it)', () => {
  it('serves the four platforms, bots complete runs, and it stops cleanly', async () => {
    const apiPort = 20000 + Math.floor(Math.random() * 2000);
    const simPort = apiPort + 2000;
    // The seed is pinned: the simulator's cloud-play cache layout, and so its launch times, derive from it.
    const cli = spawnRewind(['demo', '--seconds', '25'], {
      REWIND_API_PORT: String(apiPort),
      SIMULATOR_PORT: String(simPort),
      SIMULATOR_SEED: 'rewind',
      SIMULATOR_FAULTS: '',
    });
    await cli.waitFor('Stopping after 25 s.');
    for (const platform of ['moltstation', 'spacemolt', 'cloudplay', 'rgs']) {
      expect(cli.stdout).toContain(`${platform.padEnd(12)} http://127.0.0.1:${simPort}/${platform}`);
    }
    expect(cli.stdout).toContain(`bots         ${DEMO_BOTS.map((b) => b.name).join(', ')}`);
    expect((await fetch(`http://127.0.0.1:${simPort}/health`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${apiPort}/health/ready`)).status).toBe(200);

    expect(await cli.exited).toBe(0);
    // Every bot, on every platform, finished at least one run, and none failed.
    const counts = JSON.parse(/bot runs: (\{.*\})/.exec(cli.stderr)?.[1] ?? '{}') as Record<string, { ok: number; failed: number }>;
    for (const bot of DEMO_BOTS) {
      expect({ bot: bot.name, failed: counts[bot.name]?.failed }).toEqual({ bot: bot.name, failed: 0 });
      expect(counts[bot.name]?.ok ?? 0).toBeGreaterThanOrEqual(1);
    }
    expect(cli.stderr).toContain('rewind: stopped');
  }, 90_000);
});
