import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@rewind/testing';
import { RunningSimulator, startSimulator } from '../index';
import { isFlappyFrame } from './flappybots-frame-validator';
import { resetMoltStationOptions, setMoltStationOptions } from './options';
import { http, login, rawSocket, RawSocket, sleep } from './test-helpers';

const WALLET = '0x1111111111111111111111111111111111111111';
const OTHER = '0x2222222222222222222222222222222222222222';

describe('MoltStation simulator over real sockets', () => {
  let sim: RunningSimulator;
  let base: string;
  let wsBase: string;
  let token: string;
  const open: RawSocket[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 'test' });
    base = sim.baseUrl('moltstation');
    wsBase = base.replace(/^http/, 'ws');
    token = await login(base, WALLET);
  });
  afterEach(() => {
    resetMoltStationOptions();
    sim.faults.clear();
    for (const s of open.splice(0)) s.ws.terminate();
  });
  afterAll(async () => {
    await sim.close();
  });

  const start = async (slug: string, source = 'agent_api', extra: Record<string, unknown> = {}, tok = token): Promise<string> => {
    const r = await http(base, 'POST', `/api/games/${slug}/sessions/start`, { source, ...extra }, tok);
    expect(r.status).toBe(200);
    return r.json.sessionId;
  };
  const playToken = async (slug: string, id: string, tok = token): Promise<string> => {
    const r = await http(base, 'POST', `/api/games/${slug}/sessions/${id}/play-token`, undefined, tok);
    expect(r.status).toBe(200);
    expect(r.text).toContain('"playToken"');
    return r.json.playToken;
  };
  const sock = (slug: string, role: string, id: string, query = ''): RawSocket => {
    const s = rawSocket(`${wsBase}/ws/${slug}/${role}?sessionId=${encodeURIComponent(id)}${query}`);
    open.push(s);
    return s;
  };
  const play = async (slug: string, id: string, style: 'message' | 'query' = 'message'): Promise<RawSocket> => {
    const t = await playToken(slug, id);
    const s = sock(slug, 'play', id, style === 'query' ? `&token=${t}` : '');
    await s.opened;
    if (style === 'message') s.send({ t: 'auth', token: t });
    return s;
  };

  describe('HTTP API', () => {
    it('refuses unauthenticated, malformed and oversized requests with {error, code}', async () => {
      const unauth = await http(base, 'POST', '/api/games/flappybots/sessions/start', { source: 'agent_api' });
      expect(unauth.status).toBe(401);
      expect(unauth.json).toEqual({ error: 'Unauthorized', code: 'UNAUTHORIZED' });
      const bad = await http(base, 'POST', '/api/games/flappybots/sessions/start', undefined, token, '{"source":');
      expect([bad.status, bad.json.code]).toEqual([400, 'INVALID_JSON']);
      const src = await http(base, 'POST', '/api/games/flappybots/sessions/start', { source: 'bogus' }, token);
      expect([src.status, src.json.code]).toEqual([400, 'INVALID_SOURCE']);
      const big = await http(base, 'POST', '/api/games/flappybots/sessions/start', undefined, token, JSON.stringify({ source: 'agent_api', pad: 'x'.repeat(70_000) }));
      expect([big.status, big.json.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
      const game = await http(base, 'POST', '/api/games/tetris/sessions/start', { source: 'agent_api' }, token);
      expect([game.status, game.json.code]).toEqual([404, 'GAME_NOT_FOUND']);
      const missing = await http(base, 'GET', '/api/games/flappybots/sessions/nope');
      expect([missing.status, missing.json.code]).toEqual([404, 'SESSION_NOT_FOUND']);
      const method = await http(base, 'GET', '/api/games/flappybots/sessions/start', undefined, token);
      expect(method.status).toBe(405);
      const other = await http(base, 'GET', '/nothing-here');
      expect([other.status, other.json]).toEqual([404, { error: 'Not found', code: 'NOT_FOUND' }]);
      expect((await http(sim.url, 'GET', '/health')).status).toBe(200);
    });

    it('starts sessions with source and shows them in detail; live lists only agent_api', async () => {
      const api = await start('shellrunners', 'agent_api');
      const practice = await start('shellrunners', 'browser_ws');
      const detail = await http(base, 'GET', `/api/games/shellrunners/sessions/${api}`);
      expect(detail.json).toMatchObject({ sessionId: api, slug: 'shellrunners', source: 'agent_api', status: 'created', rewardsEligible: true });
      const live = await http(base, 'GET', '/api/games/shellrunners/sessions/live');
      const ids = live.json.sessions.map((s: any) => s.sessionId);
      expect(ids).toContain(api);
      expect(ids).not.toContain(practice);
      expect(live.json.sessions.every((s: any) => s.source === 'agent_api')).toBe(true);
      // Ended sessions leave the live list.
      expect((await http(base, 'POST', `/api/games/shellrunners/sessions/${api}/end`, undefined, token)).json.status).toBe('ended');
      const after = await http(base, 'GET', '/api/games/shellrunners/sessions/live');
      expect(after.json.sessions.map((s: any) => s.sessionId)).not.toContain(api);
      // An agent_api session ended by POST …/end is snapshot-eligible (and must be, or the wallet is gated).
      expect((await http(base, 'POST', '/api/rewards/snapshot', { gameSlug: 'shellrunners', sessionId: api }, token)).status).toBe(200);
    });

    it('heartbeat answers for the owner only; play-token is owner-only', async () => {
      const id = await start('flappybots', 'browser_ws');
      const hb = await http(base, 'POST', `/api/games/flappybots/sessions/${id}/heartbeat`, undefined, token);
      expect(hb.json).toMatchObject({ ok: true, sessionId: id, status: 'created' });
      const other = await login(base, OTHER);
      expect((await http(base, 'POST', `/api/games/flappybots/sessions/${id}/play-token`, undefined, other)).status).toBe(403);
    });
  });

  describe('HTTP extras', () => {
    it('auth nonce is single-use; refresh rotates; auth/session, my, high-score, catalog and game info answer', async () => {
      const n = await http(base, 'POST', '/api/games/shellrunners/auth/nonce');
      expect(n.json).toMatchObject({ nonce: expect.any(String), domain: 'moltstation.games', uri: 'https://moltstation.games', chainId: 8453, issuedAt: expect.any(String) });
      const message = `moltstation.games wants you to sign in with your Ethereum account:\n${OTHER}\n\nNonce: ${n.json.nonce}`;
      const v = await http(base, 'POST', '/api/games/shellrunners/auth/verify', { message, signature: '0x1' });
      expect(Object.keys(v.json)).toEqual(['accessToken', 'refreshToken']);
      const replay = await http(base, 'POST', '/api/games/shellrunners/auth/verify', { message, signature: '0x1' });
      expect([replay.status, replay.json.code]).toEqual([401, 'INVALID_NONCE']);
      const r = await http(base, 'POST', '/api/games/shellrunners/auth/refresh', { refreshToken: v.json.refreshToken });
      expect(r.status).toBe(200);
      expect((await http(base, 'POST', '/api/games/shellrunners/auth/refresh', { refreshToken: v.json.refreshToken })).status).toBe(401);
      expect((await http(base, 'GET', '/api/games/shellrunners/auth/session', undefined, r.json.accessToken)).json).toEqual({ walletAddress: OTHER, slug: 'shellrunners' });
      const id = await start('shellrunners', 'browser_ws', {}, r.json.accessToken);
      const my = await http(base, 'GET', '/api/games/shellrunners/sessions/my', undefined, r.json.accessToken);
      expect(my.json.sessions.map((x: any) => x.sessionId)).toEqual([id]);
      expect((await http(base, 'GET', '/api/games/shellrunners/sessions/high-score', undefined, r.json.accessToken)).json).toEqual({ slug: 'shellrunners', highScore: 0 });
      expect((await http(base, 'GET', '/api/games/catalog')).json.games.map((g: any) => g.slug)).toEqual(['shellrunners', 'flappybots']);
      expect((await http(base, 'GET', '/api/games/flappybots')).json).toMatchObject({ slug: 'flappybots', tickHz: 20 });
    });

    it('answers CORS preflights and echoes the Origin', async () => {
      const pre = await fetch(`${base}/api/games/flappybots/sessions/start`, { method: 'OPTIONS', headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' } });
      expect(pre.status).toBe(204);
      expect(await pre.text()).toBe('');
      expect(pre.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
      expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
      const get = await fetch(`${base}/api/games/flappybots/sessions/live`, { headers: { origin: 'http://127.0.0.1:3000' } });
      expect(get.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:3000');
      expect(get.headers.get('content-type')).toBe('application/json; charset=utf-8');
    });

    it('simulatorOptions.seed seeds the Flappy engine exactly like the reference (seed-A gates over the wire)', async () => {
      const id = await start('flappybots', 'browser_ws', { simulatorOptions: { seed: 'seed-A' } });
      const s = await play('flappybots', id);
      const f0 = (await s.waitFor((m) => m.t === 'frame')).frame;
      const samples = JSON.parse(readFileSync(join(__dirname, '../../assets/moltstation/flappybots-sample-frames.json'), 'utf8'));
      expect({ ...f0, events: samples.ready.events }).toEqual(samples.ready);
      expect(f0.events).toEqual([{ t: 'reset' }]);
    });

    it('a second play connection replaces the first (4002 SESSION_REPLACED), the run continues', async () => {
      const id = await start('shellrunners', 'browser_ws');
      const a = await play('shellrunners', id);
      await a.waitFor((m) => m.t === 'frame' && m.frame.tick >= 2);
      const b = await play('shellrunners', id);
      expect(await a.closed).toEqual({ code: 4002, reason: 'SESSION_REPLACED' });
      const hello = await b.waitFor((m) => m.t === 'hello');
      expect(hello.role).toBe('play');
      const next = (await b.waitFor((m) => m.t === 'frame')).frame;
      expect(next.tick).toBeGreaterThan(2);
    });
  });

  describe('play socket', () => {
    it('Flappy Bots: message auth → exact hello → one valid frame per 50 ms tick → ended frame → close 1000 GAME_OVER', async () => {
      const id = await start('flappybots', 'browser_ws');
      const s = await play('flappybots', id);
      const closed = await s.closed;
      expect(s.texts[0]).toBe('{"t":"hello","role":"play","tickHz":20}');
      const frames = s.messages.filter((m) => m.t === 'frame').map((m) => m.frame);
      expect(frames.length).toBeGreaterThan(10);
      for (const f of frames) expect(isFlappyFrame(f)).toBe(true);
      expect(frames.map((f) => f.tick)).toEqual(frames.map((_, i) => i));
      expect(frames[0].phase).toBe('ready');
      const last = frames[frames.length - 1];
      expect(last.phase).toBe('ended');
      expect(last.gameOverReason).toBe('GROUND_COLLISION');
      expect(last.events).toEqual([{ t: 'game_over', score: last.score.current, reason: 'GROUND_COLLISION' }]);
      expect(closed).toEqual({ code: 1000, reason: 'GAME_OVER' });
      const detail = await http(base, 'GET', `/api/games/flappybots/sessions/${id}`);
      expect(detail.json).toMatchObject({ status: 'ended', phase: 'ended', gameOverReason: 'GROUND_COLLISION', tick: last.tick });
    });

    it('paces frames at the 20 Hz tick', async () => {
      const id = await start('shellrunners', 'browser_ws');
      const s = await play('shellrunners', id);
      await s.waitFor((m) => m.t === 'frame' && m.frame.tick === 1);
      const t0 = Date.now();
      await s.waitFor((m) => m.t === 'frame' && m.frame.tick === 21, 5000);
      const elapsed = Date.now() - t0; // 20 ticks: 1000 ms at 20 Hz (2000 ms at 10 Hz)
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(1600);
    });

    it('ShellRunners: legacy ?token= auth (no auth message), frames with entities/spectators, level-triggered input moves the pawn', async () => {
      const id = await start('shellrunners', 'browser_ws');
      const s = await play('shellrunners', id, 'query');
      const hello = await s.waitFor((m) => m.t === 'hello');
      expect(hello).toEqual({ t: 'hello', role: 'play', tickHz: 20 });
      const f0 = (await s.waitFor((m) => m.t === 'frame')).frame;
      expect(f0).toMatchObject({ v: 1, sessionId: id, phase: 'running', pawn: { x: 960, y: 972 }, lives: 3, livesMax: 3, hunger: 0, hungerMax: 100, spectators: { current: 0, max: 25 } });
      expect(Array.isArray(f0.entities)).toBe(true);
      for (const e of f0.entities) {
        if (e.k === 'obstacle') expect(e.tex).toMatch(/^(rock_[1-6]|log_[1-3])$/);
        if (e.k === 'collectible') expect(e.tex).toMatch(/^(orange|yellow|red)_star_fish$/);
      }
      s.send({ t: 'input', dir: 'left' });
      const moved = (await s.waitFor((m) => m.t === 'frame' && m.frame.tick >= 5)).frame;
      expect(moved.pawn.x).toBeLessThan(960);
      s.send({ t: 'input', dir: 'none' });
      s.send({ t: 'input', dir: 'none' });
      const a = (await s.waitFor((m) => m.t === 'frame' && m.frame.tick >= moved.tick + 2)).frame;
      const b = (await s.waitFor((m) => m.t === 'frame' && m.frame.tick >= a.tick + 2)).frame;
      expect(b.pawn.x).toBe(a.pawn.x);
    });

    it('ShellRunners: pause freezes the sim (phase paused, tick frozen), resume continues; exit → ended frame then close EXIT', async () => {
      const id = await start('shellrunners', 'browser_ws');
      const s = await play('shellrunners', id);
      await s.waitFor((m) => m.t === 'frame' && m.frame.tick >= 2);
      s.send({ t: 'cmd', cmd: 'pause' });
      const p1 = (await s.waitFor((m) => m.t === 'frame' && m.frame.phase === 'paused')).frame;
      await waitFor('paused frames keep coming', () => s.messages.filter((m) => m.t === 'frame' && m.frame.phase === 'paused').length > 2);
      const paused = s.messages.filter((m) => m.t === 'frame' && m.frame.phase === 'paused');
      expect(paused.length).toBeGreaterThan(2);
      expect(new Set(paused.map((m) => m.frame.tick))).toEqual(new Set([p1.tick]));
      s.send({ t: 'cmd', cmd: 'resume' });
      await s.waitFor((m) => m.t === 'frame' && m.frame.phase === 'running' && m.frame.tick > p1.tick);
      s.send({ t: 'cmd', cmd: 'exit' });
      expect(await s.closed).toEqual({ code: 1000, reason: 'EXIT' });
      const last = s.messages.filter((m) => m.t === 'frame').pop().frame;
      expect(last.phase).toBe('ended');
      expect(last.events).toEqual([expect.objectContaining({ t: 'game_over', reason: 'exit' })]);
    });

    it('Flappy Bots: exit ends with SESSION_ENDED and never emits "paused"', async () => {
      const id = await start('flappybots', 'browser_ws');
      const s = await play('flappybots', id);
      await s.waitFor((m) => m.t === 'frame');
      s.send({ t: 'cmd', cmd: 'pause' });
      s.send({ t: 'action', action: 'FLAP' });
      await s.waitFor((m) => m.t === 'frame' && m.frame.tick >= 3);
      s.send({ t: 'cmd', cmd: 'exit' });
      expect(await s.closed).toEqual({ code: 1000, reason: 'EXIT' });
      const frames = s.messages.filter((m) => m.t === 'frame').map((m) => m.frame);
      expect(frames.some((f) => f.phase === 'paused')).toBe(false);
      const last = frames[frames.length - 1];
      expect(last).toMatchObject({ phase: 'ended', gameOverReason: 'SESSION_ENDED' });
      expect(isFlappyFrame(last)).toBe(true);
    });
  });

  describe('tokens', () => {
    it('a reused play token is refused with 4409 TOKEN_REPLAYED', async () => {
      const id = await start('flappybots', 'browser_ws');
      const t = await playToken('flappybots', id);
      const first = sock('flappybots', 'play', id);
      await first.opened;
      first.send({ t: 'auth', token: t });
      await first.waitFor((m) => m.t === 'hello');
      const second = sock('flappybots', 'play', id);
      await second.opened;
      second.send({ t: 'auth', token: t });
      expect(await second.closed).toEqual({ code: 4409, reason: 'TOKEN_REPLAYED' });
      expect(second.messages).toEqual([]);
      // Same with the legacy query style.
      const third = sock('flappybots', 'play', id, `&token=${t}`);
      expect(await third.closed).toEqual({ code: 4409, reason: 'TOKEN_REPLAYED' });
    });

    it('unknown → 4404 TOKEN_NOT_FOUND, expired → 4410 TOKEN_EXPIRED, wrong session/role → 4001 INVALID_TOKEN', async () => {
      const id = await start('flappybots', 'browser_ws');
      const unknown = sock('flappybots', 'play', id);
      await unknown.opened;
      unknown.send({ t: 'auth', token: 'pt_doesnotexist' });
      expect(await unknown.closed).toEqual({ code: 4404, reason: 'TOKEN_NOT_FOUND' });

      setMoltStationOptions({ tokenTtlMs: 1 });
      const t = await playToken('flappybots', id);
      await sleep(10); // deliberate: the token's 1 ms lifetime runs out
      const expired = sock('flappybots', 'play', id, `&token=${t}`);
      expect(await expired.closed).toEqual({ code: 4410, reason: 'TOKEN_EXPIRED' });
      resetMoltStationOptions();

      const other = await start('flappybots', 'browser_ws');
      const t2 = await playToken('flappybots', other);
      const wrongSession = sock('flappybots', 'play', id);
      await wrongSession.opened;
      wrongSession.send({ t: 'auth', token: t2 });
      expect(await wrongSession.closed).toEqual({ code: 4001, reason: 'INVALID_TOKEN' });

      const st = (await http(base, 'POST', `/api/games/flappybots/sessions/${id}/spectate-token-public`)).json.token;
      const wrongRole = sock('flappybots', 'play', id, `&token=${st}`);
      expect(await wrongRole.closed).toEqual({ code: 4001, reason: 'INVALID_TOKEN' });
      const wrongSlug = sock('shellrunners', 'spectate', id, `&token=${st}`);
      expect(await wrongSlug.closed).toEqual({ code: 4001, reason: 'INVALID_TOKEN' });
      // The token was not consumed by the failed attempts.
      const ok = sock('flappybots', 'spectate', id, `&token=${st}`);
      expect(await ok.waitFor((m) => m.t === 'hello')).toEqual({ t: 'hello', role: 'spectate', tickHz: 20 });
    });

    it('messages before auth, malformed JSON before auth and an auth timeout close with 4001 INVALID_TOKEN', async () => {
      const id = await start('flappybots', 'browser_ws');
      for (const first of ['{"t":"action","action":"FLAP"}', '{nope', '[]', '{"t":"auth"}', '{"t":"auth","token":5}']) {
        const s = sock('flappybots', 'play', id);
        await s.opened;
        s.send(first);
        expect(await s.closed).toEqual({ code: 4001, reason: 'INVALID_TOKEN' });
      }
      const bin = sock('flappybots', 'play', id);
      await bin.opened;
      bin.ws.send(Buffer.from([1, 2, 3]));
      expect(await bin.closed).toEqual({ code: 4001, reason: 'INVALID_TOKEN' });
      setMoltStationOptions({ authTimeoutMs: 100 });
      const silent = sock('flappybots', 'play', id);
      expect(await silent.closed).toEqual({ code: 4001, reason: 'INVALID_TOKEN' });
    });

    it('expire-token / replay-token faults make the next issued token fail', async () => {
      const id = await start('flappybots', 'browser_ws');
      sim.faults.add({ platform: 'moltstation', fault: 'expire-token', target: id, times: 1 });
      const t1 = await playToken('flappybots', id);
      expect(await sock('flappybots', 'play', id, `&token=${t1}`).closed).toEqual({ code: 4410, reason: 'TOKEN_EXPIRED' });
      sim.faults.add({ platform: 'moltstation', fault: 'replay-token', target: id, times: 1 });
      const t2 = await playToken('flappybots', id);
      expect(await sock('flappybots', 'play', id, `&token=${t2}`).closed).toEqual({ code: 4409, reason: 'TOKEN_REPLAYED' });
      const t3 = await playToken('flappybots', id);
      expect(await sock('flappybots', 'play', id, `&token=${t3}`).waitFor((m) => m.t === 'hello')).toMatchObject({ role: 'play' });
    });
  });

  describe('token edge cases', () => {
    it('missing sessionId or empty ?token= → 4001; a repeated auth is ignored; tokens issued before the end meet GAME_OVER; no tokens after the end', async () => {
      const id = await start('flappybots', 'browser_ws');
      const t = await playToken('flappybots', id);
      const noSession = rawSocket(`${wsBase}/ws/flappybots/play?token=${t}`);
      open.push(noSession);
      expect(await noSession.closed).toEqual({ code: 4001, reason: 'INVALID_TOKEN' });
      expect(await sock('flappybots', 'play', id, '&token=').closed).toEqual({ code: 4001, reason: 'INVALID_TOKEN' });
      const s = sock('flappybots', 'play', id, `&token=${t}`);
      await s.waitFor((m) => m.t === 'hello');
      s.send({ t: 'auth', token: t });
      await s.waitFor((m) => m.t === 'frame' && m.frame.tick >= 3);
      expect(s.messages.filter((m) => m.t === 'error' || m.t === 'hello')).toHaveLength(1);
      const late = await playToken('flappybots', id);
      await s.closed;
      const after = sock('flappybots', 'play', id, `&token=${late}`);
      expect(await after.closed).toEqual({ code: 1000, reason: 'GAME_OVER' });
      expect(after.messages).toEqual([]);
      const refused = await http(base, 'POST', `/api/games/flappybots/sessions/${id}/play-token`, undefined, token);
      expect([refused.status, refused.json.code]).toEqual([409, 'SESSION_ENDED']);
      expect((await http(base, 'POST', `/api/games/flappybots/sessions/${id}/spectate-token-public`)).json.code).toBe('SESSION_ENDED');
    });
  });

  describe('bad input after auth never crashes', () => {
    it('malformed JSON, unknown types, bad fields, binary → {t:"error"} and the socket keeps getting frames', async () => {
      const id = await start('shellrunners', 'browser_ws');
      const s = await play('shellrunners', id);
      await s.waitFor((m) => m.t === 'frame');
      s.send('{not json');
      expect(await s.waitFor((m) => m.t === 'error' && m.code === 'INVALID_JSON')).toMatchObject({ message: expect.any(String) });
      s.send({ t: 'teleport' });
      await s.waitFor((m) => m.t === 'error' && m.code === 'UNKNOWN_MESSAGE');
      s.send({ t: 'input', dir: 'up' });
      await s.waitFor((m) => m.t === 'error' && m.code === 'INVALID_MESSAGE');
      s.send({ t: 'action', action: 'FLAP' });
      await s.waitFor((m) => m.t === 'error' && m.code === 'UNSUPPORTED_MESSAGE');
      s.ws.send(Buffer.from([0xff, 0x00]));
      await s.waitFor((m) => m.t === 'error' && m.code === 'BINARY_NOT_SUPPORTED');
      s.send('null');
      await s.waitFor((m) => m.t === 'error' && m.code === 'INVALID_MESSAGE');
      const before = s.messages.filter((m) => m.t === 'frame').length;
      await waitFor('frames after the bad messages', () => s.messages.filter((m) => m.t === 'frame').length > before);
    });

    it('an oversized message closes with 1009 MESSAGE_TOO_LARGE; a huge one is cut by ws (1009); the server lives on', async () => {
      const id = await start('shellrunners', 'browser_ws');
      const s = await play('shellrunners', id);
      await s.waitFor((m) => m.t === 'hello');
      s.send({ t: 'input', dir: 'left', pad: 'x'.repeat(5000) });
      expect(await s.closed).toEqual({ code: 1009, reason: 'MESSAGE_TOO_LARGE' });
      const pre = sock('shellrunners', 'play', id);
      await pre.opened;
      pre.send('x'.repeat(100_000));
      expect((await pre.closed).code).toBe(1009);
      expect((await http(base, 'GET', `/api/games/shellrunners/sessions/${id}`)).status).toBe(200);
    });

    it('unknown WS paths are refused, spectators cannot drive the game', async () => {
      const bad = rawSocket(`${wsBase}/ws/tetris/play?sessionId=x`);
      await expect(bad.opened).rejects.toThrow();
      const id = await start('flappybots', 'browser_ws');
      const p = await play('flappybots', id);
      await p.waitFor((m) => m.t === 'hello');
      const st = (await http(base, 'POST', `/api/games/flappybots/sessions/${id}/spectate-token-public`)).json.token;
      const spec = sock('flappybots', 'spectate', id);
      await spec.opened;
      spec.send({ t: 'auth', token: st });
      await spec.waitFor((m) => m.t === 'hello');
      spec.send({ t: 'cmd', cmd: 'exit' });
      await spec.waitFor((m) => m.t === 'error' && m.code === 'READ_ONLY');
      expect((await http(base, 'GET', `/api/games/flappybots/sessions/${id}`)).json.status).toBe('live');
    });
  });

  describe('spectators', () => {
    it('get the same frames as the player from the moment they join; SR frames count them', async () => {
      const id = await start('shellrunners', 'agent_api');
      const pub = await http(base, 'POST', `/api/games/shellrunners/sessions/${id}/spectate-token-public`);
      expect(pub.status).toBe(200);
      const spec = sock('shellrunners', 'spectate', id);
      await spec.opened;
      spec.send({ t: 'auth', token: pub.json.token });
      await spec.waitFor((m) => m.t === 'hello');
      const p = await play('shellrunners', id);
      await p.waitFor((m) => m.t === 'frame' && m.frame.tick >= 6);
      await spec.waitFor((m) => m.t === 'frame' && m.frame.tick >= 6);
      const pf = p.texts.filter((t) => t.startsWith('{"t":"frame"')).slice(0, 6);
      const sf = spec.texts.filter((t) => t.startsWith('{"t":"frame"')).slice(0, 6);
      expect(sf).toEqual(pf);
      expect(JSON.parse(sf[0] as string).frame.spectators).toEqual({ current: 1, max: 25 });
      // The authenticated endpoint needs a wallet.
      expect((await http(base, 'POST', `/api/games/shellrunners/sessions/${id}/spectate-token`)).status).toBe(401);
      expect((await http(base, 'POST', `/api/games/shellrunners/sessions/${id}/spectate-token`, undefined, token)).status).toBe(200);
      await http(base, 'POST', `/api/games/shellrunners/sessions/${id}/end`, undefined, token);
      expect(await spec.closed).toEqual({ code: 1000, reason: 'GAME_OVER' });
    });

    it('the per-session cap answers 409 SPECTATORS_FULL {spectatorsCurrent, spectatorsMax}', async () => {
      setMoltStationOptions({ spectatorCap: 1 });
      const id = await start('flappybots', 'agent_api');
      const t1 = (await http(base, 'POST', `/api/games/flappybots/sessions/${id}/spectate-token-public`)).json.token;
      const spec = sock('flappybots', 'spectate', id, `&token=${t1}`);
      await spec.waitFor((m) => m.t === 'hello');
      for (const path of ['spectate-token-public', 'spectate-token']) {
        const full = await http(base, 'POST', `/api/games/flappybots/sessions/${id}/${path}`, undefined, token);
        expect(full.status).toBe(409);
        expect(full.json).toEqual({ error: '1/1 spectators limit reached for this livestream', code: 'SPECTATORS_FULL', spectatorsCurrent: 1, spectatorsMax: 1 });
      }
      spec.ws.close();
      await spec.closed;
      // A refusal (409) issues nothing, so asking until the freed slot is seen is safe.
      expect(
        await waitFor('the spectator slot freed', async () => (await http(base, 'POST', `/api/games/flappybots/sessions/${id}/spectate-token-public`)).status, { until: (st) => st === 200 }),
      ).toBe(200);
    });

    it('a token issued below the cap is refused at connect once the cap is reached (4429 SPECTATORS_FULL)', async () => {
      setMoltStationOptions({ spectatorCap: 1 });
      const id = await start('flappybots', 'agent_api');
      const t1 = (await http(base, 'POST', `/api/games/flappybots/sessions/${id}/spectate-token-public`)).json.token;
      const t2 = (await http(base, 'POST', `/api/games/flappybots/sessions/${id}/spectate-token-public`)).json.token;
      await sock('flappybots', 'spectate', id, `&token=${t1}`).waitFor((m) => m.t === 'hello');
      expect(await sock('flappybots', 'spectate', id, `&token=${t2}`).closed).toEqual({ code: 4429, reason: 'SPECTATORS_FULL' });
    });

    it('spectators-full fault fills the cap', async () => {
      const id = await start('flappybots', 'agent_api');
      sim.faults.add({ platform: 'moltstation', fault: 'spectators-full', target: id, times: 1 });
      const r = await http(base, 'POST', `/api/games/flappybots/sessions/${id}/spectate-token-public`);
      expect(r.status).toBe(409);
      expect(r.json).toMatchObject({ code: 'SPECTATORS_FULL', spectatorsCurrent: 25, spectatorsMax: 25 });
      expect((await http(base, 'POST', `/api/games/flappybots/sessions/${id}/spectate-token-public`)).status).toBe(200);
    });
  });

  describe('rewards snapshot', () => {
    it('once per ended agent_api session; SNAPSHOT_REQUIRED gates the next agent_api start', async () => {
      const tok = await login(base, '0x3333333333333333333333333333333333333333');
      const id = await start('flappybots', 'agent_api', {}, tok);
      const early = await http(base, 'POST', '/api/rewards/snapshot', { gameSlug: 'flappybots', sessionId: id }, tok);
      expect([early.status, early.json.code]).toEqual([409, 'INVALID_SESSION']);
      const s = await (async () => {
        const t = await playToken('flappybots', id, tok);
        const sk = sock('flappybots', 'play', id, `&token=${t}`);
        return sk;
      })();
      expect(await s.closed).toEqual({ code: 1000, reason: 'GAME_OVER' });
      const gate = await http(base, 'POST', '/api/games/flappybots/sessions/start', { source: 'agent_api' }, tok);
      expect(gate.status).toBe(409);
      expect(gate.json).toMatchObject({ code: 'SNAPSHOT_REQUIRED', sessionId: id, error: expect.any(String) });
      // Practice sessions are not gated.
      expect((await http(base, 'POST', '/api/games/flappybots/sessions/start', { source: 'browser_ws' }, tok)).status).toBe(200);
      const snap = await http(base, 'POST', '/api/rewards/snapshot', { gameSlug: 'flappybots', sessionId: id }, tok);
      expect(snap.status).toBe(200);
      expect(snap.json).toMatchObject({ ok: true, sessionId: id, gameSlug: 'flappybots', contractMethod: 'snapshotScoreSigned', args: { gameSessionHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) } });
      const again = await http(base, 'POST', '/api/rewards/snapshot', { gameSlug: 'flappybots', sessionId: id }, tok);
      expect(again.status).toBe(409);
      expect(again.json).toMatchObject({ code: 'INVALID_SESSION', error: 'Session already snapshotted' });
      expect((await http(base, 'POST', '/api/games/flappybots/sessions/start', { source: 'agent_api' }, tok)).status).toBe(200);
    });

    it('practice sessions cannot be snapshotted; unauthenticated and foreign snapshots are refused', async () => {
      const id = await start('flappybots', 'browser_ws');
      await http(base, 'POST', `/api/games/flappybots/sessions/${id}/end`, undefined, token);
      const r = await http(base, 'POST', '/api/rewards/snapshot', { gameSlug: 'flappybots', sessionId: id }, token);
      expect([r.status, r.json.code]).toEqual([409, 'INVALID_SESSION']);
      expect((await http(base, 'POST', '/api/rewards/snapshot', { gameSlug: 'flappybots', sessionId: id })).status).toBe(401);
      const other = await login(base, OTHER);
      expect((await http(base, 'POST', '/api/rewards/snapshot', { gameSlug: 'flappybots', sessionId: id }, other)).status).toBe(403);
      expect((await http(base, 'POST', '/api/rewards/snapshot', { sessionId: id }, token)).json.code).toBe('INVALID_BODY');
    });
  });
});

describe('determinism', () => {
  it('one seed + one input script → identical frames over real sockets', async () => {
    const runOnce = async (): Promise<string[]> => {
      const sim = await startSimulator({ port: 0, seed: 'det' });
      try {
        const base = sim.baseUrl('moltstation');
        const tok = await login(base, WALLET);
        const id = (await http(base, 'POST', '/api/games/flappybots/sessions/start', { source: 'agent_api' }, tok)).json.sessionId;
        const t = (await http(base, 'POST', `/api/games/flappybots/sessions/${id}/play-token`, undefined, tok)).json.playToken;
        const s = rawSocket(`${base.replace(/^http/, 'ws')}/ws/flappybots/play?sessionId=${id}`);
        await s.opened;
        const script = new Set([0, 6, 12, 17, 22, 30]);
        s.ws.on('message', (d) => {
          const m = JSON.parse(d.toString());
          if (m.t === 'frame' && script.has(m.frame.tick)) s.send({ t: 'action', action: 'FLAP' });
        });
        s.send({ t: 'auth', token: t });
        await s.closed;
        return s.texts;
      } finally {
        await sim.close();
      }
    };
    const a = await runOnce();
    const b = await runOnce();
    expect(a.length).toBeGreaterThan(20);
    expect(a.some((t) => t.includes('"latestAction":"FLAP"'))).toBe(true);
    expect(b).toEqual(a);
  });
});
