import { moltstation } from '@rewind/agents';
import { RunningSimulator, startSimulator } from '@rewind/simulator';
import { getMoltStationSessionDetail } from './live-list';
import { spectateMoltStation } from './spectate';
import { CollectingSink, prepareSession, TcpRelay, testContext, waitFor } from './test-support';

const flap = (lastFlapTick: number) => (f: any) => (f.tick < lastFlapTick && moltstation.chooseFlap(f) ? { t: 'action', action: 'FLAP' } : undefined);

const helloSeen = (sink: CollectingSink): boolean => sink.of('ws-message').some((m) => m.direction === 'platform_to_client' && String(m.data).includes('"t":"hello"'));

/**
 * A spectate socket that got `hello` and then nothing, no frame and no close (under overload in the soak: the
 * spectator attached around the run's end, or to a session whose agent never opened its play socket), used to
 * wait for ever, and its stream stayed open. The task now asks the session's detail while the socket is silent
 * and gives up after a bound.
 */
describe('spectateMoltStation: a silent spectate socket (real simulator)', () => {
  let sim: RunningSimulator;
  let relay: TcpRelay;
  let base: string;
  let relayBase: string;
  const isSpectateSocket = (line: string): boolean => line.startsWith('GET /moltstation/ws/') && line.includes('/spectate?');

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 'spectator-silence' });
    base = sim.baseUrl('moltstation');
    relay = await new TcpRelay(sim.port).start();
    relayBase = `http://127.0.0.1:${relay.port}/moltstation`;
  });
  afterAll(async () => {
    await relay.close();
    await sim.close();
  });

  it('the session ends while the socket brings nothing (not even the close): the detail says ended, the task closes its socket and ends session_ended with a marker', async () => {
    const prep = await prepareSession(base, 'flappybots', 'fb-silent-end');
    const sink = new CollectingSink();
    const ctx = testContext(sink);
    const result = spectateMoltStation({ baseUrl: relayBase, slug: 'flappybots', platformSessionId: prep.sessionId, silenceCheckMs: 300, maxSilenceMs: 600_000 }, ctx);
    await waitFor(() => helloSeen(sink), 'spectator hello');
    // From here the spectator's socket brings nothing: the frames, the final frame and the GAME_OVER close are swallowed.
    expect(relay.freeze(isSpectateSocket)).toBe(1);
    const run = await prep.play(flap(20));
    expect(run.closeReason).toBe('GAME_OVER');
    expect(await getMoltStationSessionDetail(base, 'flappybots', prep.sessionId)).toMatchObject({ found: true, status: 'ended' });

    const res = await result;
    expect(res).toEqual({ status: 'ended', reason: 'session_ended', summary: expect.objectContaining({ frames: 0, reconnects: 0, connections: 1 }) });
    expect(sink.frames()).toEqual([]);
    expect(sink.notes('session-ended')).toEqual([expect.objectContaining({ kind: 'marker', detail: { reason: 'session_ended', via: 'detail', lastTick: null } })]);
    // The task closed its socket itself (no close handshake came back: cut after a second).
    expect(sink.of('ws-close')).toEqual([expect.objectContaining({ initiator: 'client' })]);
    expect(sink.facts.at(-1)).toMatchObject({ type: 'note', msgType: 'session-ended' });
    expect(ctx.lines.some((l) => l.includes('no frame for') && l.includes('closing (session_ended)'))).toBe(true);
  });

  it('a session that never starts (its agent never opens the play socket): the task ends `inactive` after maxSilenceMs, with a marker; the session is still `created`', async () => {
    const prep = await prepareSession(base, 'flappybots', 'fb-never-played');
    const sink = new CollectingSink();
    const ctx = testContext(sink);
    const t0 = Date.now();
    const res = await spectateMoltStation({ baseUrl: base, slug: 'flappybots', platformSessionId: prep.sessionId, silenceCheckMs: 200, maxSilenceMs: 1500 }, ctx);
    const tookMs = Date.now() - t0;

    expect(res).toEqual({ status: 'ended', reason: 'inactive', summary: expect.objectContaining({ frames: 0, reconnects: 0, connections: 1 }) });
    expect(tookMs).toBeGreaterThanOrEqual(1500);
    expect(helloSeen(sink)).toBe(true);
    expect(await getMoltStationSessionDetail(base, 'flappybots', prep.sessionId)).toMatchObject({ found: true, status: 'created' });
    const [marker, ...more] = sink.notes('session-ended');
    expect(more).toEqual([]);
    expect(marker).toMatchObject({ kind: 'marker', detail: { reason: 'inactive', via: 'silence', lastTick: null } });
    expect((marker!.detail as { silentMs: number }).silentMs).toBeGreaterThanOrEqual(1500);
    expect(sink.of('ws-close')).toEqual([expect.objectContaining({ initiator: 'client', code: 1000 })]);
  });

  it('frames keep the task going: a run longer than maxSilenceMs is recorded to its end (the bound counts from the last frame)', async () => {
    const prep = await prepareSession(base, 'flappybots', 'fb-long-enough');
    const sink = new CollectingSink();
    const ctx = testContext(sink);
    const result = spectateMoltStation({ baseUrl: base, slug: 'flappybots', platformSessionId: prep.sessionId, silenceCheckMs: 100, maxSilenceMs: 400 }, ctx);
    await waitFor(() => helloSeen(sink), 'spectator hello');
    const run = await prep.play(flap(40));
    const res = await result;
    expect(run.closeReason).toBe('GAME_OVER');
    expect(res).toMatchObject({ status: 'ended', reason: 'game_over' });
    expect(JSON.parse(sink.frames().at(-1)!).frame.phase).toBe('ended');
    expect(sink.notes('session-ended')).toEqual([]);
  });
});
