import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { testDatabaseUrl, testRedisUrl } from '@rewind/testing';

const root = path.resolve(__dirname, '../../../..');

describe('rewind up (the CLI, as a user runs it)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('serves health, prints where to look, and stops cleanly on %s', async (signal) => {
    const port = 18000 + Math.floor(Math.random() * 2000);
    const child = spawn(path.join(root, 'rewind'), ['up'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: testDatabaseUrl(), REDIS_URL: testRedisUrl(), REWIND_API_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (!stdout.includes('Press Ctrl-C to stop.') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(stdout).toContain(`API       http://127.0.0.1:${port}`);
      expect(stdout).toMatch(/Postgres  postgresql:\/\/rewind:\*\*\*@/);
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(res.status).toBe(200);
    } finally {
      child.kill(signal);
    }
    expect(await exited).toBe(0);
    expect(stderr).toContain('rewind: stopped');
    expect(stderr).not.toMatch(/Error/);
  });
});
