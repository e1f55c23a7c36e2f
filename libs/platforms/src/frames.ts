import type { EventKind } from './vocabulary';

/** What a WebSocket message is (its event kind and the fields queries need), as a platform module says it. */
export interface WsClassification {
  kind: EventKind;
  msgType: string | null;
  /** The frame's tick (platform → client frames). */
  tick: number | null;
  requestId: string | null;
}

export type Json = Record<string, unknown>;
export const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** A message no rule of its platform knows, or a platform without WebSocket rules: inputs one way, notifications the other. */
export function classifyGeneric(fromClient: boolean, msg: Json | null): WsClassification {
  if (!msg) return { kind: fromClient ? 'input' : 'notification', msgType: null, tick: null, requestId: null };
  return { kind: fromClient ? 'input' : 'notification', msgType: strOrNull(msg['type']) ?? strOrNull(msg['t']), tick: null, requestId: null };
}
