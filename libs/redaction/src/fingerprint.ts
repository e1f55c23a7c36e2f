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

/** How every fingerprint starts. */
export const FINGERPRINT_PREFIX = '[redacted:';
const PREFIX = FINGERPRINT_PREFIX;
/** Length of a fingerprint: `[redacted:`, the hex digits, `]`. */
export const FINGERPRINT_LENGTH = PREFIX.length + FINGERPRINT_HEX_LENGTH + 1;

/** `FINGERPRINT_LENGTH` when a fingerprint (`FINGERPRINT_PATTERN`) starts at `at` in the text, else 0. */
export function fingerprintLengthAt(text: string, at: number): number {
  if (!text.startsWith(PREFIX, at)) return 0;
  const end = at + PREFIX.length + FINGERPRINT_HEX_LENGTH;
  if (text.charCodeAt(end) !== 0x5d) return 0; // ]
  for (let i = at + PREFIX.length; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return 0; // 0-9 a-f
  }
  return FINGERPRINT_LENGTH;
}

/** True when the value is already a fingerprint (redacting twice is a no-op). */
export function isFingerprint(value: string): boolean {
  return WHOLE_FINGERPRINT.test(value);
}
