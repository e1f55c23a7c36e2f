import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { Pool } from 'pg';
import { EventStore } from '@rewind/event-store';
import { aSession, createTestPool, frames, tamper, testDatabaseUrl, testRedisUrl } from '@rewind/testing';

const root = path.resolve(__dirname, '../../../..');

function rewind(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      path.join(root, 'rewind'),
      args,
      { cwd: root, env: { ...process.env, DATABASE_URL: testDatabaseUrl(), REDIS_URL: testRedisUrl() }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('rewind verify (the CLI, as a user runs it)', () => {
  let pool: Pool;
  let store: EventStore;
  beforeAll(() => {
    pool = createTestPool(2);
    store = new EventStore(pool);
  });
  afterAll(() => pool.end());

  it('reports an intact session and exits 0, then names the first broken link and exits 1', async () => {
    const { id } = await store.openSession(aSession());
    await store.append(frames(id, 1, 12));

    const ok = await rewind('verify', id);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`${id}  OK      12 events`);

    await tamper(pool, `UPDATE events SET body_text = replace(body_text, 'running', 'ended') WHERE session_id = $1 AND seq = 8`, [id]);
    const broken = await rewind('verify', id, '--json');
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({ sessionId: id, ok: false, firstBreak: { reason: 'hash_mismatch', seq: 8 } });
    expect(broken.stderr).not.toMatch(/rewind:[^@\n]*:[^*@\n]+@/); // no password in any logged URL
  });

  it('exits 1 for an unknown session and 2 with usage for bad arguments', async () => {
    const unknown = await rewind('verify', '00000000-0000-4000-8000-000000000000');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('NOT FOUND');
    const usage = await rewind('verify');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('rewind verify needs a session id or --all');
  });
});
