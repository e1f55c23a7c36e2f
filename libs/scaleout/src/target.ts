/**
 * One live platform session the recorder captures: the unit of work the scale-out coordinator shares
 * between recorder processes (one BullMQ job per target, `jobId = target.id`).
 */
export interface CaptureTarget {
  /**
   * Deterministic id, the same in every process that discovers the session, e.g.
   * `moltstation:spectate:<platformSessionId>`. Starts with a letter; letters, digits and `: . _ -` only;
   * at most 200 characters (it is the BullMQ job id and part of Redis keys).
   */
  id: string;
  /** Which capture task runs it, e.g. `moltstation-spectate` | `cloudplay-poll` | `rgs-poll`. */
  kind: string;
  platform: string;
  platformSessionId: string;
  /** Non-secret parameters of the task (JSON). Credentials go to the `CredentialVault`, never here. */
  params: Record<string, unknown>;
}

const TARGET_ID = /^[A-Za-z][A-Za-z0-9:._-]{0,199}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$/;

/** Throws a descriptive error for a target that cannot be a job (bad id, missing fields, non-JSON params). */
export function validateCaptureTarget(target: CaptureTarget): void {
  if (!target || typeof target !== 'object') throw new Error('capture target: not an object');
  if (typeof target.id !== 'string' || !TARGET_ID.test(target.id)) {
    throw new Error(`capture target id ${JSON.stringify(target.id)}: must start with a letter and use only letters, digits and ": . _ -" (at most 200 characters)`);
  }
  for (const field of ['kind', 'platform', 'platformSessionId'] as const) {
    if (typeof target[field] !== 'string' || target[field].length === 0) {
      throw new Error(`capture target ${target.id}: ${field} must be a non-empty string`);
    }
  }
  if (!target.params || typeof target.params !== 'object' || Array.isArray(target.params)) {
    throw new Error(`capture target ${target.id}: params must be an object`);
  }
  try {
    JSON.stringify(target.params);
  } catch (e) {
    throw new Error(`capture target ${target.id}: params are not JSON (${(e as Error).message})`, { cause: e });
  }
}

/**
 * The BullMQ job id of a target: its id with `:` written as `~`. BullMQ refuses custom ids with a `:`
 * unless they have exactly three parts (its legacy repeatable-job format) and its key scans cut ids at the
 * first `:`; `~` is not allowed in target ids, so the mapping is one-to-one.
 */
export function captureJobId(targetId: string): string {
  return targetId.replace(/:/g, '~');
}

/** Target ids and credential names share the Redis-key-safe alphabet. */
export function assertKeySafe(what: string, value: string): void {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new Error(`${what} ${JSON.stringify(value)}: letters, digits and ": . _ -" only (at most 200 characters)`);
  }
}
