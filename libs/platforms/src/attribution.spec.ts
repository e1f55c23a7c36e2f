import { attributeHttp, attributeWs, HttpExchange, inspectWsMessage, moltstationOutcome } from './index';

const fp = (s: string) => `[redacted:${Buffer.from(s).toString('hex').slice(0, 16).padEnd(16, '0')}]`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const x = (o: Partial<HttpExchange> & Pick<HttpExchange, 'platform' | 'method' | 'path'>): HttpExchange => ({ requestHeaders: [], requestBody: Buffer.alloc(0), ...o });

describe('attribution: which run a message belongs to', () => {
  it('MoltStation: the start response names the run; an agent_api start asks for a spectator; the owner bearer is learnt (never stored)', () => {
    const a = attributeHttp(
      x({
        platform: 'moltstation',
        method: 'POST',
        path: '/api/games/flappybots/sessions/start',
        requestHeaders: [['Authorization', 'Bearer tok-123456789']],
        requestBody: json({ source: 'agent_api' }),
        status: 200,
        responseBody: json({ sessionId: 'ms_1', source: 'agent_api' }),
      }),
      fp,
    );
    expect(a.identity).toMatchObject({ key: 'session:ms_1', platformSessionId: 'ms_1', game: 'flappybots', source: 'agent_api', agent: fp('tok-123456789') });
    expect(a.task).toEqual({ kind: 'moltstation-spectate', params: { slug: 'flappybots', platformSessionId: 'ms_1' } });
    expect(a.credentials).toEqual([{ key: 'session:ms_1', name: 'bearer', value: 'tok-123456789' }]);
    const practice = attributeHttp(x({ platform: 'moltstation', method: 'POST', path: '/api/games/flappybots/sessions/start', status: 200, responseBody: json({ sessionId: 'ms_2' }) }), fp);
    expect(practice.identity.source).toBe('browser_ws');
    expect(practice.task).toBeUndefined();
    const login = attributeHttp(x({ platform: 'moltstation', method: 'POST', path: '/api/auth/verify', status: 200, responseBody: json({ accessToken: 'acc-123456789' }) }), fp);
    expect(login.identity.key).toBe(`account:${fp('acc-123456789')}`);
  });

  it('SpaceMolt HTTP: the session id is a credential — the run is keyed by its fingerprint; logout ends it', () => {
    const created = attributeHttp(x({ platform: 'spacemolt', method: 'POST', path: '/api/v2/session', status: 200, responseBody: json({ session: { id: 'sid-secret-1' } }) }), fp);
    expect(created.identity).toMatchObject({ key: `session:${fp('sid-secret-1')}`, platformSessionId: null });
    const out = attributeHttp(x({ platform: 'spacemolt', method: 'POST', path: '/api/v2/spacemolt_auth/logout', requestHeaders: [['X-Session-Id', 'sid-secret-1']], status: 200 }), fp);
    expect(out.identity.key).toBe(`session:${fp('sid-secret-1')}`);
    expect(out.end).toEqual({ reason: 'logout', outcome: { reason: 'logout', via: 'http' } });
  });

  it('cloud-play: launch, status and stop share the run; stopped ends it with the statistics', () => {
    const launch = attributeHttp(
      x({ platform: 'cloudplay', method: 'POST', path: '/api/game/launch', requestBody: json({ gameSlug: 'g' }), status: 202, responseBody: json({ sessionId: 'ses1', status: 'starting' }) }),
      fp,
    );
    expect(launch.task).toEqual({ kind: 'cloudplay-poll', params: { sessionId: 'ses1' } });
    const stop = attributeHttp(
      x({ platform: 'cloudplay', method: 'POST', path: '/api/game/stop', requestBody: json({ sessionId: 'ses1' }), status: 200, responseBody: json({ status: 'stopped', duration: 12 }) }),
      fp,
    );
    expect(stop.identity.key).toBe('session:ses1');
    expect(stop.end).toEqual({ reason: 'stopped', outcome: { reason: 'stopped', duration: 12 } });
  });

  it('RGS: the launch URL token and a refreshed token are aliases of one run; session_expired ends it', () => {
    const launch = attributeHttp(
      x({
        platform: 'rgs',
        method: 'POST',
        path: '/operator/launch',
        requestBody: json({ playerId: 'p1', gameCode: 'dice-alpha' }),
        status: 200,
        responseBody: json({ sessionId: 'rgs-1', launchUrl: 'http://h/rgs/dice?sessionToken=t0-0123456789&id=dice-alpha', expiresAt: '2026-01-01T00:00:00Z' }),
      }),
      fp,
    );
    expect(launch.identity).toMatchObject({ key: 'session:rgs-1', agent: 'p1', game: 'dice-alpha' });
    expect(launch.aliases).toEqual([`token:${fp('t0-0123456789')}`]);
    const refresh = attributeHttp(
      x({
        platform: 'rgs',
        method: 'POST',
        path: '/session/refresh',
        requestHeaders: [['authorization', 'Bearer t0-0123456789']],
        status: 200,
        responseBody: json({ sessionToken: 't1-0123456789', expiresAt: '2026-01-01T01:00:00Z' }),
      }),
      fp,
    );
    expect(refresh.identity.key).toBe(`token:${fp('t0-0123456789')}`);
    expect(refresh.aliases).toEqual([`token:${fp('t1-0123456789')}`]);
    expect(refresh.expiresAtMs).toBe(Date.parse('2026-01-01T01:00:00Z'));
    const expired = attributeHttp(
      x({ platform: 'rgs', method: 'GET', path: '/game/balance', requestHeaders: [['authorization', 'Bearer t1-0123456789']], status: 401, responseBody: json({ error: 'session_expired' }) }),
      fp,
    );
    expect(expired.end?.reason).toBe('expired');
  });

  it('WebSockets: MoltStation by ?sessionId=, SpaceMolt one run per connection', () => {
    expect(attributeWs('moltstation', '/ws/shellrunners/play?sessionId=ms_9', 'ws-1').identity).toMatchObject({ key: 'session:ms_9', game: 'shellrunners' });
    expect(attributeWs('spacemolt', '/ws', 'ws-7').identity.key).toBe('session:ws-ws-7');
  });

  it('message signals: the final MoltStation frame, SpaceMolt login and logout; ordinary frames carry none (also when keys are escaped)', () => {
    expect(inspectWsMessage('moltstation', false, '{"t":"frame","frame":{"tick":61,"phase":"ended","score":{"current":33}}}')).toEqual({
      finalFrame: { tick: 61, phase: 'ended', score: { current: 33 } },
    });
    expect(inspectWsMessage('moltstation', false, '{"t":"frame","frame":{"tick":61,"\\u0070hase":"ended"}}')).toEqual({ finalFrame: { tick: 61, phase: 'ended' } });
    expect(inspectWsMessage('moltstation', false, '{"t":"frame","frame":{"tick":60,"phase":"running"}}')).toEqual({});
    expect(inspectWsMessage('moltstation', true, '{"t":"input","dir":"left","phase":"ended"}')).toEqual({});
    expect(inspectWsMessage('spacemolt', true, '{"type":"login","payload":{"username":"ana","password":"x"}}')).toEqual({ agent: 'ana' });
    expect(inspectWsMessage('spacemolt', true, '{"type":"logout"}')).toEqual({ logout: true });
    expect(inspectWsMessage('spacemolt', false, '{"type":"logout"}')).toEqual({});
    expect(inspectWsMessage('spacemolt', true, '{"type":"mine"}')).toEqual({});
  });

  it('the MoltStation outcome comes from the final frame and the close reason', () => {
    expect(moltstationOutcome({ tick: 61, phase: 'ended', score: { current: 33 }, lives: 0, gameOverReason: 'OBSTACLE_COLLISION' }, 'GAME_OVER')).toEqual({
      reason: 'GAME_OVER',
      phase: 'ended',
      tick: 61,
      score: 33,
      lives: 0,
      gameOverReason: 'OBSTACLE_COLLISION',
    });
  });
});
