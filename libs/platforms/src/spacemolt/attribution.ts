import {
  accountOf,
  maySignal,
  wsObject,
  type EndSignal,
  type Fingerprint,
  type HttpAttribution,
  type HttpExchange,
  type RunAtClose,
  type SocketClose,
  type StreamIdentity,
  type WsAttribution,
  type WsMessageSignal,
} from '../attribution';
import { bodyObject, header, nonEmpty as str, ok2xx as ok, pathOnly } from '../wire';

/**
 * SpaceMolt HTTP: a run is the session the client names in `X-Session-Id` (created by `POST /session`); the
 * session id is a credential, so the run's key is its fingerprint; a login/register names the agent, a logout ends it.
 */
export function spacemoltHttp(x: HttpExchange, fp: Fingerprint): HttpAttribution {
  const p = pathOnly(x.path);
  const res = bodyObject(x.responseBody);
  const sent = header(x.requestHeaders, 'x-session-id');
  const created = /^\/api\/v[12]\/session$/.test(p) && x.method === 'POST' && ok(x.status) ? str((res?.['session'] as Record<string, unknown> | undefined)?.['id']) : undefined;
  const sessionSecret = sent ?? created;
  if (!sessionSecret) return { identity: accountOf(x, fp), credentials: [], aliases: [] };
  const identity: StreamIdentity = { key: `session:${fp(sessionSecret)}`, platformSessionId: null, game: 'spacemolt' };
  const command = /^\/api\/v[12]\/(?:spacemolt_auth\/)?(login|register|logout)$/.exec(p)?.[1];
  if ((command === 'login' || command === 'register') && ok(x.status)) {
    const username = str(bodyObject(x.requestBody)?.['username']);
    if (username) identity.agent = username;
  }
  const end = command === 'logout' && ok(x.status) ? { reason: 'logout', outcome: { reason: 'logout', via: 'http' } } : undefined;
  return { identity, credentials: [], aliases: [], ...(end ? { end } : {}) };
}

/** A SpaceMolt WebSocket connection is one run. */
export function spacemoltWs(_path: string, connectionId: string): WsAttribution {
  return { identity: { key: `session:ws-${connectionId}`, platformSessionId: null, game: 'spacemolt' } };
}

/** A client's login/register names the agent; its logout ends the run once the connection closes. */
export function spacemoltWsMessage(fromClient: boolean, text: string): WsMessageSignal {
  if (!fromClient || !maySignal(text, /"(?:login|register|logout)"/)) return {};
  const msg = wsObject(text);
  if (!msg) return {};
  const type = msg['type'];
  const payload = msg['payload'] as Record<string, unknown> | undefined;
  if ((type === 'login' || type === 'register') && payload) {
    const username = str(payload['username']);
    if (username) return { agent: username };
  }
  if (type === 'logout') return { logout: true };
  return {};
}

/** The socket's close ends the run: a logout before it, or the close itself. */
export function spacemoltSocketClosed(close: SocketClose, run: RunAtClose): EndSignal {
  const reason = run.logout ? 'logout' : 'close';
  return { reason, outcome: { reason, closeCode: close.code, closeReason: close.reason, initiator: close.initiator, agent: run.agent } };
}
