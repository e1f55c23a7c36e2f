export { Redactor, MIN_REDACTION_KEY_BYTES } from './redactor';
export { SecretRegistry } from './secret-registry';
export type { SecretRegistryOptions } from './secret-registry';
export { fingerprintOf, isFingerprint, FINGERPRINT_PATTERN } from './fingerprint';
export { loadOrCreateRedactionKey, REDACTION_KEY_FILE, REDACTION_KEY_BYTES } from './key-file';
export type { HeaderPair } from './headers';
export { DEFAULT_SENSITIVE_KEYS, DEFAULT_SENSITIVE_PATHS, DEFAULT_SENSITIVE_QUERY_PARAMS, DEFAULT_SENSITIVE_HEADERS } from './options';
export type { RedactorOptions } from './options';
