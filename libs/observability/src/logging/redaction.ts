/**
 * What the logs never show. Header names are those that carry credentials (the agents' bearer tokens, cookies,
 * API keys); field names are those Rewind's own objects use for secrets (sessionToken, apiKey, password…).
 * pino's `redact` replaces them with `[redacted]` wherever a logged object holds them at these paths; URLs are
 * cleaned by `redactUrl` (query values of secret-named parameters), which pino's paths cannot reach.
 */
export const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token', 'x-session-token'] as const;
export const SECRET_FIELDS = [
  'password',
  'passwd',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'sessionToken',
  'apiKey',
  'api_key',
  'authorization',
  'cookie',
  'credentials',
  'redactionKey',
] as const;

export const REDACTED = '[redacted]';

const prop = (name: string): string => (/^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `["${name}"]`);

/** pino `redact.paths`: the secret headers of requests and responses, and the secret fields up to two levels deep. */
export const REDACT_PATHS: string[] = [
  ...SECRET_HEADERS.flatMap((h) => [`req.headers${prop(h)}`, `res.headers${prop(h)}`, `headers${prop(h)}`]),
  ...SECRET_FIELDS.flatMap((f) => [f, `*${prop(f)}`, `*.*${prop(f)}`, `req.query${prop(f)}`]),
];

const SECRET_QUERY = /^(?:token|access_token|accesstoken|session_?token|api_?key|key|password|secret|auth|authorization|signature|sig)$/i;

/** A URL or path with the values of secret-named query parameters replaced (`?token=[redacted]`). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        // keep the raw name
      }
      return SECRET_QUERY.test(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}
