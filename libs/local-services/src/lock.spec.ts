import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withLock } from './lock';

describe('withLock', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-lock-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serialises holders within one process', async () => {
    const events: string[] = [];
    const hold = (name: string) =>
      withLock(dir, 'x', async () => {
        events.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 50));
        events.push(`${name}-`);
      });
    await Promise.all([hold('a'), hold('b'), hold('c')]);
    expect(events).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
    expect(fs.existsSync(path.join(dir, 'x.lock'))).toBe(false);
  });

  it('breaks the lock of a process that is gone', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    fs.writeFileSync(path.join(dir, 'x.lock'), `${dead} -`);
    await expect(withLock(dir, 'x', async () => 'got it', { timeoutMs: 2000 })).resolves.toBe('got it');
  });

  it('waits for a live holder and then gives up with a clear message', async () => {
    fs.writeFileSync(path.join(dir, 'x.lock'), `${process.ppid} -`);
    await expect(withLock(dir, 'x', async () => 'never', { timeoutMs: 600, what: 'testing' })).rejects.toThrow(
      new RegExp(`Timed out after 1 s waiting for .*x\\.lock: another process \\(pid ${process.ppid}\\) is testing`),
    );
  });

  it('releases the lock when the work fails', async () => {
    await expect(withLock(dir, 'x', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(fs.existsSync(path.join(dir, 'x.lock'))).toBe(false);
  });
});
