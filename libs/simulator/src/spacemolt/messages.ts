/** Wire helpers: WebSocket envelopes and inbound-frame validation. */

export const MAX_REQUEST_ID = 128;

/**
 * `{"type","payload","request_id"}` in that key order. `request_id` is omitted entirely (never null) when absent;
 * `payload` is omitted when undefined.
 */
export function wsFrame(type: string, payload: Record<string, unknown> | undefined, requestId?: string): string {
  const msg: Record<string, unknown> = { type };
  if (payload !== undefined) msg['payload'] = payload;
  if (requestId !== undefined) msg['request_id'] = requestId;
  return JSON.stringify(msg);
}

export type ParsedFrame = { type: string; payload: Record<string, unknown>; requestId?: string } | { error: { code: string; message: string }; requestId?: string };

/**
 * Validates one inbound frame. Errors keep the (valid) request_id so the error reply can echo it; an invalid
 * request_id (not a string, or over 128 characters) is never echoed.
 */
export function parseClientFrame(data: Buffer | string, isBinary: boolean): ParsedFrame {
  if (isBinary) return { error: { code: 'invalid_payload', message: 'Binary frames are not supported: send UTF-8 JSON text frames.' } };
  const text = typeof data === 'string' ? data : data.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { error: { code: 'invalid_payload', message: `Malformed JSON: ${(e as Error).message}` } };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    return { error: { code: 'invalid_payload', message: 'A message must be a JSON object: {"type": string, "payload"?: object, "request_id"?: string}.' } };
  const obj = parsed as Record<string, unknown>;
  const rid = obj['request_id'];
  if (rid !== undefined && (typeof rid !== 'string' || [...rid].length > MAX_REQUEST_ID))
    return { error: { code: 'invalid_request_id', message: `request_id must be a string of at most ${MAX_REQUEST_ID} characters.` } };
  const requestId = rid as string | undefined;
  if (typeof obj['type'] !== 'string' || !obj['type']) return { error: { code: 'invalid_payload', message: 'Missing "type" (string).' }, requestId };
  const payload = obj['payload'];
  if (payload !== undefined && payload !== null && (typeof payload !== 'object' || Array.isArray(payload)))
    return { error: { code: 'invalid_payload', message: '"payload" must be a JSON object.' }, requestId };
  return { type: obj['type'] as string, payload: (payload ?? {}) as Record<string, unknown>, requestId };
}

/** Notification category (`type`) of an HTTP-queued push, from the v0.327.2 list: system, combat, trade, chat, friend, tip. */
export function notificationCategory(msgType: string): string {
  if (msgType === 'chat_message') return 'chat';
  if (['combat_update', 'player_died', 'scan_detected', 'scan_result', 'pilotless_ship'].includes(msgType)) return 'combat';
  if (msgType.startsWith('trade_')) return 'trade';
  if (msgType === 'gameplay_tip') return 'tip';
  return 'system';
}
