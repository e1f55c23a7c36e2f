import { accountOf, type EndSignal, type Fingerprint, type HttpAttribution, type HttpExchange, type LearnedCredential, type StreamIdentity } from '../attribution';
import { bearerOf, bodyObject, nonEmpty as str, ok2xx as ok, pathOnly, queryParam } from '../wire';

/** Cloud play: a launch opens the run (and its poller); status, keepalive and stop name it; a stopped or errored status ends it. */
export function cloudplayHttp(x: HttpExchange, fp: Fingerprint): HttpAttribution {
  const p = pathOnly(x.path);
  const req = bodyObject(x.requestBody);
  const res = bodyObject(x.responseBody);
  const bearer = bearerOf(x.requestHeaders);
  const agent = bearer ? fp(bearer) : null;
  let sessionId: string | undefined;
  let game: string | null | undefined;
  let task: HttpAttribution['task'];
  if (p === '/api/game/launch' && x.method === 'POST') {
    sessionId = ok(x.status) ? str(res?.['sessionId']) : undefined;
    game = str(req?.['gameSlug']) ?? null;
    if (sessionId) task = { kind: 'cloudplay-poll', params: { sessionId } };
  } else if (p === '/api/game/session-status') {
    sessionId = queryParam(x.path, 'sessionId');
  } else if (p === '/api/game/keepalive' || p === '/api/game/stop') {
    sessionId = str(req?.['sessionId']);
  }
  if (!sessionId) return { identity: accountOf(x, fp), credentials: [], aliases: [] };
  const key = `session:${sessionId}`;
  const identity: StreamIdentity = { key, platformSessionId: sessionId, agent, ...(game !== undefined ? { game } : {}) };
  const credentials: LearnedCredential[] = bearer ? [{ key, name: 'bearer', value: bearer }] : [];
  let end: EndSignal | undefined;
  const status = str(res?.['status']);
  if (ok(x.status) && (status === 'stopped' || status === 'error') && (p === '/api/game/stop' || p === '/api/game/session-status')) {
    const { status: _s, ...rest } = res as Record<string, unknown>;
    end = { reason: status, outcome: { reason: status, ...rest } };
  }
  return { identity, credentials, aliases: [], ...(task ? { task } : {}), ...(end ? { end } : {}) };
}
