import type { SimulatedPlatform } from '@rewind/platforms';
import type { EventKind } from '@rewind/event-store';

/** What a WebSocket message is, by platform: its kind and the fields queries need. */
export interface WsClassification {
  kind: EventKind;
  msgType: string | null;
  /** The frame's tick (platform → client frames). */
  tick: number | null;
  requestId: string | null;
}

type Json = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2_147_483_647 ? v : null);

/**
 * Classifies one parsed WebSocket message (the first object of an NDJSON batch stands for the batch).
 * MoltStation: `t` is the type; `frame` messages carry `frame.tick`; client `input`/`action` are inputs,
 * `cmd` and `auth` commands. SpaceMolt: `type`; client messages are commands; server messages that echo
 * a `request_id` are responses, the rest pushes (notifications). Others: inputs one way, notifications
 * the other.
 */
export function classifyWs(platform: SimulatedPlatform, fromClient: boolean, msg: Json | null): WsClassification {
  if (!msg) return { kind: fromClient ? 'input' : 'notification', msgType: null, tick: null, requestId: null };
  if (platform === 'moltstation') {
    const t = str(msg.t);
    if (fromClient) {
      const kind: EventKind = t === 'input' || t === 'action' ? 'input' : 'command';
      return { kind, msgType: t, tick: null, requestId: null };
    }
    const frame = msg.frame as Json | undefined;
    return { kind: t === 'frame' ? 'frame' : 'notification', msgType: t, tick: t === 'frame' ? int(frame?.tick) : null, requestId: null };
  }
  if (platform === 'spacemolt') {
    const type = str(msg.type);
    const requestId = str(msg.request_id);
    if (fromClient) return { kind: 'command', msgType: type, tick: null, requestId };
    return { kind: requestId ? 'response' : 'notification', msgType: type, tick: null, requestId };
  }
  return { kind: fromClient ? 'input' : 'notification', msgType: str(msg.type) ?? str(msg.t), tick: null, requestId: null };
}
