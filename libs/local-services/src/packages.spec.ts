import * as os from 'node:os';
import * as path from 'node:path';

// Pretend no server binaries are installed, and control whether we are root; apt-get is recorded, never run.
const state = { root: false, installed: false };
const aptCalls: { args: readonly string[]; env: NodeJS.ProcessEnv | undefined }[] = [];

jest.mock('node:fs', () => {
  const actual = jest.requireActual<typeof import('node:fs')>('node:fs');
  const isServerBinary = (p: unknown) => /^\/usr\/lib\/postgresql|redis-server$/.test(String(p));
  return {
    ...actual,
    existsSync: (p: string) => (isServerBinary(p) ? state.installed : actual.existsSync(p)),
    readdirSync: (p: string) => (String(p) === '/usr/lib/postgresql' ? ['15'] : actual.readdirSync(p)),
  };
});
jest.mock('./exec', () => ({
  ...jest.requireActual('./exec'),
  isRoot: () => state.root,
  runVisible: async (_file: string, args: readonly string[], env?: NodeJS.ProcessEnv) => {
    aptCalls.push({ args, env });
    if (args[0] === 'install') state.installed = true;
    return 0;
  },
}));

// Loaded after the mocks above.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an import would be hoisted above the mocks
const { ensureServerPackages, findPostgresBin, findRedisServer } = require('./packages') as typeof import('./packages');

describe('ensureServerPackages', () => {
  const dataDir = path.join(os.tmpdir(), `rewind-packages-spec-${process.pid}`);
  const lines: string[] = [];
  afterAll(() => jest.requireActual<typeof import('node:fs')>('node:fs').rmSync(dataDir, { recursive: true, force: true }));
  beforeEach(() => {
    state.root = false;
    state.installed = false;
    aptCalls.length = 0;
    lines.length = 0;
  });

  it('does nothing when nothing is wanted', async () => {
    await ensureServerPackages(dataDir, { postgres: false, redis: false }, (l) => lines.push(l));
    expect(aptCalls).toEqual([]);
  });

  it('explains what to install when not root', async () => {
    expect(findPostgresBin()).toBeNull();
    expect(findRedisServer()).toBeNull();
    const attempt = ensureServerPackages(dataDir, { postgres: true, redis: true }, (l) => lines.push(l));
    await expect(attempt).rejects.toThrow(
      /need the Debian package\(s\) postgresql redis-server.*not root.*apt-get install -y postgresql redis-server.*docker compose up -d.*DATABASE_URL and REDIS_URL/s,
    );
    expect(aptCalls).toEqual([]);
  });

  it('as root installs only the missing packages, non-interactively, updating once', async () => {
    state.root = true;
    await ensureServerPackages(dataDir, { postgres: false, redis: true }, (l) => lines.push(l));
    expect(aptCalls.map((c) => c.args)).toEqual([['update'], ['install', '-y', 'redis-server']]);
    expect(aptCalls.every((c) => c.env?.DEBIAN_FRONTEND === 'noninteractive')).toBe(true);
    expect(lines.join('\n')).toContain('apt-get install -y redis-server');

    state.installed = false;
    aptCalls.length = 0;
    await ensureServerPackages(dataDir, { postgres: true, redis: false }, (l) => lines.push(l));
    expect(aptCalls.map((c) => c.args)).toEqual([['install', '-y', 'postgresql']]); // no second apt-get update
  });
});
