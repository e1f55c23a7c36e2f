import type { IncomingMessage, ServerResponse } from 'node:http';

/** MoltStation's spectate-token endpoints under the replay base (`POST …/spectate-token` and `…/spectate-token-public`). */
export const SPECTATE_TOKEN_PATHS: readonly RegExp[] = [/^\/replay\/moltstation\/api\/games\/[^/]+\/sessions\/[^/]+\/spectate-token(?:-public)?\/?$/];

/** What a cross-origin page may do there: POST with a bearer (no cookies: credentials are not allowed). */
const ALLOW_METHODS = 'POST, OPTIONS';
const ALLOW_HEADERS = 'Authorization, Content-Type';
const MAX_AGE_S = '600';

type Next = (err?: unknown) => void;

/**
 * CORS for the replay base's token endpoints, so that a core site's page can fetch a spectate token from the
 * browser (REWIND_CORS_ORIGINS): a request from an allowed origin gets `Access-Control-Allow-Origin: <origin>`;
 * its preflight (`OPTIONS`) is answered `204` with the allowed methods and headers. Any other origin gets no
 * CORS header (its preflight is answered `204` without them, so the browser refuses the call). Origins are
 * compared exactly (`scheme://host[:port]`, as the configuration validated them). `Vary: Origin` on every answer
 * of these paths, so a cache never serves one origin's answer to another. Other paths go on untouched.
 */
export function tokenCors(origins: readonly string[], paths: readonly RegExp[] = SPECTATE_TOKEN_PATHS): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const allowed = new Set(origins);
  return (req, res, next) => {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    if (!paths.some((p) => p.test(pathname))) return next();
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    const ok = typeof origin === 'string' && allowed.has(origin);
    if (ok) res.setHeader('Access-Control-Allow-Origin', origin);
    if (req.method !== 'OPTIONS') return next();
    if (ok) {
      res.setHeader('Access-Control-Allow-Methods', ALLOW_METHODS);
      res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
      res.setHeader('Access-Control-Max-Age', MAX_AGE_S);
    }
    res.statusCode = 204;
    res.setHeader('Content-Length', '0');
    res.end();
  };
}
