/** Domain errors carry a stable code; the HTTP edge maps them to a status and `{ error, message }`. */
import { codedErrorClass } from '../core/http';
export const RGS_ERRORS = {
  missing_token: 401,
  invalid_token: 401,
  token_rotated: 401,
  session_expired: 401,
  invalid_operator_key: 401,
  invalid_json: 400,
  invalid_path: 400,
  invalid_body: 400,
  invalid_amount: 400,
  insufficient_balance: 400,
  invalid_target: 400,
  invalid_condition: 400,
  invalid_mine_count: 400,
  invalid_grid_size: 400,
  invalid_field: 400,
  field_already_revealed: 400,
  invalid_action: 400,
  nothing_to_cash_out: 400,
  invalid_limit: 400,
  invalid_client_seed: 400,
  invalid_player: 400,
  unsupported_game: 400,
  invalid_currency: 400,
  invalid_lobby_url: 400,
  round_not_found: 404,
  not_found: 404,
  method_not_allowed: 405,
  round_active: 409,
  no_active_round: 409,
  token_already_refreshed: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  service_unavailable: 503,
  round_initializing: 503,
} as const;

export type RgsErrorCode = keyof typeof RGS_ERRORS;

export class RgsError extends codedErrorClass(RGS_ERRORS) {}
