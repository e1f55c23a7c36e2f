import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { DEMO_BOTS } from '@rewind/agents';
import { testDatabaseUrl, testRedisUrl } from '@rewind/testing';

const root = path.resolve(__dirname, '../../../..');

describe('rewind demo (the README command, as a user runs it)', () => {
  it('serves the four platforms, bots complete runs, and it stops cleanly', async () => {
    const apiPort = 20000 + Math.floor(Math.random() * 2000);
    const simPort = apiPort + 2000;
    const child = spawn(path.join(root, 'rewind'), ['demo', '--seconds', '25'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: testDatabaseUrl(), REDIS_URL: testRedisUrl(), REWIND_API_PORT: String(apiPort), SIMULATOR_PORT: String(simPort), SIMULATOR_SEED: 'rewind', SIMULATOR_FAULTS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    const deadline = Date.now() + 30_000;
    while (!stdout.includes('Stopping after 25 s.') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const platform of ['moltstation', 'spacemolt', 'cloudplay', 'rgs']) {
      expect(stdout).toContain(`${platform.padEnd(12)} http://127.0.0.1:${simPort}/${platform}`);
    }
    expect(stdout).toContain(`bots         ${DEMO_BOTS.map((b) => b.name).join(', ')}`);
    expect((await fetch(`http://127.0.0.1:${simPort}/health`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${apiPort}/health/ready`)).status).toBe(200);

    expect(await exited).toBe(0);
    // Every platform's bots finished at least one run and none failed (the seed is pinned: the simulator's
    // cloud-play cache layout, and so its launch times, derive from it).
    const counts = JSON.parse(/bot runs: (\{.*\})/.exec(stderr)?.[1] ?? '{}') as Record<string, { ok: number; failed: number }>;
    for (const bot of DEMO_BOTS) {
      expect({ bot: bot.name, ...counts[bot.name] }).toEqual({ bot: bot.name, ok: expect.any(Number), failed: 0 });
      expect(counts[bot.name]!.ok).toBeGreaterThanOrEqual(1);
    }
    expect(stderr).toContain('rewind: stopped');
  }, 90_000);
});
