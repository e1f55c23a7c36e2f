/**
 * Parser fuzz (seeded, repeatable): attribution reads whatever a bot or a platform sent — paths, headers, JSON
 * bodies, WebSocket text. Given random bytes, truncations and mutations of real exchanges, when attributed, then
 * it always returns a result of the documented shape and never throws (no TypeError/RangeError), quickly.
 */
import type { SimulatedPlatform } from './platforms';
import { deepJsonArray, deepJsonObject, fuzz } from '@rewind/fuzz';
import { attributeHttp, attributeWs, bearerOf, bodyObject as jsonObject, HttpExchange, inspectWsMessage, moltstationOutcome } from './index';

const SEED = 'attribution-fuzz-1';
const CASES = 4000;
const PLATFORMS: SimulatedPlatform[] = ['moltstation', 'spacemolt', 'cloudplay', 'rgs'];
const fp = (s: string) => `[fp:${s.length}]`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** Real exchanges of each platform (from attribution.spec.ts): the starting points of mutations. */
const VALID: HttpExchange[] = [
  {
    platform: 'moltstation',
    method: 'POST',
    path: '/api/games/flappybots/sessions/start',
    requestHeaders: [['Authorization', 'Bearer tok-123456789']],
    requestBody: json({ source: 'agent_api' }),
    status: 200,
    responseBody: json({ sessionId: 'ms_1', source: 'agent_api' }),
  },
  { platform: 'moltstation', method: 'POST', path: '/api/auth/verify', requestHeaders: [], requestBody: Buffer.alloc(0), status: 200, responseBody: json({ accessToken: 'acc-123456789' }) },
  {
    platform: 'moltstation',
    method: 'POST',
    path: '/api/rewards/snapshot',
    requestHeaders: [['authorization', 'Bearer x']],
    requestBody: json({ sessionId: 'ms_1', gameSlug: 'flappybots' }),
    status: 200,
    responseBody: json({}),
  },
  { platform: 'moltstation', method: 'GET', path: '/api/games/flappybots/sessions/ms_1/state', requestHeaders: [], requestBody: Buffer.alloc(0), status: 200, responseBody: json({}) },
  { platform: 'spacemolt', method: 'POST', path: '/api/v2/session', requestHeaders: [], requestBody: Buffer.alloc(0), status: 200, responseBody: json({ session: { id: 'sid-secret-1' } }) },
  {
    platform: 'spacemolt',
    method: 'POST',
    path: '/api/v2/spacemolt_auth/login',
    requestHeaders: [['X-Session-Id', 'sid-secret-1']],
    requestBody: json({ username: 'u' }),
    status: 200,
    responseBody: json({}),
  },
  {
    platform: 'cloudplay',
    method: 'POST',
    path: '/api/game/launch',
    requestHeaders: [['authorization', 'Bearer b']],
    requestBody: json({ gameSlug: 'g' }),
    status: 202,
    responseBody: json({ sessionId: 'ses1', status: 'starting' }),
  },
  {
    platform: 'cloudplay',
    method: 'GET',
    path: '/api/game/session-status?sessionId=ses1',
    requestHeaders: [],
    requestBody: Buffer.alloc(0),
    status: 200,
    responseBody: json({ status: 'stopped', duration: 3 }),
  },
  { platform: 'cloudplay', method: 'POST', path: '/api/game/stop', requestHeaders: [], requestBody: json({ sessionId: 'ses1' }), status: 200, responseBody: json({ status: 'error', detail: 'x' }) },
  {
    platform: 'rgs',
    method: 'POST',
    path: '/operator/launch',
    requestHeaders: [],
    requestBody: json({ playerId: 'p1', gameCode: 'dice-alpha' }),
    status: 200,
    responseBody: json({ sessionId: 'rgs-1', launchUrl: 'http://h/rgs/dice?sessionToken=t0-0123456789&id=dice-alpha', expiresAt: '2026-01-01T00:00:00Z' }),
  },
  {
    platform: 'rgs',
    method: 'POST',
    path: '/session/refresh',
    requestHeaders: [['authorization', 'Bearer t0-0123456789']],
    requestBody: Buffer.alloc(0),
    status: 200,
    responseBody: json({ sessionToken: 't1-0123456789', expiresAt: '2026-01-01T01:00:00Z' }),
  },
  {
    platform: 'rgs',
    method: 'GET',
    path: '/game/balance',
    requestHeaders: [['authorization', 'Bearer t1']],
    requestBody: Buffer.alloc(0),
    status: 401,
    responseBody: json({ error: 'session_expired' }),
  },
];
const WS_TEXTS = [
  '{"t":"frame","frame":{"tick":61,"phase":"ended","score":{"current":33}}}',
  '{"t":"frame","frame":{"tick":1,"phase":"running"}}',
  '{"type":"login","payload":{"username":"pilot","password":"x"},"request_id":"r1"}',
  '{"type":"register","payload":{"username":"a","empire":"solarian"}}',
  '{"type":"logout"}',
  '{"\\u0074ype":"logout"}',
  '{"type":"welcome"}\n{"type":"logged_in"}',
];

/** The documented result shape of attributeHttp. */
function expectAttribution(a: ReturnType<typeof attributeHttp>): void {
  expect(typeof a.identity.key).toBe('string');
  expect(Array.isArray(a.credentials)).toBe(true);
  expect(Array.isArray(a.aliases)).toBe(true);
  if (a.expiresAtMs !== undefined) expect(Number.isFinite(a.expiresAtMs)).toBe(true);
}

describe(`attribution fuzz (seed ${SEED})`, () => {
  it(`given ${CASES} mutated or random HTTP exchanges, when attributed, then a well-formed result every time (no throw)`, () => {
    const f = fuzz(SEED);
    const started = Date.now();
    for (let i = 0; i < CASES; i++) {
      const c = f.fork(i);
      const base = c.pick(VALID);
      const mode = c.int(0, 3);
      const x: HttpExchange = {
        platform: c.bool(0.8) ? base.platform : c.pick(PLATFORMS),
        method: c.bool(0.8) ? base.method : c.pick(['GET', 'POST', 'PUT', '', 'post', c.hostileString()]),
        path: mode === 0 ? base.path : mode === 1 ? c.mutate(Buffer.from(base.path)).toString('latin1') : mode === 2 ? `${base.path}?${c.hostileString()}` : c.hostileString(),
        requestHeaders: c.bool(0.7)
          ? base.requestHeaders
          : [[c.pick(['authorization', 'Authorization', 'x-session-id', c.unicode(4)]), c.pick(['Bearer', 'Bearer  ', `Bearer ${c.hostileString()}`, c.hostileString()])]],
        requestBody: c.bool(0.5) ? c.mutate(base.requestBody) : c.bool() ? json(c.json()) : c.bytes(c.int(0, 64)),
        ...(c.bool(0.9) ? { status: c.pick([200, 202, 401, 500, 0, -1, 99999, base.status ?? 200]) } : {}),
        ...(c.bool(0.9) ? { responseBody: c.bool(0.5) ? c.mutate(base.responseBody ?? Buffer.alloc(0)) : c.bool() ? json(c.json()) : c.bytes(c.int(0, 64)) } : {}),
      };
      let result: ReturnType<typeof attributeHttp>;
      try {
        result = attributeHttp(x, fp);
      } catch (e) {
        throw new Error(
          `case ${i} (seed ${SEED}) threw ${(e as Error).name}: ${(e as Error).message}\n${JSON.stringify({ ...x, requestBody: x.requestBody.toString('base64'), responseBody: x.responseBody?.toString('base64') })}`,
          { cause: e },
        );
      }
      expectAttribution(result);
    }
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('given hostile JSON values in the fields attribution reads (arrays, numbers, nested objects, __proto__), then no throw and no prototype pollution', () => {
    const hostileValues: unknown[] = [null, 1, -0, true, [], ['a'], {}, { id: 'x' }, 'ok', '', 1e308, { toString: 'x' }, { __proto__: { polluted: 1 } }];
    for (const base of VALID) {
      for (const v of hostileValues) {
        const body = (o: Buffer | undefined) => {
          const parsed = jsonObject(o) ?? {};
          return Buffer.from(JSON.stringify(Object.fromEntries(Object.keys(parsed).map((k) => [k, v]))));
        };
        expectAttribution(attributeHttp({ ...base, requestBody: body(base.requestBody), responseBody: body(base.responseBody) }, fp));
      }
    }
    expect(attributeHttp({ ...VALID[0]!, responseBody: Buffer.from('{"__proto__":{"polluted":true},"sessionId":"s"}') }, fp).identity.key).toBe('session:s');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('given 100k-deep JSON bodies and messages, then attribution returns (JSON.parse is iterative) without a stack overflow', () => {
    for (const deep of [deepJsonArray(100_000), deepJsonObject(100_000)]) {
      for (const base of VALID) expectAttribution(attributeHttp({ ...base, requestBody: Buffer.from(deep), responseBody: Buffer.from(deep) }, fp));
      for (const p of PLATFORMS) for (const fromClient of [true, false]) expect(inspectWsMessage(p, fromClient, deep)).toEqual({});
      // a deep value where a signal is expected: still a clean answer
      expect(inspectWsMessage('moltstation', false, `{"t":"frame","frame":{"phase":"ended","x":${deep}}}`).finalFrame).toMatchObject({ phase: 'ended' });
    }
  });

  it(`given ${CASES} mutated or random WebSocket texts and paths, when inspected, then {} or a documented signal (agent string, finalFrame object, logout true)`, () => {
    const f = fuzz(`${SEED}/ws`);
    for (let i = 0; i < CASES; i++) {
      const c = f.fork(i);
      const text = c.bool(0.6) ? c.mutate(Buffer.from(c.pick(WS_TEXTS)), 6).toString(c.bool() ? 'utf8' : 'latin1') : c.bool() ? JSON.stringify(c.json(4)) : c.unicode(c.int(0, 200));
      const platform = c.pick(PLATFORMS);
      const s = inspectWsMessage(platform, c.bool(), text);
      for (const [k, v] of Object.entries(s)) {
        if (k === 'agent') expect(typeof v === 'string' && v.length > 0).toBe(true);
        else if (k === 'finalFrame') expect(typeof v === 'object' && v !== null).toBe(true);
        else if (k === 'logout') expect(v).toBe(true);
        else throw new Error(`case ${i}: unexpected signal ${k}`);
      }
      const w = attributeWs(platform, c.bool() ? `/ws/${c.hostileString()}/play?sessionId=${c.hostileString()}` : c.hostileString(), c.hostileString());
      expect(typeof w.identity.key).toBe('string');
      const outcome = moltstationOutcome(c.bool() ? (c.json(3) as Record<string, unknown>) : null, c.bool() ? c.hostileString() : null);
      expect(outcome).toEqual(expect.objectContaining({ reason: expect.any(String) }));
      expect(outcome['score'] === null || typeof outcome['score'] === 'number').toBe(true);
      const b = bearerOf([['authorization', c.hostileString()]]);
      expect(b === undefined || (typeof b === 'string' && !/\s/.test(b))).toBe(true);
    }
  });
});
