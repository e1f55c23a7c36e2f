import {
  accountOf,
  connectionIdentity,
  maySignal,
  wsObject,
  type EndSignal,
  type Fingerprint,
  type HttpAttribution,
  type HttpExchange,
  type LearnedCredential,
  type RunAtClose,
  type SocketClose,
  type WsAttribution,
  type WsMessageSignal,
} from '../attribution';
import { bearerOf, bodyObject, nonEmpty as str, ok2xx as ok, pathOnly, queryParam } from '../wire';
import { finalFrameOf } from './frames';
import { moltstationOutcome } from './outcome';

const MS_SESSION_PATH = /^\/api\/games\/([^/]+)\/sessions\/([^/]+)(?:\/([^/]+))?$/;

/** MoltStation HTTP: a start opens the run (its spectator for agent_api runs); the run's own paths and the snapshot name it. */
export function moltstationHttp(x: HttpExchange, fp: Fingerprint): HttpAttribution {
  const p = pathOnly(x.path);
  const req = bodyObject(x.requestBody);
  const res = bodyObject(x.responseBody);
  const none: HttpAttribution = { identity: accountOf(x, fp, str(res?.['accessToken'])), credentials: [], aliases: [] };
  const start = /^\/api\/games\/([^/]+)\/sessions\/start$/.exec(p);
  if (start && x.method === 'POST') {
    const sessionId = str(res?.['sessionId']);
    if (!ok(x.status) || !sessionId) return none;
    const source = str(res?.['source']) ?? str(req?.['source']) ?? 'browser_ws';
    const bearer = bearerOf(x.requestHeaders);
    return {
      identity: { key: `session:${sessionId}`, platformSessionId: sessionId, game: start[1] ?? null, agent: none.identity.agent ?? null, source },
      // Only agent_api sessions appear in the live list; the spectator is started for those.
      ...(source === 'agent_api' ? { task: { kind: 'moltstation-spectate' as const, params: { slug: start[1], platformSessionId: sessionId } } } : {}),
      credentials: bearer ? [{ key: `session:${sessionId}`, name: 'bearer', value: bearer }] : [],
      aliases: [],
    };
  }
  // The owner's bearer of a run: the outcome pipeline submits the run's snapshot with it (vault only).
  const owner = (key: string): LearnedCredential[] => {
    const bearer = bearerOf(x.requestHeaders);
    return bearer ? [{ key, name: 'bearer', value: bearer }] : [];
  };
  const m = MS_SESSION_PATH.exec(p);
  if (m && m[2] !== 'live' && m[2] !== 'start') {
    const key = `session:${m[2]}`;
    return { identity: { key, platformSessionId: m[2] ?? null, game: m[1] ?? null }, credentials: owner(key), aliases: [] };
  }
  if (p === '/api/rewards/snapshot') {
    const sessionId = str(req?.['sessionId']);
    if (sessionId) return { identity: { key: `session:${sessionId}`, platformSessionId: sessionId, game: str(req?.['gameSlug']) ?? null }, credentials: owner(`session:${sessionId}`), aliases: [] };
  }
  return none;
}

/** A MoltStation socket belongs to the run its `?sessionId=` names (play or spectate), else to itself. */
export function moltstationWs(path: string, connectionId: string): WsAttribution {
  const slug = /^\/ws\/([^/]+)\/(?:play|spectate)$/.exec(pathOnly(path))?.[1] ?? null;
  const sessionId = queryParam(path, 'sessionId');
  if (sessionId) return { identity: { key: `session:${sessionId}`, platformSessionId: sessionId, game: slug } };
  return connectionIdentity(connectionId);
}

/** A platform frame with `phase:"ended"` is the run's final frame. */
export function moltstationWsMessage(fromClient: boolean, text: string): WsMessageSignal {
  if (fromClient || !maySignal(text, /"phase"\s*:\s*"ended"/)) return {};
  const msg = wsObject(text);
  const finalFrame = msg ? finalFrameOf(msg) : undefined;
  return finalFrame ? { finalFrame } : {};
}

/** The socket's close ends the run once its final frame was seen or the platform said GAME_OVER / EXIT. */
export function moltstationSocketClosed(close: SocketClose, run: RunAtClose): EndSignal | undefined {
  if (!run.finalFrame && close.reason !== 'GAME_OVER' && close.reason !== 'EXIT') return undefined;
  return { reason: close.reason || 'ended', outcome: moltstationOutcome(run.finalFrame, close.reason || null) };
}
