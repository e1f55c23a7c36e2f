import { runRgsBot } from '@rewind/agents';
import { RunningSimulator, startSimulator } from '@rewind/simulator';
import { httpCall, RawResponse } from '@rewind/testing';
import { startRecordingProxy } from '@rewind/proxy';
import { pollRgsSession, RgsPollerOptions } from './index';
import { FactLog, RgsSessionTracker, teeSink, testContext as newContext, waitFor } from './test-support';

const OPERATOR_KEY = 'rgs-operator-dev-key';
const HOUR = 60 * 60 * 1000;

/** The agent's side, by direct calls: what the proxy would have seen (token, activity, expiresAt) is kept by hand. */
class Agent {
  token = '';
  sessionId = '';
  expiresAtMs: number | undefined;
  activityAtMs = 0;

  constructor(
    private readonly sim: RunningSimulator,
    private readonly clock: () => number = Date.now,
  ) {}

  async call(method: string, path: string, body?: unknown, token = this.token): Promise<RawResponse> {
    this.activityAtMs = this.clock();
    return httpCall(`${this.sim.baseUrl('rgs')}${path}`, { method, headers: { authorization: `Bearer ${token}` }, body });
  }

  async launch(gameCode = 'dice-alpha', playerId = 'poller-p1'): Promise<void> {
    const r = await this.call('POST', '/operator/launch', { playerId, gameCode }, OPERATOR_KEY);
    expect(r.status).toBe(200);
    this.token = new URL(r.json.launchUrl).searchParams.get('sessionToken') as string;
    this.sessionId = r.json.sessionId;
    this.expiresAtMs = Date.parse(r.json.expiresAt);
  }

  async dice(): Promise<string> {
    const r = await this.call('POST', '/game/play', { amount: '1.00', target: 50, condition: 'over' });
    expect(r.status).toBe(200);
    return r.json.round.id;
  }

  async refresh(): Promise<void> {
    const r = await this.call('POST', '/session/refresh');
    expect(r.status).toBe(200);
    this.token = r.json.sessionToken;
    this.expiresAtMs = Date.parse(r.json.expiresAt);
  }

  async rotate(): Promise<void> {
    expect((await this.call('POST', '/seed/rotate')).status).toBe(200);
  }
}

/** Recorded round-details answers (200) by round id: how many without and with the revealed server seed. */
function roundVersions(sink: FactLog): Map<string, { hidden: number; revealed: number; bodies: string[] }> {
  const out = new Map<string, { hidden: number; revealed: number; bodies: string[] }>();
  for (const e of sink.exchanges()) {
    const m = /^\/game\/round\/([^/?]+)$/.exec(e.req.path);
    if (!m || e.res?.status !== 200) continue;
    const v = out.get(m[1] as string) ?? { hidden: 0, revealed: 0, bodies: [] };
    if (typeof e.json.seed.serverSeed === 'string') v.revealed++;
    else v.hidden++;
    v.bodies.push(e.res.body.toString());
    out.set(m[1] as string, v);
  }
  return out;
}

const latest = (sink: FactLog, path: string) =>
  sink
    .exchanges()
    .filter((e) => e.req.path === path && e.res?.status === 200)
    .at(-1)?.json;

describe('RGS session poller', () => {
  let sim: RunningSimulator;
  let simLog: string[];
  const contexts: ReturnType<typeof newContext>[] = [];
  const testContext = (): ReturnType<typeof newContext> => {
    const c = newContext();
    contexts.push(c);
    return c;
  };
  /** Requests the simulator authenticated for one RGS session (its log names the session on each). */
  const callsFor = (sessionId: string): number => simLog.filter((l) => l.includes(`session ${sessionId}`)).length;

  beforeEach(async () => {
    simLog = [];
    sim = await startSimulator({ port: 0, seed: 'rgs-poller', log: (l) => simLog.push(l) });
  });
  afterEach(async () => {
    for (const c of contexts.splice(0)) c.abort.abort();
    await sim.close();
  });

  it('records a bot session through the proxy: every settled round once (and once more revealed), history, balance; never refreshes', async () => {
    const dice = new RgsSessionTracker('dice-alpha');
    const mines = new RgsSessionTracker('mines-alpha');
    const proxyFacts = new FactLog();
    const proxy = await startRecordingProxy({ port: 0, upstreams: { rgs: sim.baseUrl('rgs') }, sink: teeSink(proxyFacts, dice, mines) });
    try {
      let ticks = 0;
      const now = (): number => {
        ticks++;
        return Date.now();
      };
      const options = (t: RgsSessionTracker): RgsPollerOptions => ({
        baseUrl: sim.baseUrl('rgs'),
        getToken: () => t.token,
        lastActivityAtMs: () => t.lastActivityAtMs,
        expiresAtMs: () => t.expiresAtMs,
        intervalMs: 5,
        now,
      });
      const diceCtx = testContext();
      const minesCtx = testContext();
      const pollers = [pollRgsSession(options(dice), diceCtx), pollRgsSession(options(mines), minesCtx)];
      const bot = await runRgsBot({ baseUrl: `${proxy.url}/rgs`, seed: 'poller-bot', diceRounds: 6, minesRounds: 3 });
      expect(bot.roundsPlayed.total).toBe(9);

      // Both pollers catch up once the agent is idle: every round recorded, revealed (both sessions rotated at the end).
      const versions = () => new Map([...roundVersions(diceCtx.sink), ...roundVersions(minesCtx.sink)]);
      await waitFor(() => bot.roundIds.every((id) => versions().get(id)?.revealed === 1), 'every round recorded with its revealed seed');
      for (const [id, v] of versions()) {
        expect(bot.roundIds).toContain(id);
        expect(v.revealed).toBe(1);
        expect(v.hidden).toBeLessThanOrEqual(1);
        expect(new Set(v.bodies).size).toBe(v.bodies.length);
      }
      expect(versions().size).toBe(9);

      // Idle: once the agent stopped, the pollers' calls stop too.
      await waitFor(() => latest(minesCtx.sink, '/game/balance')?.balance === bot.finalBalance, 'the final balance');
      const sessions = [...new Set(simLog.map((l) => /session (rgs-[0-9a-f]+)/.exec(l)?.[1]).filter((s): s is string => !!s))];
      expect(sessions).toHaveLength(2);
      const settled = ticks;
      await waitFor(() => ticks >= settled + 20, 'twenty more ticks');
      const before = sessions.map(callsFor);
      await waitFor(() => ticks >= settled + 60, 'forty idle ticks');
      expect(sessions.map(callsFor)).toEqual(before);

      const diceHistory = latest(diceCtx.sink, '/game/history?limit=100') as { id: string }[];
      expect(diceHistory).toHaveLength(6);
      expect(latest(diceCtx.sink, '/game/balance')).toMatchObject({ currency: 'USD' });
      // Dedupe: consecutive recorded answers of one endpoint always differ.
      for (const sink of [diceCtx.sink, minesCtx.sink]) {
        for (const path of ['/game/current', '/game/history?limit=100', '/seed/current', '/game/balance']) {
          const bodies = sink
            .exchanges()
            .filter((e) => e.req.path === path && e.res?.status === 200)
            .map((e) => e.res!.body.toString());
          expect(bodies.length).toBeGreaterThan(0);
          for (let i = 1; i < bodies.length; i++) expect(bodies[i]).not.toBe(bodies[i - 1]);
        }
      }

      // Never /session/refresh: not in any recorded request, and the simulator saw only the bot's refresh.
      const paths = [...diceCtx.sink.requests(), ...minesCtx.sink.requests()].map((r) => r.path);
      expect(paths.every((p) => /^\/(game\/(current|balance|history\?limit=100|round\/[0-9a-f-]+)|seed\/current)$/.test(p))).toBe(true);
      expect(simLog.filter((l) => l.startsWith('[rgs] refresh '))).toHaveLength(bot.tokenRefreshes);
      expect(bot.tokenRefreshes).toBe(1);
      // Every call used the latest token the proxy saw at the time; never one in a log line.
      for (const c of [diceCtx, minesCtx]) for (const t of [dice.token, mines.token]) expect(c.lines.join('\n')).not.toContain(t as string);

      for (const c of [diceCtx, minesCtx]) c.abort.abort();
      await expect(Promise.all(pollers)).resolves.toEqual([{ status: 'aborted' }, { status: 'aborted' }]);
    } finally {
      await proxy.close();
    }
  });

  it('after a refresh it waits for the new token (marker once), goes on with it, and records the revealed seeds after a rotation', async () => {
    const agent = new Agent(sim);
    await agent.launch();
    const oldToken = agent.token;
    let token = oldToken;
    let ticks = 0;
    const ctx = testContext();
    const done = pollRgsSession(
      {
        baseUrl: sim.baseUrl('rgs'),
        getToken: () => {
          ticks++;
          return token;
        },
        lastActivityAtMs: () => agent.activityAtMs,
        expiresAtMs: () => agent.expiresAtMs,
        intervalMs: 5,
      },
      ctx,
    );
    const r1 = await agent.dice();
    const r2 = await agent.dice();
    await waitFor(() => roundVersions(ctx.sink).size === 2, 'two rounds recorded');

    await agent.refresh(); // the agent's one-shot refresh; the proxy has not passed the new token on yet
    await waitFor(() => ctx.sink.notes('token-rejected').length === 1, 'the token-rejected marker');
    const rejected = ctx.sink.responses().filter((r) => r.status === 401);
    expect(rejected).toHaveLength(1);
    expect(JSON.parse(rejected[0]!.body.toString()).error).toBe('token_rotated');
    const r3 = await agent.dice(); // more activity, still no new token: no new call with the old one
    const requestsSoFar = ctx.sink.requests().length;
    const t = ticks;
    await waitFor(() => ticks >= t + 20, 'twenty ticks with the rejected token');
    expect(ctx.sink.requests()).toHaveLength(requestsSoFar);
    token = agent.token;
    await waitFor(() => roundVersions(ctx.sink).has(r3), 'round 3 recorded with the new token');
    expect(ctx.sink.notes('token-rejected')).toHaveLength(1);
    expect(ctx.sink.responses().filter((r) => r.status === 401)).toHaveLength(1);
    const r3Request = ctx.sink.requests().find((r) => r.path === `/game/round/${r3}`)!;
    expect(r3Request.headers).toContainEqual(['authorization', `Bearer ${agent.token}`]);

    await agent.rotate();
    await waitFor(() => [r1, r2, r3].every((id) => roundVersions(ctx.sink).get(id)?.revealed === 1), 'the revealed versions');
    for (const id of [r1, r2, r3]) expect(roundVersions(ctx.sink).get(id)).toMatchObject({ hidden: 1, revealed: 1 });

    expect(ctx.sink.requests().some((r) => r.path.includes('refresh'))).toBe(false);
    expect(simLog.filter((l) => l.startsWith('[rgs] refresh '))).toHaveLength(1);
    ctx.abort.abort();
    await expect(done).resolves.toEqual({ status: 'aborted' });
    expect(ctx.lines.join('\n')).not.toContain(oldToken);
    expect(ctx.lines.join('\n')).not.toContain(agent.token);
  });

  it('stops calling while the agent is idle (one poll after it goes idle) and resumes when it plays again', async () => {
    const agent = new Agent(sim);
    await agent.launch();
    let ticks = 0;
    const ctx = testContext();
    const done = pollRgsSession(
      {
        baseUrl: sim.baseUrl('rgs'),
        getToken: () => agent.token,
        lastActivityAtMs: () => {
          ticks++;
          return agent.activityAtMs;
        },
        expiresAtMs: () => agent.expiresAtMs,
        intervalMs: 5,
      },
      ctx,
    );
    await agent.dice();
    await waitFor(() => roundVersions(ctx.sink).size === 1, 'the round recorded');
    // Idle now: at most the one idle poll happens, then nothing for many ticks.
    let t = ticks;
    await waitFor(() => ticks >= t + 10, 'ten ticks');
    const idleCalls = callsFor(agent.sessionId);
    t = ticks;
    await waitFor(() => ticks >= t + 50, 'fifty idle ticks');
    expect(callsFor(agent.sessionId)).toBe(idleCalls);

    const round = await agent.dice();
    await waitFor(() => roundVersions(ctx.sink).has(round), 'the new round recorded');
    expect(callsFor(agent.sessionId)).toBeGreaterThan(idleCalls + 1);
    ctx.abort.abort();
    await expect(done).resolves.toEqual({ status: 'aborted' });
  });

  it('honours Retry-After on a 503 status fault (recorded, marker) and finishes the poll afterwards', async () => {
    const agent = new Agent(sim);
    await agent.launch();
    sim.faults.add({ platform: 'rgs', fault: 'status-503', target: agent.sessionId, params: { retryAfter: 1 }, times: 1 });
    const ctx = testContext();
    const done = pollRgsSession({ baseUrl: sim.baseUrl('rgs'), getToken: () => agent.token, lastActivityAtMs: () => agent.activityAtMs, intervalMs: 5 }, ctx);
    await waitFor(() => latest(ctx.sink, '/game/balance'), 'a complete poll after the 503', 5000);
    const busy = ctx.sink.responses().find((r) => r.status === 503)!;
    expect(ctx.sink.notes('retry-after').map((n) => [n.detail['status'], n.detail['waitMs']])).toEqual([[503, 1000]]);
    const next = ctx.sink.requests().find((r) => r.wallUs > busy.wallUs)!;
    expect(next.wallUs - busy.wallUs).toBeGreaterThanOrEqual(990_000);
    ctx.abort.abort();
    await expect(done).resolves.toEqual({ status: 'aborted' });
  });

  it('on an injected clock: no call after the agent idles, then past expiresAt one probe → 401 session_expired → ended "expired"', async () => {
    await sim.close();
    let clock = Date.UTC(2026, 5, 22, 15, 0, 0);
    sim = await startSimulator({ port: 0, seed: 'rgs-poller', now: () => clock, log: (l) => simLog.push(l) });
    const agent = new Agent(sim, () => clock);
    await agent.launch();
    let ticks = 0;
    const ctx = testContext();
    const done = pollRgsSession(
      {
        baseUrl: sim.baseUrl('rgs'),
        getToken: () => agent.token,
        lastActivityAtMs: () => agent.activityAtMs,
        expiresAtMs: () => agent.expiresAtMs,
        intervalMs: 5,
        now: () => {
          ticks++;
          return clock;
        },
      },
      ctx,
    );
    clock += 60_000;
    const round = await agent.dice();
    await waitFor(() => roundVersions(ctx.sink).has(round), 'the round recorded');
    // 59 minutes idle: before the expiry no probe, no call.
    // A call already in flight (the round's read-back) may still land: wait until the count holds for ten ticks.
    let t = ticks;
    let calls = callsFor(agent.sessionId);
    for (let settled = false; !settled;) {
      t = ticks;
      await waitFor(() => ticks >= t + 10, 'ten ticks');
      settled = callsFor(agent.sessionId) === calls;
      calls = callsFor(agent.sessionId);
    }
    clock += 59 * 60_000;
    t = ticks;
    await waitFor(() => ticks >= t + 20, 'twenty ticks before the expiry');
    expect(callsFor(agent.sessionId)).toBe(calls);

    clock += 2 * HOUR;
    const result = await done;
    expect(result).toMatchObject({ status: 'ended', reason: 'expired', summary: { probes: 1 } });
    const last = ctx.sink.exchanges().at(-1)!;
    expect(last.req.path).toBe('/game/balance');
    expect(last.res!.status).toBe(401);
    expect(last.json.error).toBe('session_expired');
    expect(ctx.sink.notes('session-expired')).toHaveLength(1);
    // The probe found the session already expired: the poller did not keep it alive.
    expect(callsFor(agent.sessionId)).toBe(calls);
  });
});
