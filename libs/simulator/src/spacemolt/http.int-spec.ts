import { RunningSimulator, startSimulator } from '../index';
import { IMPLEMENTED_MUTATIONS } from './game';
import { TestWs } from './test-client';

let sim: RunningSimulator;
let base: string;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 'test-http', platformOptions: { spacemolt: { tickMs: 100 } } });
  base = sim.baseUrl('spacemolt');
});
afterEach(() => sim.faults.clear());
afterAll(async () => {
  await sim.close();
});

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

async function call(method: string, path: string, opts: { session?: string; body?: unknown; raw?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.session) headers['x-session-id'] = opts.session;
  const body = opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined);
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

let seq = 0;
async function v2Player(): Promise<{ session: string; username: string; password: string }> {
  const s = await call('POST', '/api/v2/session');
  const session = s.json.session.id as string;
  const username = `http_pilot_${++seq}`;
  const r = await call('POST', '/api/v2/spacemolt_auth/register', { session, body: { username, empire: 'solarian', registration_code: 'c' } });
  expect(r.status).toBe(200);
  return { session, username, password: r.json.structuredContent.password };
}

describe('SpaceMolt HTTP API v2', () => {
  it('POST /api/v2/session creates a session; every response is application/json', async () => {
    const r = await call('POST', '/api/v2/session');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.json).toEqual({
      result: expect.any(Object),
      notifications: [],
      session: { id: expect.stringMatching(/^[0-9a-f]{32}$/), created_at: expect.any(String), expires_at: expect.any(String) },
      error: null,
    });
    expect(r.json).not.toHaveProperty('structuredContent');
    expect(Date.parse(r.json.session.expires_at) - Date.parse(r.json.session.created_at)).toBe(30 * 60 * 1000);
  });

  it('session codes: session_required, session_invalid, not_authenticated (401)', async () => {
    const none = await call('POST', '/api/v2/spacemolt/get_status');
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('session_required');
    const bad = await call('POST', '/api/v2/spacemolt/get_status', { session: 'deadbeef' });
    expect(bad.status).toBe(401);
    expect(bad.json.error.code).toBe('session_invalid');
    const s = (await call('POST', '/api/v2/session')).json.session.id;
    const anon = await call('POST', '/api/v2/spacemolt/get_status', { session: s });
    expect(anon.status).toBe(401);
    expect(anon.json).toEqual({ error: { code: 'not_authenticated', message: expect.any(String) }, notifications: [], session: expect.objectContaining({ id: s }) });
    // The v1 and v2 pools are separate.
    const v1 = await call('POST', '/api/v1/get_status', { session: s });
    expect(v1.json.error.code).toBe('session_invalid');
  });

  it('register/login through X-Session-Id; session.player_id appears; queries return structuredContent', async () => {
    const { session, username, password } = await v2Player();
    const st = await call('POST', '/api/v2/spacemolt/get_status', { session });
    expect(st.status).toBe(200);
    expect(st.json).toEqual({
      result: expect.any(String),
      structuredContent: expect.objectContaining({
        player: expect.objectContaining({ username, credits: 1000 }),
        ship: expect.any(Object),
        location: expect.objectContaining({ poi_id: 'earth', docked_at: 'earth_station' }),
      }),
      notifications: [],
      session: expect.objectContaining({ id: session, player_id: expect.any(String) }),
      error: null,
    });
    const s2 = (await call('POST', '/api/v2/session')).json.session.id;
    const li = await call('POST', '/api/v2/spacemolt_auth/login', { session: s2, body: { username, password } });
    expect(li.status).toBe(200);
    expect(li.json.structuredContent).toEqual(
      expect.objectContaining({ player: expect.any(Object), ship: expect.any(Object), system: expect.any(Object), poi: expect.any(Object), captains_log: [], pending_trades: [] }),
    );
    // One connection per account: the first session is now invalid.
    expect((await call('POST', '/api/v2/spacemolt/get_status', { session })).json.error.code).toBe('session_invalid');
  });

  it('mutations block until the tick; PendingActionResponse + action_result and mining_yield in notifications', async () => {
    const { session } = await v2Player();
    const t = await call('POST', '/api/v2/spacemolt/travel', { session, body: { id: 'main_belt' } });
    expect(t.status).toBe(200);
    expect(t.json.structuredContent).toEqual(expect.objectContaining({ action: 'arrived', poi_id: 'main_belt', auto_undocked: true }));
    const m = await call('POST', '/api/v2/spacemolt/mine', { session }); // no body at all, like client-v2
    expect(m.status).toBe(200);
    expect(m.json.structuredContent).toEqual({ pending: true, command: 'mine', message: expect.stringMatching(/^Mined \d+x /) });
    const types = m.json.notifications.map((n: { msg_type: string }) => n.msg_type);
    expect(types).toEqual(['mining_yield', 'action_result']);
    for (const n of m.json.notifications) expect(n).toEqual({ id: expect.any(String), type: 'system', msg_type: expect.any(String), timestamp: expect.any(String), data: expect.any(Object) });
    expect(m.json.notifications[1].data).toEqual(
      expect.objectContaining({ command: 'mine', tick: expect.any(Number), result: expect.objectContaining({ quantity: m.json.notifications[0].data.quantity }) }),
    );
    // Drained: the next response carries none.
    expect((await call('POST', '/api/v2/spacemolt/get_cargo', { session })).json.notifications).toEqual([]);
  });

  it('a failing pending-envelope mutation reports action_error in notifications; typed mutations answer 400 with the code', async () => {
    const { session } = await v2Player();
    const d = await call('POST', '/api/v2/spacemolt/dock', { session });
    expect(d.status).toBe(200);
    expect(d.json.notifications).toEqual([expect.objectContaining({ msg_type: 'action_error', data: expect.objectContaining({ command: 'dock', code: 'already_docked' }) })]);
    const s = await call('POST', '/api/v2/spacemolt/sell', { session, body: { id: 'iron_ore', quantity: 5 } });
    expect(s.status).toBe(400);
    expect(s.json.error).toEqual({ code: 'item_not_in_cargo', message: expect.any(String) });
    const badParams = await call('POST', '/api/v2/spacemolt/sell', { session, body: { id: 'iron_ore' } });
    expect(badParams.status).toBe(400);
    expect(badParams.json.error.code).toBe('invalid_payload');
  });

  it('queued pushes (chat) are delivered in the notifications array and by GET /api/v2/notifications', async () => {
    const a = await v2Player();
    const b = await v2Player();
    const chat = await call('POST', '/api/v2/spacemolt_social/chat', { session: a.session, body: { target: 'local', content: 'hi from http' } });
    expect(chat.status).toBe(200);
    expect(chat.json.structuredContent).toEqual({ action: 'chat', channel: 'local' });
    expect(chat.json.notifications).toEqual([expect.objectContaining({ type: 'chat', msg_type: 'chat_message', data: expect.objectContaining({ content: 'hi from http', sender: a.username }) })]);
    const peek = await call('GET', '/api/v2/notifications?clear=false&types=chat', { session: b.session });
    expect(peek.status).toBe(200);
    expect(peek.json.result).toEqual({
      notifications: [expect.objectContaining({ msg_type: 'chat_message' })],
      count: 1,
      remaining: 1,
      current_tick: expect.any(Number),
      timestamp: expect.any(Number),
    });
    expect(peek.json).not.toHaveProperty('structuredContent');
    const polled = await call('GET', '/api/v2/notifications', { session: b.session });
    expect(polled.json.result.count).toBe(1);
    expect(polled.json.result.remaining).toBe(0);
  });

  it('status-429: IP-limit body on session/login, envelope with retry_after elsewhere; Retry-After header', async () => {
    sim.faults.add({ platform: 'spacemolt', fault: 'status-429', params: { retryAfter: 54 }, times: 1 });
    const r = await call('POST', '/api/v2/session');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('54');
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.json).toEqual({ error: 'rate_limited', message: expect.any(String), retry_after: 54 });
    const { session } = await v2Player();
    sim.faults.add({ platform: 'spacemolt', fault: 'status-429', target: session, params: { retryAfter: 3 }, times: 1 });
    const g = await call('POST', '/api/v2/spacemolt/get_status', { session });
    expect(g.status).toBe(429);
    expect(g.json.error).toEqual({ code: 'rate_limited', message: expect.any(String), retry_after: 3 });
    expect(g.headers.get('retry-after')).toBe('3');
    expect((await call('POST', '/api/v2/spacemolt/get_status', { session })).status).toBe(200);
  });

  it('status-503 and drop-socket faults', async () => {
    const { session } = await v2Player();
    sim.faults.add({ platform: 'spacemolt', fault: 'status-503', target: session, times: 1 });
    const r = await call('POST', '/api/v2/spacemolt/get_status', { session });
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('service_unavailable');
    sim.faults.add({ platform: 'spacemolt', fault: 'drop-socket', target: session, times: 1 });
    await expect(call('POST', '/api/v2/spacemolt/get_status', { session })).rejects.toThrow();
    expect((await call('POST', '/api/v2/spacemolt/get_status', { session })).status).toBe(200);
  });

  it('bad input: malformed JSON, oversized body, unknown tool/action, missing action, wrong method', async () => {
    const { session } = await v2Player();
    const bad = await call('POST', '/api/v2/spacemolt/get_status', { session, raw: '{oops' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_json');
    const big = await call('POST', '/api/v2/spacemolt/get_status', { session, raw: JSON.stringify({ pad: 'x'.repeat(100 * 1024) }) });
    expect(big.status).toBe(400);
    expect(big.json.error.code).toBe('payload_too_large');
    expect((await call('POST', '/api/v2/nope/thing', { session })).json.error.code).toBe('unknown_command');
    expect((await call('POST', '/api/v2/spacemolt/warp', { session })).json.error.code).toBe('unknown_command');
    expect((await call('POST', '/api/v2/spacemolt', { session })).json.error.code).toBe('missing_action');
    const viaField = await call('POST', '/api/v2/spacemolt', { session, body: { action: 'get_cargo' } });
    expect(viaField.status).toBe(200);
    const get = await call('GET', '/api/v2/spacemolt/get_status', { session });
    expect(get.status).toBe(405);
    expect(get.json.error.code).toBe('method_not_allowed');
    const ni = await call('POST', '/api/v2/spacemolt_faction/list', { session });
    expect(ni.status).toBe(400);
    expect(ni.json.error).toEqual({ code: 'not_implemented', message: expect.stringContaining('faction_list') });
  });

  it('delay-results delays the blocked mutation response (target = session id)', async () => {
    const { session } = await v2Player();
    sim.faults.add({ platform: 'spacemolt', fault: 'delay-results', target: session, params: { ms: 500 }, times: 1 });
    const t0 = Date.now();
    const r = await call('POST', '/api/v2/spacemolt/undock', { session });
    expect(r.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
  });

  it('POST /api/v2/agentlogs records an entry; a login on a logged-in session switches it', async () => {
    const a = await v2Player();
    const ok = await call('POST', '/api/v2/agentlogs', { session: a.session, body: { category: 'nav', severity: 'info', message: 'hello' } });
    expect(ok.status).toBe(200);
    expect(ok.json.structuredContent).toEqual({ message: 'Log entry recorded.' });
    const bad = await call('POST', '/api/v2/agentlogs', { session: a.session, body: { category: 'nav' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_params');
    const b = await v2Player();
    const li = await call('POST', '/api/v2/spacemolt_auth/login', { session: a.session, body: { username: b.username, password: b.password } });
    expect(li.status).toBe(200);
    expect((await call('POST', '/api/v2/spacemolt/get_status', { session: a.session })).json.structuredContent.player.username).toBe(b.username);
  });

  it('every v2 action of the spec answers JSON (result or a well-formed error) without crashing', async () => {
    const { session } = await v2Player();
    const spec = (await call('GET', '/api/v2/openapi.json')).json;
    for (const [p, ops] of Object.entries(spec.paths as Record<string, Record<string, { 'x-is-mutation'?: boolean }>>)) {
      if (/\/(session|notifications|agentlogs|spacemolt_auth\/(logout|login|register))$/.test(p)) continue;
      for (const [method, op] of Object.entries(ops)) {
        const implementedMutation = op['x-is-mutation'] && IMPLEMENTED_MUTATIONS.has(p.split('/').pop()!);
        if (implementedMutation) continue;
        const r = await call(method.toUpperCase(), p.replace(/^\/api\/v2/, '/api/v2'), { session });
        expect(r.headers.get('content-type')).toContain('application/json');
        expect([200, 400]).toContain(r.status);
        if (r.status === 400) expect(r.json.error).toEqual(expect.objectContaining({ code: expect.any(String), message: expect.any(String) }));
        if (op['x-is-mutation']) expect(r.json.error.code).toBe('not_implemented');
      }
    }
    expect((await call('POST', '/api/v2/spacemolt/get_status', { session })).status).toBe(200);
  });

  it('GET /api/v2/{tool}/help lists the actions', async () => {
    const r = await call('GET', '/api/v2/spacemolt/help');
    expect(r.status).toBe(200);
    expect(r.json.result).toContain('mine [mutation]');
    expect(r.json).not.toHaveProperty('structuredContent');
  });

  it('serves the v2 OpenAPI document (and v1 at /api/openapi.json)', async () => {
    const r = await call('GET', '/api/v2/openapi.json');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.json.info['x-gameserver-version']).toBe('v0.327.2');
    expect(Object.keys(r.json.paths)).toContain('/api/v2/spacemolt/mine');
    const v1 = await call('GET', '/api/openapi.json');
    expect(Object.keys(v1.json.paths)).toHaveLength(179);
  });
});

describe('SpaceMolt HTTP API v1', () => {
  it('session → login → command, with the documented envelope', async () => {
    const s = await call('POST', '/api/v1/session');
    expect(s.json).toEqual({
      result: { message: 'Session created. Include the X-Session-Id header with all requests.' },
      session: { id: expect.any(String), created_at: expect.any(String), expires_at: expect.any(String) },
    });
    const session = s.json.session.id;
    const reg = await call('POST', '/api/v1/register', { session, body: { username: 'v1_pilot', empire: 'crimson', registration_code: 'c' } });
    expect(reg.json.result).toEqual(
      expect.objectContaining({
        password: expect.any(String),
        player_id: expect.any(String),
        player: expect.any(Object),
        ship: expect.any(Object),
        system: expect.any(Object),
        poi: expect.any(Object),
        message: expect.any(String),
      }),
    );
    expect(reg.json.session.player_id).toBe(reg.json.result.player_id);
    const st = await call('POST', '/api/v1/get_status', { session, body: {} });
    expect(st.json).toEqual({
      result: expect.objectContaining({ player: expect.objectContaining({ username: 'v1_pilot' }), ship: expect.any(Object), modules: expect.any(Array) }),
      notifications: [],
      session: expect.objectContaining({ id: session }),
      error: null,
    });
    const un = await call('POST', '/api/v1/undock', { session, body: {} });
    expect(un.json.result).toEqual(expect.objectContaining({ action: 'undock' }));
    const ni = await call('POST', '/api/v1/create_faction', { session, body: { name: 'x', tag: 'x' } });
    expect(ni.status).toBe(400);
    expect(ni.json).toEqual({ error: { code: 'not_implemented', message: expect.any(String) }, session: expect.any(Object) });
    const unknown = await call('POST', '/api/v1/hyperdrive', { session, body: {} });
    expect(unknown.json.error.code).toBe('unknown_command');
    const bad = await call('POST', '/api/v1/get_status', { session, raw: 'nope' });
    expect(bad.json.error.code).toBe('invalid_payload');
    sim.faults.add({ platform: 'spacemolt', fault: 'status-429', target: session, params: { retryAfter: 8 }, times: 1 });
    const limited = await call('POST', '/api/v1/get_status', { session, body: {} });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('8');
    expect(limited.json.error).toEqual({ code: 'rate_limited', message: expect.any(String), wait_seconds: 8 });
  });

  it('get_version works before login; commands need a session', async () => {
    const s = (await call('POST', '/api/v1/session')).json.session.id;
    const v = await call('POST', '/api/v1/get_version', { session: s });
    expect(v.status).toBe(200);
    expect(v.json.result.version).toBe('0.327.2');
    expect((await call('POST', '/api/v1/get_status', { session: s })).json.error.code).toBe('not_authenticated');
    expect((await call('POST', '/api/v1/get_status')).json.error.code).toBe('session_required');
  });

  it('every v1 command answers JSON without crashing the server', async () => {
    const spec = (await call('GET', '/api/openapi.json')).json;
    const s = (await call('POST', '/api/v1/session')).json.session.id;
    await call('POST', '/api/v1/register', { session: s, body: { username: 'v1_sweeper', empire: 'voidborn', registration_code: 'c' } });
    const commands = Object.keys(spec.paths)
      .map((p: string) => p.slice(1))
      .filter((c: string) => !['logout', 'session', 'register', 'login'].includes(c) && !spec.paths[`/${c}`].post['x-is-mutation']);
    for (const c of commands) {
      const r = await call('POST', `/api/v1/${c}`, { session: s, body: {} });
      expect(r.headers.get('content-type')).toContain('application/json');
      expect([200, 400]).toContain(r.status);
      if (r.status === 400) expect(r.json.error).toEqual(expect.objectContaining({ code: expect.any(String), message: expect.any(String) }));
    }
    // Mutations not implemented answer at once (no tick wait).
    const muts = Object.keys(spec.paths)
      .filter((p: string) => spec.paths[p].post['x-is-mutation'])
      .map((p: string) => p.slice(1));
    expect(muts).toHaveLength(91);
    for (const c of muts.filter((m: string) => !IMPLEMENTED_MUTATIONS.has(m))) {
      const r = await call('POST', `/api/v1/${c}`, { session: s, body: {} });
      expect(r.json.error.code).toBe('not_implemented');
    }
  });

  it('an HTTP login closes the account’s WebSocket with 4001', async () => {
    const ws = await TestWs.open(`${base.replace(/^http/, 'ws')}/ws`);
    await ws.next((m) => m.type === 'welcome');
    const reg = await ws.request('register', { username: 'both_ways', empire: 'solarian', registration_code: 'c' }, 'r');
    const s = (await call('POST', '/api/v1/session')).json.session.id;
    const li = await call('POST', '/api/v1/login', { session: s, body: { username: 'both_ways', password: reg.payload!['password'] } });
    expect(li.status).toBe(200);
    expect((await ws.waitClose()).code).toBe(4001);
  });
});
