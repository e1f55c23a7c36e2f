import { gap, httpReq, httpRes, marker, outcomeEvent, run, stream, wsClose, wsIn, wsOut } from '@rewind/platforms/test-support';
import type { EventDraft } from '@rewind/platforms/test-support';
import type { EvidenceStream } from '../types';
import { summarizeRun } from './summarize';

/** The stream, started `ms` later than the builders' common start. */
const later = (s: EvidenceStream, ms: number): EvidenceStream => ({ ...s, startedAt: new Date(s.startedAt.getTime() + ms) });

/** Nearest rank, written out here (not the implementation's): ascending values, rank ⌈p·n⌉. */
const rankOf = (n: number, p: number): number => Math.ceil(p * n) - 1;

const msFrame = (tick: number, score: unknown, extra: Record<string, unknown> = {}) =>
  wsIn({ t: 'frame', frame: { v: 1, tick, phase: 'running', score, ...extra } }, { kind: 'frame', msgType: 'frame', tick });
const specFrame = (tick: number, score: unknown, extra: Record<string, unknown> = {}) =>
  wsIn({ t: 'frame', frame: { v: 1, tick, phase: 'running', score, ...extra } }, { kind: 'frame', msgType: 'frame', tick, channel: 'spectate_ws' });

describe('summarizeRun', () => {
  describe('given a MoltStation run recorded by both the proxy and the spectator', () => {
    // Proxy: start call, auth, 4 frames with score.current 0,1,2,5 and lives 3,3,2,1; spectator: frames with other scores.
    const proxyOffsets = [0, 1_000, 20_000, 21_000, 22_000, 23_000, 60_000, 75_000, 110_000, 111_000, 170_000, 200_000, 201_000];
    const proxy = stream(
      'proxy',
      [
        httpReq('POST', '/api/games/shellrunners/sessions/start', { source: 'agent_api' }),
        httpRes('POST', '/api/games/shellrunners/sessions/start', 200, { sessionId: 'ms_1' }),
        wsOut({ t: 'auth', token: 'x' }, { kind: 'command', msgType: 'auth' }),
        wsIn({ t: 'hello', role: 'play', tickHz: 20 }, { kind: 'notification', msgType: 'hello' }),
        msFrame(0, { current: 0, high: 0 }, { lives: 3 }),
        wsOut({ t: 'action', action: 'LEFT' }, { tick: 0 }),
        msFrame(1, { current: 1, high: 1 }, { lives: 3 }),
        wsOut({ t: 'action', action: 'RIGHT' }, { tick: 1 }),
        msFrame(2, { current: 2, high: 2 }, { lives: 2 }),
        wsOut({ t: 'action', action: 'LEFT' }, { tick: 2 }),
        msFrame(3, { current: 5, high: 5 }, { lives: 1 }),
        wsClose(1000, 'GAME_OVER'),
        outcomeEvent({ platform: 'moltstation', game: 'shellrunners', score: 5, tick: 3 }),
      ],
      { offsetsUs: proxyOffsets },
    );
    const spectator = later(
      stream(
        'spectator',
        [
          wsOut({ t: 'auth', token: 'y' }, { kind: 'command', channel: 'spectate_ws' }),
          specFrame(0, { current: 0 }, { lives: 3 }),
          specFrame(3, { current: 99 }, { lives: 3 }),
          gap({ reason: 'reconnect' }),
        ],
        {
          offsetsUs: [0, 5_000, 300_000, 400_000],
        },
      ),
      7,
    );
    const given = run({ platform: 'moltstation', game: 'shellrunners', agent: 'bot', source: 'agent_api', platformSessionId: 'ms_1' }, [proxy, spectator]);

    it('then the score, lives lost and final tick are the proxy’s final frame’s, not the spectator’s', () => {
      const s = summarizeRun(given);
      expect(s.score).toBe(5);
      expect(s.livesLost).toBe(3 - 1);
      expect(s.extra).toEqual({ ticks: 3, game: 'shellrunners' });
    });

    it('then the times span both recorder streams (spectator started 7 ms later and ended last)', () => {
      const s = summarizeRun(given);
      expect(s.streams).toBe(2);
      expect(s.startedAt?.getTime()).toBe(proxy.startedAt.getTime());
      const expectedEndMs = spectator.startedAt.getTime() + 400_000 / 1000;
      expect(s.endedAt?.getTime()).toBe(expectedEndMs);
      expect(s.durationMs).toBe(expectedEndMs - proxy.startedAt.getTime());
    });

    it('then inputs are the proxy’s client-to-platform events (1 HTTP request, auth, 3 actions), not the spectator’s auth', () => {
      const s = summarizeRun(given);
      expect(s.inputs).toBe(5);
      expect(s.inputsPerMinute).toBeCloseTo(5 / ((s.durationMs as number) / 60_000), 10);
    });

    it('then reaction latencies pair each WS input with the next platform message on play_ws', () => {
      // auth 20_000 → hello 21_000; actions 23_000 → 60_000, 75_000 → 110_000, 111_000 → 170_000 (µs).
      const deltas = [21_000 - 20_000, 60_000 - 23_000, 110_000 - 75_000, 170_000 - 111_000].map((us) => us / 1000).sort((a, b) => a - b);
      const s = summarizeRun(given);
      expect(s.reactionP50Ms).toBe(deltas[rankOf(deltas.length, 0.5)]);
      expect(s.reactionP95Ms).toBe(deltas[rankOf(deltas.length, 0.95)]);
      expect(s.reactionP50Ms).toBe(35);
      expect(s.reactionP95Ms).toBe(59);
    });

    it('then the spectator’s gap is counted', () => {
      expect(summarizeRun(given).gaps).toBe(1);
    });

    it('then the identity fields are the run’s', () => {
      const s = summarizeRun(given);
      expect(s).toMatchObject({
        runKey: given.runKey,
        platform: 'moltstation',
        game: 'shellrunners',
        agent: 'bot',
        source: 'agent_api',
        platformSessionId: 'ms_1',
        runSessionId: proxy.sessionId,
      });
    });
  });

  describe('given MoltStation runs whose proxy has no usable frames', () => {
    it('when only the spectator saw frames (score a plain number), then the score is the spectator’s final frame’s', () => {
      const proxy = stream('proxy', [wsOut({ t: 'action' }), outcomeEvent({ score: 40 })]);
      const spectator = stream('spectator', [specFrame(1, 10), specFrame(2, 12), specFrame(3, 17)]);
      const s = summarizeRun(run({ platform: 'moltstation', game: 'flappybots' }, [proxy, spectator]));
      expect(s.score).toBe(17);
      expect(s.extra['ticks']).toBe(3);
    });

    it('when no stream has a frame with a score, then the score and tick are the outcome event’s', () => {
      const proxy = stream('proxy', [msFrame(4, 'seven'), outcomeEvent({ score: 103, tick: 187, game: 'flappybots' })]);
      const s = summarizeRun(run({ platform: 'moltstation', game: null }, [proxy]));
      expect(s.score).toBe(103);
      expect(s.extra).toEqual({ ticks: 4, game: 'flappybots' });
    });

    it('when frames carry no lives (FlappyBots), then livesLost is null', () => {
      const proxy = stream('proxy', [msFrame(0, { current: 0 }), msFrame(1, { current: 1 })]);
      const s = summarizeRun(run({ platform: 'moltstation', game: 'flappybots' }, [proxy]));
      expect(s.livesLost).toBeNull();
      expect(s.score).toBe(1);
    });
  });

  describe('given a run whose bodies are malformed', () => {
    const proxy = stream('proxy', [
      msFrame(0, { current: 3 }, { lives: 3 }),
      msFrame(1, { current: 8 }, { lives: 2 }),
      wsIn('{"t":"frame","frame":{"tick":2,"score":{"current":50', { kind: 'frame' }),
      wsIn('not json at all', { kind: 'frame' }),
      wsIn('null', { kind: 'frame' }),
      wsIn('[1,2,3]', { kind: 'frame' }),
      wsIn({ t: 'frame', frame: null }, { kind: 'frame' }),
      wsIn({ t: 'frame', frame: [1] }, { kind: 'frame' }),
      wsIn('eyJ0IjoiZnJhbWUifQ==', { kind: 'frame', bodyEncoding: 'base64', format: 'binary' }),
      wsIn(null, { kind: 'frame', body: null }),
      { ...outcomeEvent({}), body: '{"score":' },
    ]);
    const reward = stream('reward-handoff', [
      marker('attempt', { attempt: 1 }),
      { ...marker('result', {}), body: '{oops' },
      marker('result', { status: 'handed-off' }),
      { ...marker('result', {}), body: '"x"' },
    ]);

    it('when summarized, then it does not throw and the figures come from the well-formed events only', () => {
      const s = summarizeRun(run({ platform: 'moltstation', game: 'shellrunners' }, [proxy, reward]));
      expect(s.score).toBe(8);
      expect(s.livesLost).toBe(1);
      expect(s.extra['ticks']).toBe(1);
      expect(s.rewardStatus).toBe('handed-off');
    });

    it('when every platform’s reader meets them, then none throws', () => {
      const junk = stream('proxy', [
        httpRes('POST', '/api/game/stop', 200, '{"duration":'),
        httpRes('POST', '/game/play', 200, '{"round":'),
        httpRes('POST', '/game/action', 200, { round: 'settled' }),
        wsIn('{"payload":{"player":', { kind: 'response' }),
        wsIn({ payload: { player: { credits: '1000' } } }, { kind: 'response' }),
      ]);
      for (const platform of ['moltstation', 'spacemolt', 'cloudplay', 'rgs'] as const) {
        expect(() => summarizeRun(run({ platform }, [junk]))).not.toThrow();
      }
      expect(summarizeRun(run({ platform: 'spacemolt' }, [junk])).extra).toEqual({ creditsStart: null, creditsEnd: null, creditsEarned: null });
      expect(summarizeRun(run({ platform: 'cloudplay' }, [junk])).extra).toEqual({ reportedDurationS: null, cpuSeconds: null, peakMemoryMb: null });
      expect(summarizeRun(run({ platform: 'rgs' }, [junk])).extra).toEqual({ rounds: 0, wageredCents: 0, paidOutCents: 0 });
    });
  });

  describe('given a proxy stream with many WS inputs, HTTP exchanges in between and a close at the end', () => {
    // Latencies from a fixed LCG; each expected delta is recorded here as the events are laid out.
    let seed = 20261123;
    const rnd = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const drafts: EventDraft[] = [];
    const offsets: number[] = [];
    const expectedDeltasMs: number[] = [];
    let expectedInputs = 0;
    const push = (d: EventDraft, at: number, input = false): void => {
      drafts.push(d);
      offsets.push(at);
      if (input) expectedInputs++;
    };
    let t = 0;
    push(httpReq('POST', '/start', {}), t, true);
    push(httpRes('POST', '/start', 200, {}), (t += 900));
    for (let i = 0; i < 40; i++) {
      const inputAt = (t += 5_000);
      push(wsOut({ t: 'action', i }), inputAt, true);
      const latency = 1_000 + Math.floor(rnd() * 80_000);
      if (i % 7 === 0) {
        push(wsOut({ t: 'action', i, again: true }), inputAt + 300, true);
        expectedDeltasMs.push((latency - 300) / 1000);
      }
      if (i % 5 === 0) {
        // An HTTP exchange inside the window: its response is not the WS input's reaction, and the request is a round trip.
        push(httpReq('GET', '/status'), inputAt + 500, true);
        push(httpRes('GET', '/status', 200, {}), inputAt + 700);
      }
      push(wsIn({ t: 'frame', frame: { tick: i } }), (t = inputAt + latency));
      expectedDeltasMs.push(latency / 1000);
    }
    push(wsOut({ t: 'action', last: true }), (t += 2_000), true);
    push(wsClose(1000, 'GAME_OVER'), (t += 1_000));
    const proxy = stream('proxy', drafts, { offsetsUs: offsets });
    const given = run({ platform: 'spacemolt' }, [proxy]);

    it('then p50 and p95 are the nearest ranks of the WS input → next WS platform message deltas', () => {
      const sorted = [...expectedDeltasMs].sort((a, b) => a - b);
      const s = summarizeRun(given);
      expect(sorted.length).toBe(40 + 6);
      expect(s.reactionP50Ms).toBe(sorted[rankOf(sorted.length, 0.5)]);
      expect(s.reactionP95Ms).toBe(sorted[rankOf(sorted.length, 0.95)]);
      expect(s.reactionP95Ms as number).toBeGreaterThan(s.reactionP50Ms as number);
    });

    it('then every client-to-platform event of the proxy is an input, and the rate is per minute of the run', () => {
      const s = summarizeRun(given);
      expect(s.inputs).toBe(expectedInputs);
      expect(s.durationMs).toBe(Math.floor(t / 1000));
      expect(s.inputsPerMinute).toBeCloseTo((expectedInputs * 60_000) / Math.floor(t / 1000), 9);
    });
  });

  describe('given reaction edge cases', () => {
    it('when eleven WS inputs have latencies 1..11 ms, then p50 is the 6th and p95 the 11th smallest', () => {
      const latenciesUs = [7, 3, 11, 1, 9, 5, 2, 10, 4, 8, 6].map((ms) => ms * 1000);
      const drafts: EventDraft[] = [];
      const offsets: number[] = [];
      let at = 0;
      for (const l of latenciesUs) {
        drafts.push(wsOut({ t: 'action' }), wsIn({ t: 'frame' }));
        offsets.push(at, at + l);
        at += l + 20_000;
      }
      const s = summarizeRun(run({ platform: 'moltstation' }, [stream('proxy', drafts, { offsetsUs: offsets })]));
      expect(s.reactionP50Ms).toBe(6);
      expect(s.reactionP95Ms).toBe(11);
    });

    it('when an input is followed only by the socket’s close, then it has no reaction', () => {
      const proxy = stream('proxy', [wsIn({ t: 'hello' }), wsOut({ t: 'action' }), wsClose(1000, 'GAME_OVER')]);
      const s = summarizeRun(run({ platform: 'moltstation' }, [proxy]));
      expect(s.inputs).toBe(1);
      expect(s.reactionP50Ms).toBeNull();
      expect(s.reactionP95Ms).toBeNull();
    });

    it('when the spectator sends on its own socket, then that is neither an input nor a reaction', () => {
      const proxy = stream('proxy', [wsIn({ t: 'hello' })]);
      const spectator = stream('spectator', [wsOut({ t: 'auth' }, { kind: 'command', channel: 'spectate_ws' }), specFrame(0, 0)]);
      const s = summarizeRun(run({ platform: 'moltstation' }, [proxy, spectator]));
      expect(s.inputs).toBe(0);
      expect(s.reactionP50Ms).toBeNull();
    });
  });

  describe('given SpaceMolt runs', () => {
    it('when played over HTTP, then credits are the first and last structuredContent.player.credits', () => {
      const proxy = stream('proxy', [
        httpReq('POST', '/api/v2/session'),
        httpRes('POST', '/api/v2/session', 200, { result: { message: 'Session created.' }, session: { id: 's' } }),
        httpReq('POST', '/api/v2/spacemolt_auth/register', { username: 'm' }),
        httpRes('POST', '/api/v2/spacemolt_auth/register', 200, { result: 'Welcome', structuredContent: { player: { credits: 1000 } } }),
        httpReq('POST', '/api/v2/spacemolt/sell', { item_id: 'iron_ore' }),
        httpRes('POST', '/api/v2/spacemolt/sell', 200, { structuredContent: { action: 'sell', total_earned: 192 } }),
        httpRes('POST', '/api/v2/spacemolt/get_status', 200, '{"structuredContent":{"player":{"credits":99'),
        httpReq('POST', '/api/v2/spacemolt/get_status'),
        httpRes('POST', '/api/v2/spacemolt/get_status', 200, { result: 'm | 1392 cr', structuredContent: { player: { credits: 1392 } } }),
        httpReq('POST', '/api/v2/spacemolt_auth/logout'),
        httpRes('POST', '/api/v2/spacemolt_auth/logout', 200, { result: 'bye' }),
        outcomeEvent({ platform: 'spacemolt', reason: 'logout', via: 'http' }),
      ]);
      const snapshot = stream('snapshot-submission', [marker('attempt', { attempt: 1, of: 8 }), marker('result', { status: 'skipped', reason: 'no snapshot endpoint for spacemolt' })]);
      const s = summarizeRun(run({ platform: 'spacemolt', game: 'spacemolt' }, [proxy, snapshot]));
      expect(s.extra).toEqual({ creditsStart: 1000, creditsEnd: 1392, creditsEarned: 1392 - 1000 });
      expect(s.inputs).toBe(5);
      expect(s.reactionP50Ms).toBeNull();
      expect(s.reactionP95Ms).toBeNull();
      expect(s.score).toBeNull();
      expect(s.livesLost).toBeNull();
      expect(s.snapshotStatus).toBe('skipped');
      expect(s.rewardStatus).toBeNull();
    });

    it('when played over WebSocket, then credits are read from payload.player and commands are inputs with reactions', () => {
      const proxy = stream(
        'proxy',
        [
          wsIn({ type: 'welcome' }, { kind: 'notification' }),
          wsOut({ type: 'register', payload: {} }, { kind: 'command' }),
          wsIn({ type: 'registered', payload: {} }, { kind: 'response' }),
          wsIn({ type: 'logged_in', payload: { player: { credits: 1000 } } }, { kind: 'notification' }),
          wsOut({ type: 'sell' }, { kind: 'command' }),
          wsIn({ type: 'ok', payload: {} }, { kind: 'response' }),
          wsOut({ type: 'get_status' }, { kind: 'command' }),
          wsIn({ type: 'ok', payload: { player: { credits: 1318 } } }, { kind: 'response' }),
          wsClose(1000, 'logout'),
        ],
        { offsetsUs: [0, 0, 1_722, 5_229, 8_990_972, 8_991_670, 10_498_511, 10_501_995, 10_508_738] },
      );
      const s = summarizeRun(run({ platform: 'spacemolt' }, [proxy]));
      expect(s.extra).toEqual({ creditsStart: 1000, creditsEnd: 1318, creditsEarned: 318 });
      expect(s.inputs).toBe(3);
      const sorted = [1_722 - 0, 8_991_670 - 8_990_972, 10_501_995 - 10_498_511].map((us) => us / 1000).sort((a, b) => a - b);
      expect(s.reactionP50Ms).toBe(sorted[rankOf(3, 0.5)]);
      expect(s.reactionP95Ms).toBe(sorted[rankOf(3, 0.95)]);
    });
  });

  describe('given a cloud-play run with a proxy, a poller and both pipeline jobs', () => {
    const proxy = stream(
      'proxy',
      [
        httpReq('POST', '/api/game/launch', { gameSlug: 'g' }),
        httpRes('POST', '/api/game/launch', 202, { sessionId: 'ses1', status: 'starting' }),
        httpReq('GET', '/api/game/session-status?sessionId=ses1'),
        httpRes('GET', '/api/game/session-status', 200, { status: 'running' }),
        httpReq('POST', '/api/game/stop', { sessionId: 'ses1' }),
        httpRes('POST', '/api/game/stop', 200, { status: 'stopped', duration: 14, cpuSeconds: 1.4, peakMemoryMb: 1094 }),
        outcomeEvent({ platform: 'cloudplay', duration: 15, cpuSeconds: 9, peakMemoryMb: 1 }),
      ],
      { offsetsUs: [0, 0, 4_089, 11_572, 14_049_442, 14_051_951, 14_052_339] },
    );
    // The poller started 3 ms before the proxy (though listed after it) and ended 2 s after it; its polls are not the agent's inputs.
    const pollerBase = stream(
      'poller',
      [
        { ...httpReq('GET', '/api/game/session-status'), channel: 'poll' },
        { ...httpRes('GET', '/api/game/session-status', 200, { status: 'starting' }), channel: 'poll' },
        marker('status-transition', { from: null, to: 'starting' }),
        { ...httpReq('GET', '/api/game/session-status'), channel: 'poll' },
        { ...httpRes('GET', '/api/game/session-status', 200, { status: 'stopped' }), channel: 'poll' },
        outcomeEvent({ platform: 'cloudplay', polls: 2 }),
      ],
      { offsetsUs: [0, 10_555, 10_886, 16_040_000, 16_042_048, 16_055_000] },
    );
    const poller = later(pollerBase, -3);
    const snapshot = stream('snapshot-submission', [marker('attempt', { attempt: 1, of: 8 }), marker('result', { status: 'skipped', reason: 'no snapshot endpoint for cloudplay' })]);
    const reward = stream('reward-handoff', [
      marker('attempt', { attempt: 1, of: 8 }),
      httpReq('POST', '/rewards/handoffs', { runSessionId: 'x' }),
      httpRes('POST', '/rewards/handoffs', 201, { id: 'rh_1' }),
      marker('result', { status: 'handed-off', httpStatus: 201 }),
    ]);
    const given = run({ platform: 'cloudplay', game: 'garden-of-forking-paths', platformSessionId: 'ses1', runSessionId: proxy.sessionId }, [proxy, poller, snapshot, reward]);

    it('then extra carries the stop response’s duration, CPU seconds and peak memory (not the outcome’s)', () => {
      expect(summarizeRun(given).extra).toEqual({ reportedDurationS: 14, cpuSeconds: 1.4, peakMemoryMb: 1094 });
    });

    it('then inputs are the proxy’s 3 requests, not the poller’s polls nor the reward job’s call, and HTTP gives no reaction', () => {
      const s = summarizeRun(given);
      expect(s.inputs).toBe(3);
      expect(s.reactionP50Ms).toBeNull();
      expect(s.reactionP95Ms).toBeNull();
    });

    it('then the run starts with the earlier poller and ends with its last event; pipeline streams are not counted', () => {
      const s = summarizeRun(given);
      expect(s.streams).toBe(2);
      expect(s.startedAt?.getTime()).toBe(proxy.startedAt.getTime() - 3);
      const endMs = Math.floor(poller.startedAt.getTime() + 16_055_000 / 1000);
      expect(s.endedAt?.getTime()).toBe(endMs);
      expect(s.durationMs).toBe(endMs - (proxy.startedAt.getTime() - 3));
      expect(s.inputsPerMinute).toBeCloseTo(3 / ((endMs - (proxy.startedAt.getTime() - 3)) / 60_000), 9);
    });

    it('then the pipeline statuses are the result markers’ and there is no score', () => {
      const s = summarizeRun(given);
      expect(s.snapshotStatus).toBe('skipped');
      expect(s.rewardStatus).toBe('handed-off');
      expect(s.score).toBeNull();
      expect(s.gaps).toBe(0);
    });
  });

  describe('given an RGS run with settled and open rounds', () => {
    // id, wager and payout as the platform writes them, and the same in cents, written out by hand.
    const rounds = [
      { id: 'r1', amount: '1.00', payout: '1.08', amountCents: 100, payoutCents: 108 },
      { id: 'r2', amount: '2.5', payout: '0.00', amountCents: 250, payoutCents: 0 },
      { id: 'r3', amount: '0.10', payout: '0.19', amountCents: 10, payoutCents: 19 },
    ];
    const open = (id: string, amount: string) => ({ balance: '1000.00', round: { id, amount, payout: null, result: null, active: true, completedAt: null } });
    const settled = (r: (typeof rounds)[number]) => ({ balance: '1000.00', round: { id: r.id, amount: r.amount, payout: r.payout, result: 'x', active: false, completedAt: '2026-11-23T14:46:50Z' } });
    const [r1, r2, r3] = rounds as [(typeof rounds)[number], (typeof rounds)[number], (typeof rounds)[number]];
    const proxy = stream('proxy', [
      httpReq('POST', '/operator/launch', { playerId: 'p' }),
      httpRes('POST', '/operator/launch', 200, { sessionId: 'rgs-1' }),
      httpReq('POST', '/game/play', { amount: '1.00', mineCount: 1 }),
      httpRes('POST', '/game/play', 200, open('r1', '1.00')),
      httpReq('POST', '/game/action', { action: 'reveal', field: 3 }),
      httpRes('POST', '/game/action', 200, open('r1', '1.00')),
      httpReq('POST', '/game/action', { action: 'cashout' }),
      httpRes('POST', '/game/action', 200, settled(r1)),
      // The same settled round answered twice (a retried cashout): counted once.
      httpReq('POST', '/game/action', { action: 'cashout' }),
      httpRes('POST', '/game/action', 200, settled(r1)),
      // A dice-like round settled by the play call itself.
      httpReq('POST', '/game/play', { amount: '2.5' }),
      httpRes('POST', '/game/play', 200, settled(r2)),
      httpReq('POST', '/game/play', { amount: '0.10' }),
      httpRes('POST', '/game/play', 200, open('r3', '0.10')),
      httpReq('POST', '/game/action', { action: 'cashout' }),
      httpRes('POST', '/game/action', 200, '{"round":{"id":"r3","amount":"0.10","payout":"0.1'),
      httpReq('POST', '/game/action', { action: 'cashout' }),
      httpRes('POST', '/game/action', 200, settled(r3)),
      // An open round, and history / round detail listings: not settled play/action answers.
      httpReq('POST', '/game/play', { amount: '5.00' }),
      // An open round whose answer already shows a (potential) payout: not settled.
      httpRes('POST', '/game/play', 200, { balance: '995.00', round: { id: 'r4', amount: '5.00', payout: '5.00', active: true, completedAt: null } }),
      httpReq('GET', '/game/history?limit=10'),
      httpRes('GET', '/game/history', 200, { round: { id: 'h', amount: '9.00', payout: '9.00', active: false } }),
      outcomeEvent({ platform: 'rgs', reason: 'expired' }),
    ]);
    const poller = stream('poller', [
      { ...httpReq('GET', '/game/round/r9'), channel: 'poll' },
      { ...httpRes('POST', '/game/action', 200, settled({ id: 'r9', amount: '7.00', payout: '7.00', amountCents: 700, payoutCents: 700 })), channel: 'poll' },
    ]);
    const given = run({ platform: 'rgs', game: 'mines-alpha' }, [proxy, poller]);

    it('then rounds, wagered and paid out are the settled rounds of the proxy’s play/action answers, in cents', () => {
      const s = summarizeRun(given);
      expect(s.extra).toEqual({
        rounds: rounds.length,
        wageredCents: rounds.reduce((n, r) => n + r.amountCents, 0),
        paidOutCents: rounds.reduce((n, r) => n + r.payoutCents, 0),
      });
      expect(s.extra['wageredCents']).toBe(360);
      expect(s.extra['paidOutCents']).toBe(127);
    });

    it('then inputs count the proxy’s requests only', () => {
      expect(summarizeRun(given).inputs).toBe(11);
    });
  });

  describe('given pipeline job streams in various states', () => {
    const proxy = (): EvidenceStream => stream('proxy', [wsOut({ t: 'action' }), wsIn({ t: 'frame' })]);
    const statusOf = (...drafts: EventDraft[]) => summarizeRun(run({ platform: 'moltstation' }, [proxy(), stream('snapshot-submission', drafts)])).snapshotStatus;

    it('when the last result marker says submitted after an earlier already-snapshotted, then it is the last one', () => {
      expect(statusOf(marker('attempt', { attempt: 1 }), marker('result', { status: 'already-snapshotted' }), marker('attempt', { attempt: 2 }), marker('result', { status: 'submitted' }))).toBe(
        'submitted',
      );
    });

    it('when attempts failed and the last one was dead-lettered, then dead-letter', () => {
      expect(statusOf(marker('attempt', { attempt: 1 }), marker('attempt-failed', { error: 'e' }), marker('attempt', { attempt: 2 }), marker('dead-letter', { error: 'e' }))).toBe('dead-letter');
    });

    it('when only attempt-failed markers exist, then failed', () => {
      expect(statusOf(marker('attempt', { attempt: 1 }), marker('attempt-failed', { error: 'e' }))).toBe('failed');
    });

    it('when a dead-lettered job was retried to a result, then the later result wins', () => {
      expect(statusOf(marker('dead-letter', { error: 'e' }), marker('attempt', { attempt: 1 }), marker('result', { status: 'submitted' }))).toBe('submitted');
    });

    it('when the job has only started, then null', () => {
      expect(statusOf(marker('attempt', { attempt: 1 }))).toBeNull();
    });

    it('when the reward handoff dead-lettered and there is no snapshot stream, then rewardStatus is dead-letter and snapshotStatus null', () => {
      const s = summarizeRun(run({ platform: 'rgs' }, [proxy(), stream('reward-handoff', [marker('attempt', {}), marker('dead-letter', { error: 'refused' })])]));
      expect(s.rewardStatus).toBe('dead-letter');
      expect(s.snapshotStatus).toBeNull();
    });
  });

  describe('given gaps in several streams', () => {
    it('then gaps count those of every recorder stream, not the pipeline’s', () => {
      const proxy = stream('proxy', [wsOut({}), gap({ reason: 'take-over' }), wsIn({})]);
      const spectator = stream('spectator', [gap({ reason: 'reconnect' }), specFrame(1, 1), gap({ reason: 'reconnect' })]);
      const poller = stream('poller', [gap({ reason: 'poll failed' })]);
      const reward = stream('reward-handoff', [gap({ reason: 'not a recorder gap' })]);
      expect(summarizeRun(run({ platform: 'moltstation' }, [proxy, spectator, poller, reward])).gaps).toBe(1 + 2 + 1);
    });
  });

  describe('given degenerate runs', () => {
    it('when the run has only pipeline streams, then the times, rates and latencies are null', () => {
      const reward = stream('reward-handoff', [marker('result', { status: 'handed-off' })]);
      const s = summarizeRun(run({ platform: 'cloudplay' }, [reward]));
      expect(s).toMatchObject({ streams: 0, startedAt: null, endedAt: null, durationMs: null, inputs: 0, inputsPerMinute: null, reactionP50Ms: null, reactionP95Ms: null, rewardStatus: 'handed-off' });
    });

    it('when every recorder event is at offset 0, then the duration is 0 and inputsPerMinute is null', () => {
      const proxy = stream('proxy', [httpReq('POST', '/operator/launch'), httpRes('POST', '/operator/launch', 200, {})], { offsetsUs: [0, 0] });
      const s = summarizeRun(run({ platform: 'rgs' }, [proxy]));
      expect(s.durationMs).toBe(0);
      expect(s.inputs).toBe(1);
      expect(s.inputsPerMinute).toBeNull();
    });
  });

  describe('given any run', () => {
    it('when summarized twice, then the results are equal and the evidence is left as it was', () => {
      const proxy = stream('proxy', [wsOut({ t: 'action' }), msFrame(1, { current: 2 }, { lives: 3 }), wsOut({ t: 'action' }), msFrame(2, { current: 4 }, { lives: 2 })], {
        offsetsUs: [0, 3_000, 10_000, 30_000],
      });
      const given = run({ platform: 'moltstation', game: 'shellrunners' }, [proxy]);
      const before = structuredClone(given);
      const a = summarizeRun(given);
      const b = summarizeRun(given);
      expect(a).toEqual(b);
      expect(given).toEqual(before);
      expect(a.reactionP50Ms).toBe(3);
      expect(a.reactionP95Ms).toBe(20);
    });
  });
});
