import { RunningSimulator, startSimulator } from '../index';
import { httpCall, RawResponse } from '@rewind/testing';
import { DEFAULT_RGS_OPTIONS } from './http-api';
import { RoundDetailsWire, sha256Hex, verifyRoundDetails } from '@rewind/platforms';

const OPERATOR_KEY = DEFAULT_RGS_OPTIONS.operatorKey;
const HOUR = 60 * 60 * 1000;

type Reply = RawResponse;

function client(sim: RunningSimulator) {
  const base = sim.baseUrl('rgs');
  return async (method: string, path: string, opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
    return httpCall(`${base}${path}`, { method, headers, body: opts.body, raw: opts.raw });
  };
}

type Call = ReturnType<typeof client>;

async function launch(call: Call, body: Record<string, unknown> = {}): Promise<{ token: string; sessionId: string; launchUrl: string; expiresAt: string }> {
  const r = await call('POST', '/operator/launch', { token: OPERATOR_KEY, body: { playerId: 'p1', gameCode: 'dice-alpha', ...body } });
  expect(r.status).toBe(200);
  const url = new URL(r.json.launchUrl);
  return { token: url.searchParams.get('sessionToken') as string, sessionId: r.json.sessionId, launchUrl: r.json.launchUrl, expiresAt: r.json.expiresAt };
}

/** Plays a mines round to a cash-out after `reveals` safe fields, or to a loss; returns the settled response. */
async function playMines(call: Call, token: string, mineCount: number, reveals: number, amount = '1.00'): Promise<Reply> {
  const start = await call('POST', '/game/play', { token, body: { amount, mineCount } });
  expect(start.status).toBe(200);
  return finishMines(call, token, reveals, start);
}

/** Reveals fields 0, 1, … until `reveals` safe ones (or a mine), then cashes out. */
async function finishMines(call: Call, token: string, reveals: number, start: Reply): Promise<Reply> {
  let last = start;
  for (let field = 0; field < 25 && last.json.round.active && last.json.state.rounds.length < reveals; field++) {
    last = await call('POST', '/game/action', { token, body: { action: 'reveal', field } });
    expect(last.status).toBe(200);
  }
  if (last.json.round.active) last = await call('POST', '/game/action', { token, body: { action: 'cashout' } });
  expect(last.status).toBe(200);
  expect(last.json.round.active).toBe(false);
  return last;
}

describe('RGS simulator over HTTP', () => {
  let sim: RunningSimulator;
  let call: Call;
  let clock: number;

  beforeEach(async () => {
    clock = Date.parse('2026-06-22T14:04:05Z');
    sim = await startSimulator({ port: 0, seed: 'test', now: () => clock });
    call = client(sim);
  });
  afterEach(async () => {
    await sim.close();
  });

  describe('operator launch', () => {
    it('returns {iframeBase}/{slug}?sessionToken=…&id={gameCode}[&lobbyUrl=…]', async () => {
      const r = await call('POST', '/operator/launch', { token: OPERATOR_KEY, body: { playerId: 'p1', gameCode: 'mines-alpha', lobbyUrl: 'https://casino.example/lobby?x=1' } });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const m = /^(.*)\/mines\?sessionToken=([^&]+)&id=mines-alpha&lobbyUrl=([^&]+)$/.exec(r.json.launchUrl);
      expect(m).not.toBeNull();
      expect(m![1]).toBe(sim.baseUrl('rgs'));
      expect(decodeURIComponent(m![3]!)).toBe('https://casino.example/lobby?x=1');
      expect(r.json.expiresAt).toBe('2026-06-22T15:04:05Z');
      const plain = await launch(call, { playerId: 'p2' });
      expect(plain.launchUrl).toBe(`${sim.baseUrl('rgs')}/dice?sessionToken=${plain.token}&id=dice-alpha`);
      const page = await fetch(plain.launchUrl);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      await page.text();
    });

    it('re-launching the same player and game returns the existing active session', async () => {
      const a = await launch(call);
      const b = await launch(call);
      expect(b.token).toBe(a.token);
      expect(b.sessionId).toBe(a.sessionId);
      const other = await launch(call, { gameCode: 'mines-alpha' });
      expect(other.token).not.toBe(a.token);
    });

    it('needs the operator key and valid fields', async () => {
      const noKey = await call('POST', '/operator/launch', { body: { playerId: 'p1', gameCode: 'dice-alpha' } });
      expect(noKey.status).toBe(401);
      expect(noKey.json.error).toBe('invalid_operator_key');
      const cases: [Record<string, unknown>, string][] = [
        [{ gameCode: 'dice-alpha' }, 'invalid_player'],
        [{ playerId: 'p1', gameCode: 'plinko-alpha' }, 'unsupported_game'],
        [{ playerId: 'p1', gameCode: 'dice-alpha', currency: 'usd' }, 'invalid_currency'],
        [{ playerId: 'p1', gameCode: 'dice-alpha', lobbyUrl: 'javascript:alert(1)' }, 'invalid_lobby_url'],
        [{ playerId: 'p1', gameCode: 'dice-alpha', balance: '-5' }, 'invalid_amount'],
      ];
      for (const [body, error] of cases) {
        const r = await call('POST', '/operator/launch', { token: OPERATOR_KEY, body });
        expect([r.status, r.json.error]).toEqual([400, error]);
      }
      expect((await call('GET', '/operator/launch')).status).toBe(405);
    });
  });

  describe('bearer auth', () => {
    it('refuses every /game, /seed and /session call without a valid token', async () => {
      const { token } = await launch(call);
      const routes: [string, string][] = [
        ['POST', '/game/play'],
        ['POST', '/game/action'],
        ['POST', '/game/current'],
        ['GET', '/game/round/x'],
        ['GET', '/game/history'],
        ['GET', '/game/balance'],
        ['GET', '/seed/current'],
        ['POST', '/seed/client'],
        ['POST', '/seed/rotate'],
        ['POST', '/session/refresh'],
      ];
      for (const [method, path] of routes) {
        const missing = await call(method, path);
        expect([path, missing.status, missing.json.error]).toEqual([path, 401, 'missing_token']);
        expect(missing.headers.get('www-authenticate')).toBe('Bearer');
        const bad = await call(method, path, { token: `${token}x` });
        expect([path, bad.status, bad.json.error]).toEqual([path, 401, 'invalid_token']);
      }
    });
  });

  describe('dice', () => {
    it('plays one round per call and settles payout = wager × multiplier', async () => {
      const { token } = await launch(call);
      let balance = (await call('GET', '/game/balance', { token })).json.balance;
      expect(balance).toBe('1000.00');
      for (let i = 0; i < 10; i++) {
        const r = await call('POST', '/game/play', { token, body: { amount: '2.00', target: 50.5, condition: i % 2 ? 'over' : 'under' } });
        expect(r.status).toBe(200);
        const { round, seed, state } = r.json;
        expect(round).toMatchObject({ gameId: 'dice-alpha', amount: '2.00', active: false });
        expect(seed.nonce).toBe(i);
        expect(seed.serverSeed).toBeUndefined();
        expect(state.target).toBe(50.5);
        const win = state.condition === 'over' ? state.roll > 50.5 : state.roll < 50.5;
        expect(round.result).toBe(win ? 'win' : 'loss');
        expect(round.multiplier).toBe(win ? state.multiplier : '0.00');
        const payout = Math.floor((200 * Math.round(Number(round.multiplier) * 100)) / 100);
        expect(Math.round(Number(round.payout) * 100)).toBe(payout);
        expect(Math.round(Number(r.json.balance) * 100)).toBe(Math.round(Number(balance) * 100) - 200 + payout);
        balance = r.json.balance;
      }
      const current = await call('POST', '/game/current', { token });
      expect(current.json).toEqual({ balance, active: false });
    });
  });

  describe('mines', () => {
    it('starts with a mine count, reveals tiles, cashes out; a mine ends the round at 0', async () => {
      const { token } = await launch(call, { gameCode: 'mines-alpha' });
      const start = await call('POST', '/game/play', { token, body: { amount: '1.00', mineCount: 3 } });
      expect(start.status).toBe(200);
      expect(start.json.balance).toBe('999.00');
      expect(start.json.state).toEqual({ active: true, mineCount: 3, rounds: [] });
      expect(start.json.round.payout).toBeNull();
      const again = await call('POST', '/game/play', { token, body: { amount: '1.00', mineCount: 3 } });
      expect([again.status, again.json.error]).toEqual([409, 'round_active']);
      const cashedOut = await finishMines(call, token, 2, start);
      expect(cashedOut.json.state.mines).toHaveLength(3);
      // play rounds with 24 mines until one is lost
      let lost: Reply | undefined;
      for (let i = 0; i < 20 && !lost; i++) {
        const r = await playMines(call, token, 24, 1);
        if (r.json.round.result === 'loss') lost = r;
      }
      expect(lost).toBeDefined();
      expect(lost!.json.round).toMatchObject({ payout: '0.00', multiplier: '0.00' });
      expect(lost!.json.state.mines).toContain(lost!.json.state.mineHit);
    });

    it('resumes an unfinished round via POST /game/current without exposing the mines', async () => {
      const first = await launch(call, { gameCode: 'mines-alpha' });
      const start = await call('POST', '/game/play', { token: first.token, body: { amount: '1.00', mineCount: 1 } });
      let revealed: Reply | undefined;
      for (let field = 0; field < 25; field++) {
        revealed = await call('POST', '/game/action', { token: first.token, body: { action: 'reveal', field } });
        if (revealed.json.round.active) break;
        await call('POST', '/game/play', { token: first.token, body: { amount: '1.00', mineCount: 1 } });
      }
      expect(revealed!.json.round.active).toBe(true);
      // the client reloads: a re-launch hands out the same session, /game/current returns the open round
      const again = await launch(call, { gameCode: 'mines-alpha' });
      const current = await call('POST', '/game/current', { token: again.token });
      expect(current.status).toBe(200);
      expect(current.json).toEqual({
        balance: revealed!.json.balance,
        active: true,
        roundId: revealed!.json.round.id,
        gameId: 'mines-alpha',
        roundData: { amount: '1.00', mineCount: 1, gridSize: 25 },
        state: { active: true, mineCount: 1, rounds: revealed!.json.state.rounds },
      });
      expect(current.text).not.toContain('"mines"');
      const details = await call('GET', `/game/round/${current.json.roundId}`, { token: again.token });
      expect(details.json.round.active).toBe(true);
      expect(details.json.state.mines).toBeUndefined();
      expect(start.status).toBe(200);
      const cash = await call('POST', '/game/action', { token: again.token, body: { action: 'cashout' } });
      expect(cash.json.round).toMatchObject({ id: current.json.roundId, active: false, result: 'win' });
      expect((await call('POST', '/game/current', { token: again.token })).json.active).toBe(false);
    });
  });

  describe('provably fair', () => {
    it('shows the hash before play and reveals the seed only after rotation; the rounds verify', async () => {
      const dice = await launch(call);
      const seeds = await call('GET', '/seed/current', { token: dice.token });
      expect(seeds.json.nonce).toBe(0);
      const setSeed = await call('POST', '/seed/client', { token: dice.token, body: { clientSeed: 'my-lucky-seed' } });
      expect(setSeed.json).toMatchObject({ clientSeed: 'my-lucky-seed', serverSeedHash: seeds.json.serverSeedHash });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await call('POST', '/game/play', { token: dice.token, body: { amount: '1.00', target: 30, condition: 'over' } })).json.round.id);
      const before = await call('GET', `/game/round/${ids[2]}`, { token: dice.token });
      expect(before.json.seed).toEqual({ serverSeedHash: seeds.json.serverSeedHash, clientSeed: 'my-lucky-seed', nonce: 2 });
      expect(verifyRoundDetails(before.json as RoundDetailsWire).verified).toBe(false);

      const rotated = await call('POST', '/seed/rotate', { token: dice.token, body: { clientSeed: 'second' } });
      expect(rotated.status).toBe(200);
      expect(rotated.json.previous.serverSeedHash).toBe(seeds.json.serverSeedHash);
      expect(sha256Hex(rotated.json.previous.serverSeed)).toBe(seeds.json.serverSeedHash);
      expect(rotated.json.previous.nonce).toBe(5);
      expect(rotated.json.current).toMatchObject({ serverSeedHash: seeds.json.nextServerSeedHash, clientSeed: 'second', nonce: 0 });

      for (const id of ids) {
        const after = await call('GET', `/game/round/${id}`, { token: dice.token });
        expect(after.json.seed.serverSeed).toBe(rotated.json.previous.serverSeed);
        const verdict = verifyRoundDetails(after.json as RoundDetailsWire);
        expect(verdict.checks.filter((c) => !c.ok)).toEqual([]);
      }

      const mines = await launch(call, { gameCode: 'mines-beta' });
      const mineIds = [(await playMines(call, mines.token, 3, 2)).json.round.id, (await playMines(call, mines.token, 5, 3)).json.round.id];
      await call('POST', '/seed/rotate', { token: mines.token });
      for (const id of mineIds) {
        const after = await call('GET', `/game/round/${id}`, { token: mines.token });
        expect(verifyRoundDetails(after.json as RoundDetailsWire).verified).toBe(true);
      }
    });

    it('refuses to rotate while a Mines round is open', async () => {
      const { token } = await launch(call, { gameCode: 'mines-alpha' });
      await call('POST', '/game/play', { token, body: { amount: '1.00', mineCount: 2 } });
      const r = await call('POST', '/seed/rotate', { token });
      expect([r.status, r.json.error]).toEqual([409, 'round_active']);
    });

    it('forge-seed: the revealed seed does not match its commitment and verification fails', async () => {
      const { token, sessionId } = await launch(call);
      const id = (await call('POST', '/game/play', { token, body: { amount: '1.00', target: 50, condition: 'under' } })).json.round.id;
      sim.faults.add({ platform: 'rgs', fault: 'forge-seed', target: sessionId, times: 1 });
      const rotated = await call('POST', '/seed/rotate', { token });
      expect(sha256Hex(rotated.json.previous.serverSeed)).not.toBe(rotated.json.previous.serverSeedHash);
      const details = await call('GET', `/game/round/${id}`, { token });
      const verdict = verifyRoundDetails(details.json as RoundDetailsWire);
      expect(verdict.verified).toBe(false);
      expect(verdict.checks.find((c) => c.name === 'commitment')?.ok).toBe(false);
    });

    it('same seed → same tokens, seeds and outcomes', async () => {
      const script = async (s: RunningSimulator): Promise<string[]> => {
        const c = client(s);
        const out: string[] = [];
        const d = await launch(c);
        const m = await launch(c, { gameCode: 'mines-alpha' });
        out.push(d.launchUrl.replace(s.baseUrl('rgs'), ''), m.launchUrl.replace(s.baseUrl('rgs'), ''));
        for (let i = 0; i < 5; i++) out.push((await c('POST', '/game/play', { token: d.token, body: { amount: '1.00', target: 50, condition: 'over' } })).text);
        out.push((await playMines(c, m.token, 3, 3)).text);
        out.push((await c('POST', '/seed/rotate', { token: d.token })).text);
        return out;
      };
      const a = await script(sim);
      const other = await startSimulator({ port: 0, seed: 'test', now: () => clock });
      const third = await startSimulator({ port: 0, seed: 'other', now: () => clock });
      try {
        expect(await script(other)).toEqual(a);
        expect(await script(third)).not.toEqual(a);
      } finally {
        await other.close();
        await third.close();
      }
    });
  });

  describe('session refresh and expiry', () => {
    it('rotates the token once: the new one works, the old one is refused, reusing it answers 409', async () => {
      const { token } = await launch(call);
      const r = await call('POST', '/session/refresh', { token });
      expect(r.status).toBe(200);
      expect(Object.keys(r.json).sort()).toEqual(['expiresAt', 'sessionToken']);
      expect(r.json.sessionToken).not.toBe(token);
      expect(r.json.expiresAt).toBe('2026-06-22T16:04:05Z');
      const fresh = r.json.sessionToken as string;
      expect((await call('POST', '/game/play', { token: fresh, body: { amount: '1.00', target: 50, condition: 'over' } })).status).toBe(200);
      const old = await call('GET', '/game/balance', { token });
      expect([old.status, old.json.error]).toEqual([401, 'token_rotated']);
      const reuse = await call('POST', '/session/refresh', { token });
      expect([reuse.status, reuse.json.error]).toEqual([409, 'token_already_refreshed']);
      const second = await call('POST', '/session/refresh', { token: fresh });
      expect(second.status).toBe(200);
      expect((await launch(call)).token).toBe(second.json.sessionToken);
    });

    it('expires after an hour of inactivity; activity slides the window', async () => {
      const { token } = await launch(call);
      clock += HOUR - 1000;
      expect((await call('GET', '/game/balance', { token })).status).toBe(200);
      clock += HOUR - 1000;
      expect((await call('GET', '/game/balance', { token })).status).toBe(200);
      clock += HOUR;
      const r = await call('GET', '/game/balance', { token });
      expect([r.status, r.json.error]).toEqual([401, 'session_expired']);
      expect((await call('POST', '/session/refresh', { token })).status).toBe(401);
      const relaunched = await launch(call);
      expect(relaunched.token).not.toBe(token);
      expect((await call('GET', '/game/balance', { token: relaunched.token })).json.balance).toBe('1000.00');
    });

    it('expire-session fault ends the session at once', async () => {
      const { token, sessionId } = await launch(call);
      sim.faults.add({ platform: 'rgs', fault: 'expire-session', target: sessionId });
      const r = await call('GET', '/game/balance', { token });
      expect([r.status, r.json.error]).toEqual([401, 'session_expired']);
    });
  });

  describe('history and balance', () => {
    it('sum of payouts − wagers equals the balance delta', async () => {
      const { token } = await launch(call, { gameCode: 'mines-gamma', balance: '50.00' });
      const start = (await call('GET', '/game/balance', { token })).json;
      expect(start).toEqual({ balance: '50.00', currency: 'USD' });
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await playMines(call, token, 1 + i, 2, `${i + 1}.25`)).json.round.id);
      const history = await call('GET', '/game/history?limit=100', { token });
      expect(history.status).toBe(200);
      expect(history.json.map((h: { id: string }) => h.id)).toEqual([...ids].reverse());
      for (const h of history.json) expect(Object.keys(h).sort()).toEqual(['createdAt', 'id', 'multiplier', 'payout', 'wager']);
      const cents = (s: string) => Math.round(Number(s) * 100);
      const net = history.json.reduce((acc: number, h: { wager: string; payout: string }) => acc + cents(h.payout) - cents(h.wager), 0);
      const end = (await call('GET', '/game/balance', { token })).json.balance;
      expect(cents(end) - cents(start.balance)).toBe(net);
      for (const h of history.json) expect(cents(h.payout)).toBe(Math.floor((cents(h.wager) * cents(h.multiplier)) / 100));
      expect((await call('GET', '/game/history', { token })).json).toHaveLength(6);
      expect((await call('GET', '/game/history?limit=2', { token })).json.map((h: { id: string }) => h.id)).toEqual([ids[5], ids[4]]);
    });
  });

  describe('bad input', () => {
    it('answers documented 4xx bodies and never crashes', async () => {
      const { token } = await launch(call, { balance: '5.00' });
      const cases: [string, string, { body?: unknown; raw?: string }, number, string][] = [
        ['POST', '/game/play', { body: { amount: '0', target: 50, condition: 'over' } }, 400, 'invalid_amount'],
        ['POST', '/game/play', { body: { amount: '1.001', target: 50, condition: 'over' } }, 400, 'invalid_amount'],
        ['POST', '/game/play', { body: { amount: 'abc', target: 50, condition: 'over' } }, 400, 'invalid_amount'],
        ['POST', '/game/play', { body: { amount: '6.00', target: 50, condition: 'over' } }, 400, 'insufficient_balance'],
        ['POST', '/game/play', { body: { amount: '1.00', target: 150, condition: 'over' } }, 400, 'invalid_target'],
        ['POST', '/game/play', { body: { amount: '1.00', target: 1, condition: 'over' } }, 400, 'invalid_target'],
        ['POST', '/game/play', { body: { amount: '1.00', target: 50, condition: 'sideways' } }, 400, 'invalid_condition'],
        ['POST', '/game/play', { raw: '{"amount": "1.00",' }, 400, 'invalid_json'],
        ['POST', '/game/play', { raw: '[1,2]' }, 400, 'invalid_body'],
        ['POST', '/game/play', { raw: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }) }, 413, 'payload_too_large'],
        ['POST', '/game/action', { body: { action: 'cashout' } }, 409, 'no_active_round'],
        ['GET', '/game/round/00000000-0000-4000-8000-000000000000', {}, 404, 'round_not_found'],
        ['GET', '/game/history?limit=0', {}, 400, 'invalid_limit'],
        ['GET', '/game/history?limit=101', {}, 400, 'invalid_limit'],
        ['GET', '/game/history?limit=abc', {}, 400, 'invalid_limit'],
        ['POST', '/seed/client', { body: { clientSeed: '' } }, 400, 'invalid_client_seed'],
        ['POST', '/seed/client', { body: { clientSeed: 'a:b' } }, 400, 'invalid_client_seed'],
        ['GET', '/game/play', {}, 405, 'method_not_allowed'],
        ['GET', '/game/current', {}, 405, 'method_not_allowed'],
      ];
      for (const [method, path, opts, status, error] of cases) {
        const r = await call(method, path, { token, ...opts });
        expect([method, path, r.status, r.json?.error]).toEqual([method, path, status, error]);
        expect(typeof r.json.message).toBe('string');
      }
      const badPath = await call('GET', '/game/round/%E0%A4%A', { token });
      expect([badPath.status, badPath.json.error]).toEqual([400, 'invalid_path']);
      const unknown = await call('GET', '/game/nothing', { token });
      expect(unknown.status).toBe(404);
      const mines = await launch(call, { gameCode: 'mines-alpha' });
      const minesCases: [unknown, number, string][] = [
        [{ amount: '1.00', mineCount: 0 }, 400, 'invalid_mine_count'],
        [{ amount: '1.00', mineCount: 25 }, 400, 'invalid_mine_count'],
        [{ amount: '1.00', mineCount: 2.5 }, 400, 'invalid_mine_count'],
        [{ amount: '1.00', mineCount: 3, gridSize: 36 }, 400, 'invalid_grid_size'],
      ];
      for (const [body, status, error] of minesCases) {
        const r = await call('POST', '/game/play', { token: mines.token, body });
        expect([r.status, r.json.error]).toEqual([status, error]);
      }
      await call('POST', '/game/play', { token: mines.token, body: { amount: '1.00', mineCount: 1 } });
      for (const [body, error] of [
        [{ action: 'reveal', field: 25 }, 'invalid_field'],
        [{ action: 'reveal' }, 'invalid_field'],
        [{ action: 'dance' }, 'invalid_action'],
        [{ action: 'cashout' }, 'nothing_to_cash_out'],
      ] as const) {
        const r = await call('POST', '/game/action', { token: mines.token, body });
        expect([r.status, r.json.error]).toEqual([400, error]);
      }
      // the other player's round is not visible
      const roundId = (await call('POST', '/game/current', { token: mines.token })).json.roundId;
      const foreign = await call('GET', `/game/round/${roundId}`, { token });
      expect(foreign.status).toBe(404);
      expect((await call('GET', '/game/balance', { token })).status).toBe(200);
    });
  });

  describe('faults', () => {
    it('status-429 and status-503 answer with Retry-After and leave state untouched; delay holds the reply', async () => {
      const { token, sessionId } = await launch(call);
      sim.faults.add({ platform: 'rgs', fault: 'status-429', target: token, times: 1, params: { retryAfter: 2 } });
      const limited = await call('POST', '/game/play', { token, body: { amount: '1.00', target: 50, condition: 'over' } });
      expect([limited.status, limited.json.error, limited.headers.get('retry-after')]).toEqual([429, 'rate_limited', '2']);
      sim.faults.add({ platform: 'rgs', fault: 'status-503', target: sessionId, times: 1 });
      const down = await call('GET', '/game/balance', { token });
      expect([down.status, down.json.error, down.headers.get('retry-after')]).toEqual([503, 'service_unavailable', '1']);
      expect((await call('GET', '/game/balance', { token })).json.balance).toBe('1000.00');
      expect((await call('GET', '/game/history', { token })).json).toEqual([]);
      sim.faults.add({ platform: 'rgs', fault: 'delay', target: sessionId, times: 1, params: { ms: 300 } });
      const t0 = Date.now();
      expect((await call('GET', '/game/balance', { token })).status).toBe(200);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    });

    it('round-initializing answers 503 on /game/current', async () => {
      const { token } = await launch(call, { gameCode: 'mines-alpha' });
      sim.faults.add({ platform: 'rgs', fault: 'round-initializing', times: 1 });
      const r = await call('POST', '/game/current', { token });
      expect([r.status, r.json.error]).toEqual([503, 'round_initializing']);
      expect((await call('POST', '/game/current', { token })).status).toBe(200);
    });
  });
});
