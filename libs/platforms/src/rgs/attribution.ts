import { accountOf, type Fingerprint, type HttpAttribution, type HttpExchange, type LearnedCredential, type StreamIdentity } from '../attribution';
import { bearerOf, bodyObject, nonEmpty as str, ok2xx as ok, pathOnly, queryParam } from '../wire';

/**
 * RGS: the operator's launch opens the run (its poller, its session token); later calls carry the token as a
 * bearer and are keyed by its fingerprint (an alias of the run); a refresh adds the new token's alias; every
 * authenticated call slides the expiry; a 401 `session_expired` ends the run.
 */
export function rgsHttp(x: HttpExchange, fp: Fingerprint): HttpAttribution {
  const p = pathOnly(x.path);
  const res = bodyObject(x.responseBody);
  if (p === '/operator/launch' && x.method === 'POST') {
    const sessionId = str(res?.['sessionId']);
    const launchUrl = str(res?.['launchUrl']);
    const token = launchUrl ? queryParam(launchUrl.replace(/^[a-z]+:\/\/[^/]+/i, ''), 'sessionToken') : undefined;
    if (!ok(x.status) || !sessionId || !token) return { identity: accountOf(x, fp), credentials: [], aliases: [] };
    const key = `session:${sessionId}`;
    const expiresAtMs = Date.parse(str(res?.['expiresAt']) ?? '');
    const req = bodyObject(x.requestBody);
    return {
      identity: { key, platformSessionId: sessionId, game: str(req?.['gameCode']) ?? null, agent: str(req?.['playerId']) ?? null },
      task: { kind: 'rgs-poll', params: { rgsSessionId: sessionId } },
      credentials: [{ key, name: 'sessionToken', value: token, ...(Number.isFinite(expiresAtMs) ? { expiresAtMs } : {}) }],
      aliases: [`token:${fp(token)}`],
      ...(Number.isFinite(expiresAtMs) ? { expiresAtMs } : {}),
    };
  }
  const bearer = bearerOf(x.requestHeaders);
  if (!bearer) return { identity: accountOf(x, fp), credentials: [], aliases: [] };
  // Until the launch is known, the run is keyed by its token's fingerprint (resolved through aliases).
  const identity: StreamIdentity = { key: `token:${fp(bearer)}` };
  const aliases: string[] = [];
  const credentials: LearnedCredential[] = [];
  let expiresAtMs: number | undefined;
  let activity = false;
  if (p === '/session/refresh' && x.method === 'POST' && ok(x.status)) {
    const fresh = str(res?.['sessionToken']);
    const at = Date.parse(str(res?.['expiresAt']) ?? '');
    if (fresh) {
      aliases.push(`token:${fp(fresh)}`);
      credentials.push({ key: identity.key, name: 'sessionToken', value: fresh, ...(Number.isFinite(at) ? { expiresAtMs: at } : {}) });
    }
    if (Number.isFinite(at)) expiresAtMs = at;
  } else if (x.status !== undefined && x.status !== 401) {
    // Every authenticated call moves the expiry to at least an hour (the platform's TTL) from now.
    activity = true;
  }
  const error = str(res?.['error']);
  const end = x.status === 401 && error === 'session_expired' ? { reason: 'expired', outcome: { reason: 'expired', observedBy: 'proxy' } } : undefined;
  return { identity, credentials, aliases, activity, ...(expiresAtMs !== undefined ? { expiresAtMs } : {}), ...(end ? { end } : {}) };
}
