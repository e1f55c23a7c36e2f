import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Bytes of a generated redaction key (the minimum a Redactor accepts). */
export const REDACTION_KEY_BYTES = 32;
export const REDACTION_KEY_FILE = 'redaction.key';

/**
 * The redaction key of this installation: read from `<dataDir>/redaction.key` (hex), or generated
 * (32 random bytes) and written there with mode 0600 on first use. Fingerprints only stay comparable
 * across restarts and processes that share the key, so it is created once and reused.
 */
export function loadOrCreateRedactionKey(dataDir: string): Buffer {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, REDACTION_KEY_FILE);
  const existing = readKey(path);
  if (existing) return existing;
  const key = randomBytes(REDACTION_KEY_BYTES);
  try {
    // 'wx': never overwrite a key another process wrote in the meantime.
    writeFileSync(path, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const raced = readKey(path);
    if (raced) return raced;
    throw new Error(`${path} exists but holds no usable redaction key (at least ${REDACTION_KEY_BYTES} bytes, hex)`, { cause: e });
  }
  return key;
}

function readKey(path: string): Buffer | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  if (!/^[0-9a-fA-F]+$/.test(text) || text.length % 2 !== 0 || text.length / 2 < REDACTION_KEY_BYTES) {
    throw new Error(`${path} holds no usable redaction key (at least ${REDACTION_KEY_BYTES} bytes, hex); refusing to replace it`);
  }
  // Tighten a key file whose permissions were loosened by hand.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return Buffer.from(text, 'hex');
}
