import { PROXIED_PLATFORMS, ProxiedPlatform } from './types';

export type RouteResult =
  | { ok: true; platform: ProxiedPlatform; /** The platform's own path + query, as the client sent it. */ platformPath: string; /** Without the query. */ pathOnly: string }
  | { ok: false; status: 400 | 404; error: 'bad_request_target' | 'bad_path' | 'unknown_platform'; message: string };

/**
 * Splits a request target `/<platform>/<platform path>?<query>` and refuses anything that could make the proxy
 * reach another place than the configured upstream base: absolute-form / authority-form / asterisk targets,
 * dot segments (`.`/`..`, also percent-encoded), encoded slashes or backslashes, NUL and control characters.
 */
export function routeRequestTarget(target: string | undefined, configured: ReadonlySet<string>): RouteResult {
  const raw = target ?? '';
  const refused = refuseTarget(raw);
  if (refused) return refused;
  const q = raw.indexOf('?');
  const pathOnly = q >= 0 ? raw.slice(0, q) : raw;
  const m = /^\/([^/]*)(\/.*)?$/.exec(pathOnly);
  const name = m?.[1] ?? '';
  if (!(PROXIED_PLATFORMS as readonly string[]).includes(name) || !configured.has(name)) {
    return { ok: false, status: 404, error: 'unknown_platform', message: 'unknown or unconfigured platform' };
  }
  return platformRoute(name as ProxiedPlatform, m?.[2] ?? '', q >= 0 ? raw.slice(q) : '');
}

/**
 * The same checks for a listener that serves one platform at its root (`REWIND_PROXY_PORT_<PLATFORM>`): the
 * whole request target is the platform's own path, so `/ws/flappybots/play?…` here is what
 * `/moltstation/ws/flappybots/play?…` is on the prefixed listener (same platform path, same facts).
 */
export function routeRootTarget(target: string | undefined, platform: ProxiedPlatform): RouteResult {
  const raw = target ?? '';
  const refused = refuseTarget(raw);
  if (refused) return refused;
  const q = raw.indexOf('?');
  return platformRoute(platform, q >= 0 ? raw.slice(0, q) : raw, q >= 0 ? raw.slice(q) : '');
}

/** Only origin-form targets without control characters or backslashes. */
function refuseTarget(raw: string): Extract<RouteResult, { ok: false }> | undefined {
  if (!raw.startsWith('/') || raw.startsWith('//')) return { ok: false, status: 400, error: 'bad_request_target', message: 'only origin-form request targets (/<platform>/…) are accepted' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return { ok: false, status: 400, error: 'bad_path', message: 'control characters or backslashes in the request target' };
  return undefined;
}

/** `rest`: the platform's path without the query ('' for the bare prefix); no dot segment or encoded separator. */
function platformRoute(platform: ProxiedPlatform, rest: string, query: string): RouteResult {
  for (const segment of rest.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return { ok: false, status: 400, error: 'bad_path', message: 'malformed percent-encoding in the path' };
    }
    // eslint-disable-next-line no-control-regex -- NUL is exactly what this refuses
    if (decoded === '.' || decoded === '..' || /[/\\\u0000]/.test(decoded)) return { ok: false, status: 400, error: 'bad_path', message: 'dot segments and encoded separators are not allowed' };
  }
  return { ok: true, platform, platformPath: `${rest || '/'}${query}`, pathOnly: rest || '/' };
}

export interface Upstream {
  platform: ProxiedPlatform;
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number;
  /** Host header value (host[:port] of the base URL). */
  host: string;
  /** Base path without trailing slash ('' for a root base). */
  basePath: string;
}

/** Validates the configured upstream base URLs (http/https only, no query, no credentials). */
export function parseUpstreams(upstreams: Partial<Record<ProxiedPlatform, string>>): Map<ProxiedPlatform, Upstream> {
  const out = new Map<ProxiedPlatform, Upstream>();
  for (const [platform, base] of Object.entries(upstreams) as [ProxiedPlatform, string | undefined][]) {
    if (base === undefined) continue;
    if (!(PROXIED_PLATFORMS as readonly string[]).includes(platform)) throw new Error(`recording proxy: unknown platform "${platform}"`);
    const u = new URL(base);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`recording proxy: upstream for ${platform} must be http(s), got ${u.protocol}`);
    if (u.search || u.hash || u.username || u.password) throw new Error(`recording proxy: upstream for ${platform} must not carry a query, fragment or credentials`);
    out.set(platform, {
      platform,
      protocol: u.protocol,
      hostname: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80,
      host: u.host,
      basePath: u.pathname.replace(/\/+$/, ''),
    });
  }
  return out;
}

/** The upstream request path: always the configured base path + the (already validated) platform path. */
export function upstreamPath(up: Upstream, platformPath: string): string {
  return `${up.basePath}${platformPath}`;
}
