import { spawnRewind } from '@rewind/testing';

describe('rewind up (the CLI, as a user runs it)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('serves health, prints where to look, and stops cleanly on %s', async (signal) => {
    const port = 18000 + Math.floor(Math.random() * 2000);
    const cli = spawnRewind(['up'], { REWIND_API_PORT: String(port) });
    try {
      await cli.waitFor('Press Ctrl-C to stop.');
      expect(cli.stdout).toContain(`API       http://127.0.0.1:${port}`);
      expect(cli.stdout).toMatch(/Postgres  postgresql:\/\/rewind:\*\*\*@/);
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(res.status).toBe(200);
    } finally {
      cli.kill(signal);
    }
    expect(await cli.exited).toBe(0);
    expect(cli.stderr).toContain('rewind: stopped');
    expect(cli.stderr).not.toMatch(/Error/);
  });
});
