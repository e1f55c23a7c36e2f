import { parseUpstreams, routeRequestTarget, routeRootTarget, upstreamPath } from './path-safety';
import { forwardHeaders } from './headers';

const configured = new Set(['moltstation', 'rgs']);

describe('routeRequestTarget', () => {
  it('splits /<platform>/<platform path>?<query> and keeps the query verbatim', () => {
    expect(routeRequestTarget('/moltstation/ws/shellrunners/play?sessionId=ms_1&token=a%2Fb', configured)).toEqual({
      ok: true,
      platform: 'moltstation',
      platformPath: '/ws/shellrunners/play?sessionId=ms_1&token=a%2Fb',
      pathOnly: '/ws/shellrunners/play',
    });
    expect(routeRequestTarget('/rgs', configured)).toMatchObject({ ok: true, platformPath: '/' });
    expect(routeRequestTarget('/rgs?x=1', configured)).toMatchObject({ ok: true, platformPath: '/?x=1', pathOnly: '/' });
  });

  it.each(['/spacemolt/ws', '/nope', '/', '/admin/faults', '/RGS/game'])('%s → 404 unknown_platform', (t) => {
    expect(routeRequestTarget(t, configured)).toMatchObject({ ok: false, status: 404, error: 'unknown_platform' });
  });

  it.each([
    'http://evil/rgs/x',
    '//evil/rgs',
    '*',
    'evil:443',
    '/rgs/..',
    '/rgs/a/../../x',
    '/rgs/%2E%2e/x',
    '/rgs/.%2e/x',
    '/rgs/a%2f..%2fb',
    '/rgs/a%5cb',
    '/rgs/a\\b',
    '/rgs/%zz',
    '/rgs/a%00',
    '/rgs/./a',
  ])('%s → 400', (t) => {
    expect(routeRequestTarget(t, configured)).toMatchObject({ ok: false, status: 400 });
  });

  it('a platform served at the root of its own port: the whole target is the platform path, as the prefixed form gives it', () => {
    const target = '/ws/shellrunners/play?sessionId=ms_1&token=a%2Fb';
    expect(routeRootTarget(target, 'moltstation')).toEqual(routeRequestTarget(`/moltstation${target}`, configured));
    expect(routeRootTarget('/', 'rgs')).toEqual({ ok: true, platform: 'rgs', platformPath: '/', pathOnly: '/' });
    expect(routeRootTarget('/?x=1', 'rgs')).toMatchObject({ ok: true, platformPath: '/?x=1', pathOnly: '/' });
    // every path belongs to the listener's platform: no unknown_platform here, the platform answers unknown paths itself
    expect(routeRootTarget('/moltstation/ws', 'rgs')).toMatchObject({ ok: true, platform: 'rgs', platformPath: '/moltstation/ws' });
    for (const bad of ['http://evil/x', '//evil', '*', '/..', '/a/%2e%2e/x', '/a%2fb', '/a\\b', '/%zz', '/a%00']) {
      expect(routeRootTarget(bad, 'rgs')).toMatchObject({ ok: false, status: 400 });
    }
  });

  it('the upstream path is always the configured base path + the platform path', () => {
    const up = parseUpstreams({ rgs: 'http://127.0.0.1:4100/rgs/' }).get('rgs')!;
    expect(up).toMatchObject({ host: '127.0.0.1:4100', basePath: '/rgs', port: 4100, protocol: 'http:' });
    expect(upstreamPath(up, '/game/play?x=1')).toBe('/rgs/game/play?x=1');
    expect(() => parseUpstreams({ rgs: 'ftp://x/rgs' })).toThrow(/http/);
    expect(() => parseUpstreams({ rgs: 'http://u:p@x/rgs' })).toThrow(/credentials/);
  });
});

describe('forwardHeaders', () => {
  it('drops hop-by-hop headers and those named by Connection, replaces Host, keeps the rest in order', () => {
    const raw = [
      'Host',
      'proxy:8081',
      'Authorization',
      'Bearer t',
      'Connection',
      'keep-alive, X-Hop',
      'X-Hop',
      '1',
      'Transfer-Encoding',
      'chunked',
      'TE',
      'trailers',
      'Set-Cookie',
      'a',
      'Set-Cookie',
      'b',
      'Content-Length',
      '3',
    ];
    expect(forwardHeaders(raw, { host: 'up:1' })).toEqual(['Host', 'up:1', 'Authorization', 'Bearer t', 'Set-Cookie', 'a', 'Set-Cookie', 'b', 'Content-Length', '3']);
    expect(forwardHeaders(['Sec-WebSocket-Key', 'k', 'Sec-WebSocket-Protocol', 'p', 'Origin', 'o', 'Upgrade', 'websocket'], { host: 'up:1', ws: true })).toEqual(['Origin', 'o', 'Host', 'up:1']);
  });
});
