import { codedErrorClass } from '../core/http';

/** Every error answer of the rewards endpoint is `{ "error": <code>, "message": <text> }`. */
export const ERROR_STATUS = {
  invalid_body: 400,
  missing_idempotency_key: 400,
  invalid_idempotency_key: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  idempotency_conflict: 409,
  payload_too_large: 413,
  internal: 500,
  unavailable: 503,
} as const;

export type RewardsErrorCode = keyof typeof ERROR_STATUS;

export class RewardsError extends codedErrorClass(ERROR_STATUS) {}
