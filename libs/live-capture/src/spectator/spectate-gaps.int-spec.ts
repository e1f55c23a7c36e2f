import { moltstation, TrafficLog } from '@rewind/agents';
import { RunningSimulator, startSimulator } from '@rewind/simulator';
import type { NoteFact } from '@rewind/capture-facts';
import { spectateMoltStation } from './spectate';
import { botFrames, CollectingSink, prepareSession, TcpRelay, testContext, waitFor } from './test-support';

const flap = (lastFlapTick: number) => (f: any) => (f.tick < lastFlapTick && moltstation.chooseFlap(f) ? { t: 'action', action: 'FLAP' } : undefined);

/** Frame ticks recorded before and after the (single) gap note, from the fact order. */
function aroundGap(sink: CollectingSink): { gap: NoteFact; before: number[]; after: number[] } {
  const idx = sink.facts.findIndex((f) => f.type === 'note' && f.kind === 'gap');
  expect(idx).toBeGreaterThan(-1);
  const tickOf = (i: number): number | undefined => {
    const f = sink.facts[i]!;
    return f.type === 'ws-message' && typeof f.data === 'string' && f.data.startsWith('{"t":"frame"') ? JSON.parse(f.data).frame.tick : undefined;
  };
  const before: number[] = [];
  const after: number[] = [];
  sink.facts.forEach((_f, i) => {
    const t = tickOf(i);
    if (t === undefined) return;
    (i < idx ? before : after).push(t);
  });
  return { gap: sink.facts[idx] as NoteFact, before, after };
}

function expectStrictlyIncreasing(ticks: number[]): void {
  for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBeGreaterThan(ticks[i - 1]!);
}

describe('spectateMoltStation: reconnects and gaps (real simulator)', () => {
  let sim: RunningSimulator;
  let relay: TcpRelay;
  let base: string;
  let relayBase: string;
  const isSpectateSocket = (line: string): boolean => line.startsWith('GET /moltstation/ws/') && line.includes('/spectate?');

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 'spectator-gaps' });
    base = sim.baseUrl('moltstation');
    relay = await new TcpRelay(sim.port).start();
    relayBase = `http://127.0.0.1:${relay.port}/moltstation`;
  });
  afterEach(() => sim.faults.clear());
  afterAll(async () => {
    await relay.close();
    await sim.close();
  });

  it('a dropped spectate socket (1006) mid-run: new token, reconnect, spectate-gap with lastTick/nextTick, no frame twice', async () => {
    const prep = await prepareSession(base, 'flappybots', 'fb-drop');
    const sink = new CollectingSink();
    const ctx = testContext(sink);
    const result = spectateMoltStation({ baseUrl: relayBase, slug: 'flappybots', platformSessionId: prep.sessionId }, ctx);
    await waitFor(() => sink.of('ws-message').some((m) => String(m.data).includes('"t":"hello"')), 'hello');
    const playing = prep.play(flap(40));
    await waitFor(() => sink.frames().length >= 8, '8 frames');
    expect(relay.drop(isSpectateSocket)).toBe(1);
    const res = await result;
    await playing;

    expect(res).toMatchObject({ status: 'ended', reason: 'game_over', summary: { reconnects: 1, gaps: 1 } });
    expect(sink.of('ws-close').map((c) => [c.initiator, c.code, c.reason])).toEqual([
      ['platform', 1006, ''],
      ['platform', 1000, 'GAME_OVER'],
    ]);
    expect(sink.of('http-response').map((r) => r.status)).toEqual([200, 200]);
    const { gap, before, after } = aroundGap(sink);
    expect(gap.msgType).toBe('spectate-gap');
    expect(gap.detail).toMatchObject({ reason: 'abnormal_close', closeCode: 1006, lastTick: before.at(-1), nextTick: after[0] });
    expect(after[0]!).toBeGreaterThan(before.at(-1)!);
    // The note sits right before the first frame after the reconnect, on the new socket.
    const idx = sink.facts.indexOf(gap);
    expect(sink.facts[idx + 1]).toMatchObject({ type: 'ws-message', connectionId: gap.connectionId });
    expect(sink.of('ws-open')[1]!.connectionId).toBe(gap.connectionId);
    const all = sink.frameTicks();
    expectStrictlyIncreasing(all);
    // Byte-exact: before the gap a prefix of the bot's frames, after it a suffix.
    const played = botFrames(prep.traffic, 'play-ws#1');
    const frames = sink.frames();
    expect(frames.slice(0, before.length)).toEqual(played.slice(0, before.length));
    expect(frames.slice(before.length)).toEqual(played.slice(played.length - after.length));
    expect(JSON.parse(frames.at(-1)!).frame.phase).toBe('ended');
  });

  it('token expiry on the reconnect (fault expire-token): 4410 recorded, another token, one gap naming both causes', async () => {
    const prep = await prepareSession(base, 'flappybots', 'fb-expire');
    const sink = new CollectingSink();
    const ctx = testContext(sink);
    const result = spectateMoltStation({ baseUrl: relayBase, slug: 'flappybots', platformSessionId: prep.sessionId }, ctx);
    await waitFor(() => sink.of('ws-message').some((m) => String(m.data).includes('"t":"hello"')), 'hello');
    const playing = prep.play(flap(40));
    await waitFor(() => sink.frames().length >= 6, '6 frames');
    sim.faults.add({ platform: 'moltstation', fault: 'expire-token', target: prep.sessionId, times: 1 });
    expect(relay.drop(isSpectateSocket)).toBe(1);
    const res = await result;
    await playing;

    expect(res).toMatchObject({ status: 'ended', reason: 'game_over', summary: { reconnects: 2, gaps: 1 } });
    expect(sink.of('ws-close').map((c) => [c.code, c.reason])).toEqual([
      [1006, ''],
      [4410, 'TOKEN_EXPIRED'],
      [1000, 'GAME_OVER'],
    ]);
    expect(sink.of('ws-open')).toHaveLength(3);
    expect(new Set(sink.of('ws-open').map((o) => o.connectionId)).size).toBe(3);
    const tokens = sink.of('http-response').map((r) => JSON.parse(r.body.toString('utf8')).spectateToken as string);
    expect(new Set(tokens).size).toBe(3);
    // The expired token was sent in the auth message of the second socket.
    const secondOpen = sink.of('ws-open')[1]!;
    expect(
      sink
        .of('ws-message')
        .filter((m) => m.connectionId === secondOpen.connectionId && m.direction === 'client_to_platform')
        .map((m) => m.data),
    ).toEqual([JSON.stringify({ t: 'auth', token: tokens[1] })]);
    expect(sink.notes('spectate-gap')).toHaveLength(1);
    const { gap, before, after } = aroundGap(sink);
    expect(gap.detail).toEqual({
      reason: 'abnormal_close',
      closeCode: 1006,
      lastTick: before.at(-1),
      nextTick: after[0],
      causes: [
        { reason: 'abnormal_close', closeCode: 1006 },
        { reason: 'TOKEN_EXPIRED', closeCode: 4410 },
      ],
    });
    expectStrictlyIncreasing(sink.frameTicks());
    for (const t of tokens) expect(ctx.lines.filter((l) => l.includes(t))).toEqual([]);
  });

  it('resumed (take-over): states a takeover gap from ctx.resumed.lastTick at the first frame (bot started first)', async () => {
    const traffic = new TrafficLog();
    let sessionId: string | undefined;
    const bot = moltstation.runFlappyBotsFlapper({
      baseUrl: base,
      seed: 'fb-takeover',
      traffic,
      stopAfterTick: 50,
      log: (line) => {
        sessionId ??= /session (ms_\w+)/.exec(line)?.[1];
      },
    });
    await waitFor(() => sessionId && botFrames(traffic, 'play-ws#1').length >= 10, 'the bot to be 10 frames in');
    const sink = new CollectingSink();
    const ctx = testContext(sink, { lastSeq: 40, lastTick: 6, lastSeenAtMs: Date.now() - 500 });
    const res = await spectateMoltStation({ baseUrl: base, slug: 'flappybots', platformSessionId: sessionId! }, ctx);
    const summary = await bot;
    expect(summary.closeReason).toBe('GAME_OVER');
    expect(res).toMatchObject({ status: 'ended', reason: 'game_over', summary: { reconnects: 0, gaps: 1 } });
    const gaps = sink.notes('spectate-gap');
    expect(gaps).toHaveLength(1);
    const ticks = sink.frameTicks();
    expect(ticks[0]).toBeGreaterThanOrEqual(10);
    expect(gaps[0]!.detail).toMatchObject({ reason: 'takeover', lastTick: 6, nextTick: ticks[0], closeCode: null });
    const idx = sink.facts.indexOf(gaps[0]!);
    expect(sink.facts.slice(0, idx).some((f) => f.type === 'ws-message' && String(f.data).startsWith('{"t":"frame"'))).toBe(false);
    expect(sink.facts[idx + 1]).toMatchObject({ type: 'ws-message', direction: 'platform_to_client' });
    // What it recorded is the tail of what the bot got.
    const played = botFrames(traffic, 'play-ws#1');
    expect(sink.frames()).toEqual(played.slice(played.length - ticks.length));
  });
});
