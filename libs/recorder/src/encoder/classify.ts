import { classifyGeneric, platformOf, type PlatformId, type WsClassification } from '@rewind/platforms';

export type { WsClassification } from '@rewind/platforms';

/**
 * Classifies one parsed WebSocket message (the first object of an NDJSON batch stands for the batch) by its
 * platform's frame rules (libs/platforms: MoltStation's `t` and frame ticks, SpaceMolt's `type` and request ids);
 * a message that is no JSON object: inputs one way, notifications the other.
 */
export function classifyWs(platform: PlatformId, fromClient: boolean, msg: Record<string, unknown> | null): WsClassification {
  return msg ? platformOf(platform).frames.classify(fromClient, msg) : classifyGeneric(fromClient, null);
}
