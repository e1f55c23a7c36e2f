import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { Pool } from 'pg';
import { EventStore } from '@rewind/event-store';
import { aSession, createTestPool, frames, tamper, testDatabaseUrl, testRedisUrl } from '@rewind/testing';

const root = path.resolve(__dirname, '../../../..');

function rewind(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(path.join(root, 'rewind'), args, { cwd: root, env: { ...process.env, DATABASE_URL: testDatabaseUrl(), REDIS_URL: testRedisUrl() }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
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
    // One JSON line per report: the chain first (this session is no platform run, so no audit follows).
    const lines = broken.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ sessionId: id, ok: false, firstBreak: { reason: 'hash_mismatch', seq: 8 } });
    expect(lines[1]).toMatchObject({ sessionId: id, audit: null, reason: 'not part of a platform run' });
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
  it('given a recorded run whose stored outcome was edited, then verify audits it, names the mismatch and exits 1; --chains-only does not audit', async () => {
    const outcome = { platform: 'moltstation', reason: 'GAME_OVER', score: 7 };
    const { id } = await store.openSession(aSession({ platformSessionId: `ms_verify_${Date.now()}`, metadata: { stream: 'run', capturedBy: 'proxy' } }));
    await store.append([
      ...frames(id, 1, 3),
      {
        sessionId: id,
        seq: 4,
        kind: 'outcome',
        direction: 'internal',
        channel: 'internal',
        recordedAtUs: Date.now() * 1000,
        offsetUs: 1_000_000,
        format: 'json',
        body: JSON.stringify(outcome),
        msgType: 'outcome',
      },
    ]);
    await store.endSession(id, new Date(), outcome);
    const before = await rewind('verify', id);
    expect(before.stdout).toMatch(/run moltstation:ms_verify_\d+ {2}audit (OK|UNVERIFIABLE)/);
    expect(before.stdout).not.toContain('MISMATCH');

    await tamper(pool, `UPDATE sessions SET outcome = jsonb_set(outcome, '{score}', '70') WHERE id = $1`, [id]);
    const after = await rewind('verify', id);
    expect(after.code).toBe(1);
    expect(after.stdout).toContain(`${id}  OK      4 events`); // the chain itself holds: sessions.outcome is not chained
    expect(after.stdout).toMatch(/MISMATCH {2}outcome\.stored \([0-9a-f-]{36}\) \[[0-9a-f-]{36} seq 4\]: .* expected \{.*"score":7.*\}, found \{.*"score":70/);
    expect(after.stdout).toContain('run audited: 0 ok, 1 mismatch, 0 unverifiable');
    const chainsOnly = await rewind('verify', id, '--chains-only');
    expect(chainsOnly.code).toBe(0);
    expect(chainsOnly.stdout).not.toContain('audit');
  });
});
