/**
 * Each platform's bots, once straight against the simulator and once through the recording proxy (fresh
 * simulators, same seed, stepping clock): the bots' TrafficLogs are identical message for message and byte for
 * byte, and the facts the sink got equal, in order, what the bot sent and received.
 */
import { moltstation, runCloudplayLauncher, runRgsBot, runSpaceMoltHttpMiner, runSpaceMoltWsMiner, TrafficLog } from '@rewind/agents';
import { resetMoltStationOptions, setMoltStationOptions } from '@rewind/simulator';
import { comparable, expectFactsMatchTraffic, RigOptions, steppingClock, withRig } from './test-helpers';

async function twice<T>(o: Omit<RigOptions, 'viaProxy' | 'now'>, play: (base: string, traffic: TrafficLog) => Promise<T>) {
  const run = (viaProxy: boolean) =>
    withRig({ ...o, viaProxy, now: steppingClock() }, async (rig) => {
      const traffic = new TrafficLog();
      const result = await play(rig.base, traffic);
      return { result, traffic, comparable: comparable(traffic, rig.sim.url), facts: rig.sink.facts, sink: rig.sink };
    });
  const direct = await run(false);
  const proxied = await run(true);
  expect(direct.facts).toHaveLength(0); // nothing went through the proxy on the direct run
  return { direct, proxied };
}

describe('recording proxy: bots behave identically through the proxy', () => {
  // MoltStation applies an input at the next step: 100 ms steps (instead of 50) leave a wide margin for the
  // bot's answer to a frame to land on the same step in both runs even on a loaded machine. (Process-wide
  // option, so it only affects this test file's simulator instances.)
  beforeAll(() => setMoltStationOptions({ tickMs: 100 }));
  afterAll(() => resetMoltStationOptions());

  it('MoltStation Flappy Bots flapper (HTTP + play WebSocket, message auth)', async () => {
    const { direct, proxied } = await twice({ seed: 'proxy-molt-fb', platform: 'moltstation' }, (baseUrl, traffic) =>
      moltstation.runFlappyBotsFlapper({ baseUrl, seed: 'flapper', traffic, stopAfterTick: 15 }),
    );
    expect(proxied.result).toEqual(direct.result);
    expect(proxied.result.closeReason).toBe('GAME_OVER');
    expect(proxied.comparable).toEqual(direct.comparable);
    const n = expectFactsMatchTraffic(proxied.facts, proxied.traffic);
    expect(n.wsMessages).toBeGreaterThan(20);
    expect(n.httpExchanges).toBeGreaterThanOrEqual(5);
    // the ws-open fact carries the platform path with its query, and the client's raw headers
    const open = proxied.sink.of('ws-open')[0]!;
    expect(open.path).toBe(`/ws/flappybots/play?sessionId=${proxied.result.sessionId}`);
    expect(open.headers.some(([k]) => k.toLowerCase() === 'sec-websocket-key')).toBe(true);
    expect(proxied.sink.of('ws-close')[0]).toMatchObject({ initiator: 'platform', code: 1000, reason: 'GAME_OVER' });
    // the authenticated HTTP calls carried the bearer token upstream (else they would have failed) and the fact has it raw
    const start = proxied.sink.of('http-request').find((f) => f.path === '/api/games/flappybots/sessions/start')!;
    expect(start.headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1]).toMatch(/^Bearer /);
  });

  it('MoltStation ShellRunners steerer (legacy ?token= auth, query string passes through)', async () => {
    const { direct, proxied } = await twice({ seed: 'proxy-molt-sr', platform: 'moltstation' }, (baseUrl, traffic) =>
      moltstation.runShellRunnersSteerer({ baseUrl, seed: 'steerer', traffic, authStyle: 'query', simulatorOptions: { hungerMax: 5, ghostMs: 100 } }),
    );
    expect(proxied.result).toEqual(direct.result);
    expect(proxied.comparable).toEqual(direct.comparable);
    expectFactsMatchTraffic(proxied.facts, proxied.traffic);
    expect(proxied.sink.of('ws-open')[0]!.path).toMatch(/^\/ws\/shellrunners\/play\?sessionId=ms_[0-9a-f]+&token=pt_[0-9a-f]+$/);
  });

  it('SpaceMolt WebSocket miner and HTTP v2 miner', async () => {
    const platformOptions = { spacemolt: { tickMs: 50 } };
    const { direct, proxied } = await twice({ seed: 'proxy-sm', platform: 'spacemolt', platformOptions }, async (baseUrl, traffic) => [
      await runSpaceMoltWsMiner({ baseUrl, seed: 'ws', cycles: 1, traffic, timeoutMs: 10_000 }),
      await runSpaceMoltHttpMiner({ baseUrl, seed: 'http', cycles: 1, traffic, timeoutMs: 10_000 }),
    ]);
    // Game ticks run on real timers, so which tick a reply lands on (current_tick/tick fields, tick pushes) can
    // differ by one between any two runs, direct or not: those are compared without the tick numbers.
    const stable = (s: (typeof direct.result)[number]) => ({ ...s, messagesReceived: undefined, pushesReceived: undefined });
    expect(proxied.result.map(stable)).toEqual(direct.result.map(stable));
    const untick = (e: ReturnType<typeof comparable>[number]) => ({
      ...e,
      data:
        typeof e.data === 'string'
          ? e.data
              .replace(/"([a-z_]*tick|timestamp|server_time)":\d+/g, '"$1":0')
              .replace(/\btick \(?\d+\)?/g, 'tick N')
              .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
          : e.data,
    });
    const sent = (c: ReturnType<typeof comparable>) => c.filter((e) => e.direction === 'sent');
    expect(sent(proxied.comparable)).toEqual(sent(direct.comparable));
    const replies = (c: ReturnType<typeof comparable>) => c.filter((e) => e.channel === 'ws' && e.direction === 'received' && String(e.data).includes('"request_id"')).map(untick);
    expect(replies(proxied.comparable)).toEqual(replies(direct.comparable));
    const httpOnly = (c: ReturnType<typeof comparable>) => c.filter((e) => e.channel === 'http').map(untick);
    expect(httpOnly(proxied.comparable)).toEqual(httpOnly(direct.comparable));
    const n = expectFactsMatchTraffic(proxied.facts, proxied.traffic);
    expect(n.wsMessages).toBeGreaterThan(20);
    expect(proxied.sink.of('ws-close')[0]).toMatchObject({ initiator: 'platform', code: 1000, reason: 'logout' });
    // POST /api/v2/session and argument-less commands send no body: the fact's body is empty too
    const session = proxied.sink.of('http-request').find((f) => f.path === '/api/v2/session')!;
    expect(session.body).toHaveLength(0);
    expect(proxied.sink.of('http-request').some((f) => f.headers.some(([k]) => k.toLowerCase() === 'x-session-id'))).toBe(true);
  });

  it('Cloud-play launcher (launch → poll → keepalives → stop)', async () => {
    const { direct, proxied } = await twice({ seed: 'proxy-cp', platform: 'cloudplay' }, (baseUrl, traffic) =>
      runCloudplayLauncher({ baseUrl, token: 'proxy-test-token', traffic, pollIntervalMs: 5, keepaliveIntervalMs: 5, keepalives: 2 }),
    );
    const noWall = (r: typeof direct.result) => ({ ...r, transitions: r.transitions.map((t) => t.status) });
    expect(noWall(proxied.result)).toEqual(noWall(direct.result));
    expect(proxied.comparable).toEqual(direct.comparable);
    const n = expectFactsMatchTraffic(proxied.facts, proxied.traffic);
    expect(n.httpExchanges).toBeGreaterThanOrEqual(5);
    expect(proxied.sink.of('http-request').some((f) => f.path.startsWith('/api/game/session-status?sessionId='))).toBe(true);
  });

  it('RGS bot (operator launch, dice, mines with resume, token refresh, seeds)', async () => {
    const { direct, proxied } = await twice({ seed: 'proxy-rgs', platform: 'rgs' }, (baseUrl, traffic) => runRgsBot({ baseUrl, seed: 'rgs', traffic, diceRounds: 4, minesRounds: 2 }));
    expect(proxied.result).toEqual(direct.result);
    expect(proxied.comparable).toEqual(direct.comparable);
    const n = expectFactsMatchTraffic(proxied.facts, proxied.traffic);
    expect(n.httpExchanges).toBeGreaterThan(10);
    // response headers as the platform sent them (content-type kept)
    expect(proxied.sink.of('http-response')[0]!.headers.some(([k, v]) => k.toLowerCase() === 'content-type' && v.includes('json'))).toBe(true);
    // facts of one exchange share its connectionId; ids are unique per exchange
    const ids = proxied.sink.of('http-request').map((f) => f.connectionId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
