import type { Fingerprint, HttpAttribution, HttpExchange, WsAttribution, WsMessageSignal } from './attribution';
import { cloudplay } from './cloudplay';
import { moltstation } from './moltstation';
import type { Platform } from './platform';
import type { PlatformId } from './platforms';
import { COMMON_REDACTION, unionOfRules, type RedactionRules } from './redaction';
import { rgs } from './rgs';
import { spacemolt } from './spacemolt';

/** The platform modules, one line per platform (a fifth platform: its folder, and a line here). */
export const PLATFORMS: readonly Platform[] = [moltstation, spacemolt, cloudplay, rgs];

const BY_ID: ReadonlyMap<string, Platform> = new Map(PLATFORMS.map((p) => [p.id, p]));

/** The module of a platform. Throws for an id no module is registered for (a stored row of an unknown platform is a bug). */
export function platformOf(id: PlatformId): Platform {
  const p = BY_ID.get(id);
  if (!p) throw new Error(`no platform module for ${JSON.stringify(id)}`);
  return p;
}

/** The redaction rules of every platform and the common ones: what the recorder's redactor treats as secrets by default. */
export const DEFAULT_REDACTION: RedactionRules = unionOfRules([COMMON_REDACTION, ...PLATFORMS.map((p) => p.redaction)]);

/** The stream an HTTP exchange belongs to, and what it tells about the run (its platform's rule). */
export function attributeHttp(x: HttpExchange, fp: Fingerprint): HttpAttribution {
  return platformOf(x.platform).attribution.http(x, fp);
}

/** The stream of a WebSocket connection, from its path (MoltStation `?sessionId=`; SpaceMolt: the connection). */
export function attributeWs(platform: PlatformId, path: string, connectionId: string): WsAttribution {
  return platformOf(platform).attribution.ws(path, connectionId);
}

/** What a WebSocket message tells about its run (its platform's rule). */
export function inspectWsMessage(platform: PlatformId, fromClient: boolean, text: string): WsMessageSignal {
  return platformOf(platform).attribution.wsMessage(fromClient, text);
}
