import { codedErrorClass } from '../core/http';

/** The document's error table (Status | Error): every error answer is `{ "error": <code>, "message": <text> }`. */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  session_active: 409,
  rate_limited: 429,
  no_servers: 503,
  /** Not in the document: a known path with the wrong method. */
  method_not_allowed: 405,
} as const;

export type CloudplayErrorCode = keyof typeof ERROR_STATUS;

export class CloudplayError extends codedErrorClass(ERROR_STATUS) {}
