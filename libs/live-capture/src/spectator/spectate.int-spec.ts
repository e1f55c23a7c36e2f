import { moltstation } from '@rewind/agents';
import { RunningSimulator, startSimulator } from '@rewind/simulator';
import type { HttpRequestFact, HttpResponseFact } from '@rewind/capture-facts';
import { getMoltStationSessionDetail } from './live-list';
import { spectateMoltStation } from './spectate';
import { botFrames, CollectingSink, prepareSession, testContext, waitFor } from './test-support';

const flap = (lastFlapTick: number) => (f: any) => (f.tick < lastFlapTick && moltstation.chooseFlap(f) ? { t: 'action', action: 'FLAP' } : undefined);
const steer = (f: any) => ({ t: 'input', dir: moltstation.chooseDir(f) });

const helloSeen = (sink: CollectingSink): boolean =>
  sink.facts.some((f) => f.type === 'ws-message' && f.direction === 'platform_to_client' && typeof f.data === 'string' && f.data.includes('"t":"hello"'));

/** The spectate tokens the platform handed out (from the recorded token responses). */
const tokensOf = (sink: CollectingSink): string[] =>
  sink
    .of('http-response')
    .filter((r) => r.status === 200)
    .map((r) => JSON.parse(r.body.toString('utf8')).spectateToken as string);

describe('spectateMoltStation (real simulator)', () => {
  let sim: RunningSimulator;
  let base: string;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 'spectator' });
    base = sim.baseUrl('moltstation');
  });
  afterEach(() => sim.faults.clear());
  afterAll(() => sim.close());

  it('Flappy Bots watched from before the first tick: every frame the bot got, byte for byte and in order, token exchange, open, auth, close GAME_OVER', async () => {
    const sink = new CollectingSink();
    const ctx = testContext(sink);
    const prep = await prepareSession(base, 'flappybots', 'fb-first-tick');
    expect((await getMoltStationSessionDetail(base, 'flappybots', prep.sessionId)).found && true).toBe(true);
    const result = spectateMoltStation({ baseUrl: base, slug: 'flappybots', platformSessionId: prep.sessionId }, ctx);
    await waitFor(() => helloSeen(sink), 'spectator hello');
    const run = await prep.play(flap(25));
    const res = await result;

    expect(run.closeReason).toBe('GAME_OVER');
    const played = botFrames(prep.traffic, 'play-ws#1');
    expect(played.length).toBeGreaterThan(10);
    expect(sink.frames()).toEqual(played);
    expect(sink.frameTicks()[0]).toBe(0);
    expect(JSON.parse(played[0] as string).frame.tick).toBe(0);
    const last = JSON.parse(sink.frames().at(-1) as string).frame;
    expect(last.phase).toBe('ended');
    expect(res).toEqual({
      status: 'ended',
      reason: 'game_over',
      summary: expect.objectContaining({ frames: played.length, reconnects: 0, spectatorsFullRetries: 0, lastTick: last.tick, gaps: 0 }),
    });

    // Shape and order of the facts.
    const types = sink.facts.map((f) => f.type);
    expect(types.slice(0, 4)).toEqual(['http-request', 'http-response', 'ws-open', 'ws-message']);
    expect(types.at(-1)).toBe('ws-close');
    expect(sink.facts.every((f) => f.origin === 'spectator' && f.platform === 'moltstation')).toBe(true);
    const [req, resp] = sink.facts as [HttpRequestFact, HttpResponseFact];
    expect(req).toMatchObject({ method: 'POST', path: `/api/games/flappybots/sessions/${prep.sessionId}/spectate-token-public` });
    expect(req.body.length).toBe(0);
    expect(req.headers).toContainEqual(['host', new URL(base).host]);
    expect(resp.status).toBe(200);
    expect(resp.headers.some(([k, v]) => k.toLowerCase() === 'content-type' && v.startsWith('application/json'))).toBe(true);
    const token = JSON.parse(resp.body.toString('utf8')).spectateToken as string;
    expect(token).toMatch(/\S{6,}/);
    expect(req.connectionId).toBe(resp.connectionId);
    const open = sink.of('ws-open')[0]!;
    expect(open.path).toBe(`/ws/flappybots/spectate?sessionId=${prep.sessionId}`);
    expect(open.headers.map(([k]) => k.toLowerCase())).toEqual(expect.arrayContaining(['sec-websocket-key', 'sec-websocket-version', 'upgrade', 'host']));
    expect(open.connectionId).not.toBe(req.connectionId);
    const c2p = sink.of('ws-message').filter((m) => m.direction === 'client_to_platform');
    expect(c2p.map((m) => m.data)).toEqual([JSON.stringify({ t: 'auth', token })]);
    expect(sink.of('ws-message').every((m) => m.connectionId === open.connectionId)).toBe(true);
    expect(sink.of('ws-message').find((m) => m.direction === 'platform_to_client')?.data).toBe('{"t":"hello","role":"spectate","tickHz":20}');
    // Each platform message carries the spectator's own parse of it (the recorder does not parse it again).
    for (const m of sink.of('ws-message').filter((f) => f.direction === 'platform_to_client')) expect(m.parsed).toEqual(JSON.parse(m.data as string));
    expect(sink.of('ws-close')).toEqual([expect.objectContaining({ initiator: 'platform', code: 1000, reason: 'GAME_OVER', connectionId: open.connectionId })]);
    expect(sink.notes()).toEqual([]);
    // Logs never carry token characters.
    expect(ctx.lines.length).toBeGreaterThan(0);
    expect(ctx.lines.filter((l) => l.includes(token))).toEqual([]);
  });

  it('ShellRunners (legacy ?token= auth) from before the first tick: same frames as the steerer, ended GAME_OVER', async () => {
    const sink = new CollectingSink();
    const ctx = testContext(sink);
    const prep = await prepareSession(base, 'shellrunners', 'sr-first-tick', { hungerMax: 10, ghostMs: 100, invincibleMs: 100 });
    const result = spectateMoltStation({ baseUrl: base, slug: 'shellrunners', platformSessionId: prep.sessionId, authStyle: 'query' }, ctx);
    await waitFor(() => helloSeen(sink), 'spectator hello');
    const run = await prep.play(steer);
    const res = await result;
    expect(run.closeReason).toBe('GAME_OVER');
    const played = botFrames(prep.traffic, 'play-ws#1');
    expect(played.length).toBeGreaterThan(10);
    expect(sink.frames()).toEqual(played);
    expect(sink.frameTicks()[0]).toBe(0);
    expect(JSON.parse(sink.frames().at(-1) as string).frame.phase).toBe('ended');
    expect(res).toMatchObject({ status: 'ended', reason: 'game_over', summary: { frames: played.length, reconnects: 0 } });
    const [token] = tokensOf(sink);
    expect(sink.of('ws-open')[0]!.path).toBe(`/ws/shellrunners/spectate?sessionId=${prep.sessionId}&token=${token}`);
    expect(sink.of('ws-message').filter((m) => m.direction === 'client_to_platform')).toEqual([]);
    expect(sink.of('ws-close').at(-1)).toMatchObject({ code: 1000, reason: 'GAME_OVER', initiator: 'platform' });
    expect(ctx.lines.filter((l) => l.includes(token!))).toEqual([]);
  });

  it('a session that already ended, and an unknown one, end the task at once (session_ended / not_found), the refusal recorded', async () => {
    const prep = await prepareSession(base, 'flappybots', 'fb-already-over');
    await prep.play(() => undefined); // falls: GAME_OVER
    const sink = new CollectingSink();
    const res = await spectateMoltStation({ baseUrl: base, slug: 'flappybots', platformSessionId: prep.sessionId }, testContext(sink));
    expect(res).toMatchObject({ status: 'ended', reason: 'session_ended', summary: { frames: 0 } });
    const refused = sink.of('http-response')[0]!;
    expect(refused.status).toBe(409);
    expect(JSON.parse(refused.body.toString('utf8')).code).toBe('SESSION_ENDED');
    expect(sink.notes('session-ended')).toHaveLength(1);
    expect(sink.of('ws-open')).toEqual([]);

    const sink2 = new CollectingSink();
    const res2 = await spectateMoltStation({ baseUrl: base, slug: 'flappybots', platformSessionId: 'ms_doesnotexist' }, testContext(sink2));
    expect(res2).toMatchObject({ status: 'ended', reason: 'not_found' });
    expect(sink2.of('http-response')[0]!.status).toBe(404);
  });

  it('SPECTATORS_FULL (fault, 3 times): each refusal recorded with a spectators-full marker and growing backoff, then attaches before the first tick', async () => {
    const prep = await prepareSession(base, 'flappybots', 'fb-full-fault');
    sim.faults.add({ platform: 'moltstation', fault: 'spectators-full', target: prep.sessionId, times: 3 });
    const sink = new CollectingSink();
    const ctx = testContext(sink);
    const result = spectateMoltStation({ baseUrl: base, slug: 'flappybots', platformSessionId: prep.sessionId, retry: { initialDelayMs: 20, maxDelayMs: 60 } }, ctx);
    await waitFor(() => helloSeen(sink), 'spectator hello after the refusals');
    const run = await prep.play(flap(15));
    const res = await result;
    expect(run.closeReason).toBe('GAME_OVER');

    const markers = sink.notes('spectators-full');
    expect(markers.map((m) => m.detail.attempt)).toEqual([1, 2, 3]);
    expect(markers.every((m) => m.kind === 'marker' && m.detail.spectatorsCurrent === 25 && m.detail.spectatorsMax === 25)).toBe(true);
    const delays = markers.map((m) => m.detail.retryInMs as number);
    expect(delays[0]).toBeGreaterThanOrEqual(10);
    expect(delays[0]).toBeLessThanOrEqual(20);
    expect(delays[1]).toBeGreaterThanOrEqual(20);
    expect(delays[1]).toBeLessThanOrEqual(40);
    expect(delays[2]).toBeGreaterThanOrEqual(30);
    expect(delays[2]).toBeLessThanOrEqual(60);
    const responses = sink.of('http-response');
    expect(responses.map((r) => r.status)).toEqual([409, 409, 409, 200]);
    expect(responses[0]!.body.toString('utf8')).toBe('{"error":"25/25 spectators limit reached for this livestream","code":"SPECTATORS_FULL","spectatorsCurrent":25,"spectatorsMax":25}');
    // Each marker belongs to its refused exchange.
    expect(markers.map((m) => m.connectionId)).toEqual(responses.slice(0, 3).map((r) => r.connectionId));
    expect(sink.frames()).toEqual(botFrames(prep.traffic, 'play-ws#1'));
    expect(res).toMatchObject({ status: 'ended', reason: 'game_over', summary: { spectatorsFullRetries: 3, reconnects: 0 } });
  });

  it('abort mid-run: resolves aborted promptly, closes its socket 1001, records nothing after', async () => {
    const prep = await prepareSession(base, 'flappybots', 'fb-abort');
    const sink = new CollectingSink();
    const ctx = testContext(sink);
    const result = spectateMoltStation({ baseUrl: base, slug: 'flappybots', platformSessionId: prep.sessionId }, ctx);
    await waitFor(() => helloSeen(sink), 'spectator hello');
    const player = new AbortController();
    const playing = prep.play(flap(1e9), player.signal);
    await waitFor(() => sink.frames().length >= 5, '5 frames');
    const t0 = Date.now();
    ctx.controller.abort();
    const res = await result;
    expect(Date.now() - t0).toBeLessThan(5_000); // promptly against a run that would not end (a loaded machine keeps this bound)
    expect(res).toEqual({ status: 'aborted' });
    expect(sink.facts.at(-1)).toMatchObject({ type: 'ws-close', initiator: 'client', code: 1001 });
    const count = sink.facts.length;
    await waitFor(async () => {
      const d = await getMoltStationSessionDetail(base, 'flappybots', prep.sessionId);
      return d.found && d.status === 'live' && d.spectators?.current === 0;
    }, 'the platform to drop the spectator');
    const botSoFar = botFrames(prep.traffic, 'play-ws#1').length;
    await waitFor(() => botFrames(prep.traffic, 'play-ws#1').length >= botSoFar + 3, 'more frames for the bot');
    expect(sink.facts.length).toBe(count);
    player.abort();
    await playing;
  });

  it('abort while backing off from SPECTATORS_FULL: resolves at once (the retry timer is cleared)', async () => {
    const prep = await prepareSession(base, 'flappybots', 'fb-abort-full');
    sim.faults.add({ platform: 'moltstation', fault: 'spectators-full', target: prep.sessionId });
    const sink = new CollectingSink();
    const ctx = testContext(sink);
    const result = spectateMoltStation({ baseUrl: base, slug: 'flappybots', platformSessionId: prep.sessionId, retry: { initialDelayMs: 30_000, maxDelayMs: 60_000 } }, ctx);
    await waitFor(() => sink.notes('spectators-full').length === 1, 'first refusal');
    const t0 = Date.now();
    ctx.controller.abort();
    expect(await result).toEqual({ status: 'aborted' });
    expect(Date.now() - t0).toBeLessThan(5_000); // at once against the 30 s retry timer
    expect(sink.of('ws-open')).toEqual([]);
  });
});

describe('spectateMoltStation with a small spectator cap (real simulator, spectatorCap 1)', () => {
  let sim: RunningSimulator;
  let base: string;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 'spectator-cap', platformOptions: { moltstation: { spectatorCap: 1 } } });
    base = sim.baseUrl('moltstation');
  });
  afterAll(() => sim.close());

  it('keeps retrying while another spectator holds the only seat, then attaches and records from the first tick', async () => {
    const prep = await prepareSession(base, 'flappybots', 'fb-cap');
    const other = await moltstation.attachSpectator({ baseUrl: base, slug: 'flappybots', sessionId: prep.sessionId });
    await waitFor(async () => {
      const d = await getMoltStationSessionDetail(base, 'flappybots', prep.sessionId);
      return d.found && d.spectators?.current === 1;
    }, 'the other spectator to hold the seat');
    const sink = new CollectingSink();
    const result = spectateMoltStation({ baseUrl: base, slug: 'flappybots', platformSessionId: prep.sessionId, retry: { initialDelayMs: 10, maxDelayMs: 40 } }, testContext(sink));
    await waitFor(() => sink.notes('spectators-full').length >= 3, '3 refusals');
    expect(sink.of('ws-open')).toEqual([]);
    other.close();
    await other.done;
    await waitFor(() => helloSeen(sink), 'spectator hello once the seat is free');
    await prep.play(flap(10));
    const res = await result;
    const markers = sink.notes('spectators-full');
    expect(markers[0]!.detail).toMatchObject({ attempt: 1, spectatorsCurrent: 1, spectatorsMax: 1 });
    expect(markers.map((m) => m.detail.attempt)).toEqual(markers.map((_m, i) => i + 1));
    expect(sink.frameTicks()[0]).toBe(0);
    expect(sink.frames()).toEqual(botFrames(prep.traffic, 'play-ws#1'));
    expect(res).toMatchObject({ status: 'ended', reason: 'game_over', summary: { spectatorsFullRetries: markers.length } });
  });
});
