import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Pool } from 'pg';
import { migrate, MIGRATIONS_DIR } from '@rewind/db';
import { EventStore, verifySession } from '@rewind/event-store';
import { aSession, createScratchDatabase, createTestPool, frames, ScratchDatabase, spawnRewind } from '@rewind/testing';

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = spawnRewind(args, env);
  const code = await cli.exited;
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}

describe('rewind export / rewind import (the CLI, as a user runs it)', () => {
  let pool: Pool;
  let store: EventStore;
  let target: ScratchDatabase;
  let dir: string;
  beforeAll(async () => {
    pool = createTestPool(2);
    store = new EventStore(pool);
    target = await createScratchDatabase();
    await migrate(target.pool, MIGRATIONS_DIR, () => undefined);
    dir = await mkdtemp(path.join(os.tmpdir(), 'rewind-portable-'));
  });
  afterAll(async () => {
    await pool.end();
    await target.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('exports a sealed session to a file and imports it into another database; a second import is a no-op', async () => {
    const { id } = await store.openSession(aSession());
    await store.append(frames(id, 1, 12));
    await store.endSession(id, new Date(), { result: 'win' });
    await store.sealSession(id);
    const file = path.join(dir, `${id}.ndjson`);

    const exported = await run(['export', id, '-o', file]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain(`exported session ${id}: 12 events`);
    expect(exported.stdout).toBe('');
    const text = await readFile(file, 'utf8');
    expect(text.split('\n')).toHaveLength(15); // header, 12 events, trailer, final newline

    const env = { DATABASE_URL: target.url };
    const imported = await run(['import', file], env);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toBe(`imported session ${id}: 12 events, chain ok, sealed\n`);
    expect(await verifySession(new EventStore(target.pool), id)).toMatchObject({ ok: true, eventsChecked: 12, sealed: true });

    const again = await run(['import', file], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already imported');

    const toStdout = await run(['export', id]);
    expect(toStdout.code).toBe(0);
    expect(toStdout.stdout.replace(/"exportedAt":"[^"]*"/, '')).toBe(text.replace(/"exportedAt":"[^"]*"/, ''));
    expect(toStdout.stderr).toContain('to stdout');
  }, 120_000);

  it('exits 1 for an unknown session and for a bad file (naming the line), 2 for usage', async () => {
    const unknown = await run(['export', '00000000-0000-4000-8000-000000000000', '-o', path.join(dir, 'none.ndjson')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('session 00000000-0000-4000-8000-000000000000 does not exist');

    const { id } = await store.openSession(aSession());
    await store.append(frames(id, 1, 6));
    const file = path.join(dir, `${id}.ndjson`);
    expect((await run(['export', id, '-o', file])).code).toBe(0);
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[4] = (lines[4] as string).replace('running', 'ended'); // seq 4's body
    const bad = path.join(dir, 'bad.ndjson');
    await writeFile(bad, lines.join('\n'));
    const refused = await run(['import', bad], { DATABASE_URL: target.url });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("line 5: seq 4: the file's hash");
    expect(await new EventStore(target.pool).getSession(id)).toBeNull();

    const missing = await run(['import', path.join(dir, 'nope.ndjson')], { DATABASE_URL: target.url });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ENOENT');

    expect(await run(['export'])).toMatchObject({ code: 2, stderr: expect.stringContaining('usage: rewind export <sessionId> [-o file]') });
    expect(await run(['import'])).toMatchObject({ code: 2, stderr: expect.stringContaining('usage: rewind import <file>') });
  }, 120_000);
});
