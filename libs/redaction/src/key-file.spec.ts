import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateRedactionKey } from './key-file';

describe('loadOrCreateRedactionKey', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rewind-redaction-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('given no key file, when loaded twice, then a random 32-byte key is created with mode 0600 and reused', () => {
    const first = loadOrCreateRedactionKey(join(dir, 'data'));
    const path = join(dir, 'data', 'redaction.key');
    expect(first).toHaveLength(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadOrCreateRedactionKey(join(dir, 'data')).equals(first)).toBe(true);
    expect(readFileSync(path, 'utf8').trim()).toBe(first.toString('hex'));
  });

  it('given an unusable key file, then it refuses rather than replacing the key', () => {
    writeFileSync(join(dir, 'redaction.key'), 'too short');
    expect(() => loadOrCreateRedactionKey(dir)).toThrow(/no usable redaction key/);
    expect(readFileSync(join(dir, 'redaction.key'), 'utf8')).toBe('too short');
  });
});
