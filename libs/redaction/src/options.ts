import { DEFAULT_REDACTION } from '@rewind/platforms';

/**
 * What is a secret, by default: the union of the common rules and every platform module's own (libs/platforms,
 * each platform's `redaction`). Keys are matched case-insensitively. A platform's own session id is a
 * credential on some platforms only (SpaceMolt's `X-Session-Id`, returned as `session.id`), so plain
 * `session_id` / `sessionId` keys are NOT in the default list: a platform adds them where they are one.
 */
export const DEFAULT_SENSITIVE_KEYS: readonly string[] = DEFAULT_REDACTION.keys;

/** `parent.key` pairs: the value of `key` inside an object held by `parent` (SpaceMolt: `{"session":{"id":…}}`). */
export const DEFAULT_SENSITIVE_PATHS: readonly string[] = DEFAULT_REDACTION.paths;

/** Query parameters whose value is a credential (case-insensitive). */
export const DEFAULT_SENSITIVE_QUERY_PARAMS: readonly string[] = DEFAULT_REDACTION.queryParams;

/** Headers whose whole value is a credential (case-insensitive); `authorization` keeps its scheme, cookies their names. */
export const DEFAULT_SENSITIVE_HEADERS: readonly string[] = DEFAULT_REDACTION.headers;

export interface RedactorOptions {
  /** JSON keys whose value is a secret (replaces the default list). */
  keys?: readonly string[];
  /** `parent.key` pairs whose value is a secret (replaces the default list). */
  paths?: readonly string[];
  /** Query parameters whose value is a secret (replaces the default list). */
  queryParams?: readonly string[];
  /** Headers whose value is a secret (replaces the default list). */
  headers?: readonly string[];
  /** Most secrets the registry remembers (LRU, default 4096). */
  maxKnownSecrets?: number;
  /** Shortest secret the registry remembers (default 8). */
  minSecretLength?: number;
}

export const lowerSet = (names: readonly string[]): Set<string> => new Set(names.map((n) => n.toLowerCase()));
