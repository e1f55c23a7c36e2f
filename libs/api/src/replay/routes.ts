import { PLATFORMS, type Platform, type PlatformReplayStream } from '@rewind/platforms';

/**
 * The replay gateway's endpoints and what their clients send, in one place: the adapter decodes a socket's
 * frames by its endpoint (`ReplayWsAdapter`), the gateway wires its stream by the same match (`ReplayGateway`).
 * Everything here is per connection or per client message, never per replayed event.
 */

/** The path prefix the gateway serves; an upgrade elsewhere is answered 404 by the adapter. */
export const REPLAY_PATH = '/replay';

/**
 * One endpoint under `/replay/`: the generic stream, a platform's own stream (its module's `replay`: MoltStation's
 * spectate stream, SpaceMolt's `/ws`) with the parameters of its path, or none.
 */
export type ReplayRoute = { kind: 'session'; sessionId: string } | { kind: 'platform'; platform: Platform; stream: PlatformReplayStream; params: Record<string, string> } | { kind: 'unknown' };

const SESSION = /^\/replay\/([^/]+)$/;

/** The endpoint of a request path (the platforms' paths first: they are not session ids). */
export function replayRoute(pathname: string): ReplayRoute {
  for (const platform of PLATFORMS) {
    const params = platform.replay?.match(pathname);
    if (platform.replay && params) return { kind: 'platform', platform, stream: platform.replay, params };
  }
  const generic = SESSION.exec(pathname);
  if (generic) {
    try {
      return { kind: 'session', sessionId: decodeURIComponent(generic[1] as string) };
    } catch {
      return { kind: 'unknown' }; // a malformed %-escape names no session
    }
  }
  return { kind: 'unknown' };
}

/** The URL of an upgrade request (its host does not matter: only the path and the query are read). */
export function requestUrl(url: string | undefined): URL {
  return new URL(url ?? '/', 'http://replay');
}

/**
 * Client → server messages, as the Nest events the gateway's `@SubscribeMessage` handlers listen to. The wire
 * format is each endpoint's own (`{"type":"pause"}` on `/replay/{id}`, `{"t":"auth","token":…}` on MoltStation's
 * spectate stream), not Nest's `{event, data}`: the adapter maps a frame to an event here.
 */
export const REPLAY_EVENTS = {
  pause: 'pause',
  resume: 'resume',
  speed: 'speed',
  seek: 'seek',
  /** A control message that is not one (not JSON, binary, too big, an unknown type): answered with an error. */
  badControl: 'control:bad',
  /** The first message on a platform stream that authenticates by message (MoltStation's spectate socket): its token, or null when it is not one. */
  spectateAuth: 'spectate:auth',
} as const;

const CONTROL_TYPES: readonly string[] = [REPLAY_EVENTS.pause, REPLAY_EVENTS.resume, REPLAY_EVENTS.speed, REPLAY_EVENTS.seek];
const MAX_CONTROL_BYTES = 4096;

export interface DecodedMessage {
  event: string;
  data: unknown;
}

/** A control message's fields (`{"type":"seek","seq":120}` → `{type, seq}`). */
export type ControlMessage = Record<string, unknown>;

/**
 * The event a client's frame is for on its endpoint, or undefined for a frame the endpoint ignores (everything
 * on a platform stream whose clients do not talk, e.g. SpaceMolt's; anything on an unknown path, which is closed anyway).
 */
export function decodeReplayMessage(route: ReplayRoute, data: Buffer, binary: boolean): DecodedMessage | undefined {
  if (route.kind === 'session') return decodeControl(data, binary);
  if (route.kind === 'platform' && route.stream.authMessage) return { event: REPLAY_EVENTS.spectateAuth, data: route.stream.authMessage(data, binary) };
  return undefined;
}

/** `/replay/{id}` controls: `{type:"pause"|"resume"}`, `{type:"speed",speed}`, `{type:"seek",seq}|{type:"seek",offsetUs}`. */
function decodeControl(data: Buffer, binary: boolean): DecodedMessage {
  const bad = (message: string): DecodedMessage => ({ event: REPLAY_EVENTS.badControl, data: message });
  if (binary || data.length > MAX_CONTROL_BYTES) return bad('control messages are JSON text under 4 KiB');
  let msg: ControlMessage;
  try {
    const v = JSON.parse(data.toString('utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    msg = v as ControlMessage;
  } catch {
    return bad('a control message is a JSON object with a "type"');
  }
  const type = msg['type'];
  if (typeof type === 'string' && CONTROL_TYPES.includes(type)) return { event: type, data: msg };
  return bad(`unknown control "${String(type).slice(0, 40)}" (pause, resume, speed, seek)`);
}
