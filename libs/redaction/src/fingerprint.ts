import { createHmac } from 'node:crypto';

/** Hex digits of the keyed HMAC kept in a fingerprint (64 bits: collisions are negligible per key). */
export const FINGERPRINT_HEX_LENGTH = 16;

/** Matches one fingerprint as produced by `fingerprintOf`. */
export const FINGERPRINT_PATTERN = '\\[redacted:[0-9a-f]{16}\\]';
const WHOLE_FINGERPRINT = new RegExp(`^${FINGERPRINT_PATTERN}$`);

/**
 * `[redacted:<first 16 hex of HMAC-SHA256(key, secret)>]`: the same secret always gives the same
 * fingerprint under one key (audits can tell two tokens apart), and nothing about the secret can be
 * recovered or confirmed without the key.
 */
export function fingerprintOf(key: Buffer, secret: string | Buffer): string {
  const mac = createHmac('sha256', key).update(secret).digest('hex');
  return `[redacted:${mac.slice(0, FINGERPRINT_HEX_LENGTH)}]`;
}

/** True when the value is already a fingerprint (redacting twice is a no-op). */
export function isFingerprint(value: string): boolean {
  return WHOLE_FINGERPRINT.test(value);
}
