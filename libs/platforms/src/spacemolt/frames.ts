import { strOrNull as str, type Json, type WsClassification } from '../frames';

/** SpaceMolt: `type`; client messages are commands; server messages that echo a `request_id` are responses, the rest pushes (notifications). */
export function classifySpaceMolt(fromClient: boolean, msg: Json): WsClassification {
  const type = str(msg['type']);
  const requestId = str(msg['request_id']);
  if (fromClient) return { kind: 'command', msgType: type, tick: null, requestId };
  return { kind: requestId ? 'response' : 'notification', msgType: type, tick: null, requestId };
}
