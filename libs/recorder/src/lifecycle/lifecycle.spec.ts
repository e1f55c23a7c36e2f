import { decideAndFold } from './decide';
import { initialState } from './evolve';
import type { EncodedEvent } from '../encoder';
import type { CaptureFact } from './types';
import type { CapturedFact } from '@rewind/capture-facts';
import { decide, fold, fp, snapshot, sut, sut as sutOf, T0 } from './test-support/lifecycle.fixture';

const PLAY = '/ws/shellrunners/play?sessionId=ms-1';
const finalFrame = { t: 'frame', frame: { phase: 'ended', tick: 420, score: { current: 1300 }, lives: 0, gameOverReason: 'crashed' } };

describe('run lifecycle decider — MoltStation', () => {
  it('opens the run on its play socket, with its game and platform session id, and records every message in order', () => {
    const s = sut();
    const ws = s.conn('ws');
    const then = s.when(s.wsOpen('moltstation', ws, PLAY), s.wsFromPlatform('moltstation', ws, { t: 'welcome' }), s.wsFromClient('moltstation', ws, { t: 'input', dir: 'L' }));
    const [opened] = then.eventsOf('StreamOpened');
    expect(opened?.stream).toMatchObject({ id: 's1', kind: 'run', key: 'session:ms-1', identity: { platformSessionId: 'ms-1', game: 'shellrunners' } });
    expect(opened?.startNs).toBe(BigInt(T0) * 1_000_000n);
    const [open] = then.effectsOf('openSession');
    expect(open?.session).toMatchObject({
      id: 's1',
      platform: 'moltstation',
      game: 'shellrunners',
      platformSessionId: 'ms-1',
      agent: null,
      startedAt: new Date(T0),
      metadata: { stream: 'run', capturedBy: 'proxy', writer: 'w1', key: 'session:ms-1' },
    });
    expect(then.recordedInto('s1')).toEqual(['ws-open', '<{"t":"welcome"}', '>{"t":"input","dir":"L"}']);
    expect(s.streamOf('moltstation', 'session:ms-1').due).toEqual({ atMs: T0 + 30 * 60_000, action: 'idle' });
  });

  it('ends the run on its final frame and GAME_OVER close: outcome from the frame, three outbox rows deduplicated per platform run', () => {
    const s = sut();
    const ws = s.conn('ws');
    s.given(s.wsOpen('moltstation', ws, PLAY), s.wsFromPlatform('moltstation', ws, finalFrame));
    const then = s.at(T0 + 5_000).when(s.wsClose('moltstation', ws, 4000, 'GAME_OVER'));
    expect(then.eventTypes()).toEqual(expect.arrayContaining(['SocketClosed', 'EventRecorded', 'RunEnded', 'TimerArmed']));
    const [ended] = then.eventsOf('RunEnded');
    expect(ended?.outcome).toEqual({
      platform: 'moltstation',
      game: 'shellrunners',
      platformSessionId: 'ms-1',
      agent: null,
      reason: 'GAME_OVER',
      phase: 'ended',
      tick: 420,
      score: 1300,
      lives: 0,
      gameOverReason: 'crashed',
    });
    expect(ended?.outbox.map((o) => [o.queue, o.jobName, o.dedupeKey])).toEqual([
      ['snapshot-submission', 'snapshot', 'snapshot-submission:moltstation:ms-1'],
      ['reward-handoff', 'reward', 'reward-handoff:moltstation:ms-1'],
      ['run-audit', 'audit', 'run-audit:moltstation:ms-1'],
    ]);
    const outcome = then.effectsOf('record').find((r) => r.input.kind === 'outcome');
    expect(outcome?.outbox).toBe(ended?.outbox);
    expect(outcome?.input.tick).toBe(420);
    expect(then.effectsOf('endSession')).toEqual([{ type: 'endSession', sessionId: 's1', endedAt: new Date(T0 + 5_000), outcome: ended?.outcome }]);
    expect(then.recordedInto('s1')).toEqual(['close 4000', 'outcome']);
    expect(s.streamOf('moltstation', 'session:ms-1')).toMatchObject({ status: 'ended', due: { atMs: T0 + 15_000, action: 'seal' } });
  });

  it('does not end the run when the socket is refused (4001): agents reconnect', () => {
    const s = sut();
    const ws = s.conn('ws');
    s.given(s.wsOpen('moltstation', ws, PLAY));
    expect(s.when(s.wsClose('moltstation', ws, 4001, 'UNAUTHORIZED')).eventsOf('RunEnded')).toEqual([]);
    expect(s.streamOf('moltstation', 'session:ms-1').status).toBe('open');
  });

  it('seals an ended run once the grace has passed since its last event; late events before it join the run', () => {
    const s = sut({ sealAfterMs: 10_000 });
    const ws = s.conn('ws');
    s.given(s.wsOpen('moltstation', ws, PLAY), s.wsFromPlatform('moltstation', ws, finalFrame), s.wsClose('moltstation', ws, 4000, 'GAME_OVER'));
    expect(s.advance(9_000).events).toEqual([]);
    // The agent's snapshot call right after GAME_OVER: same run, the seal moves to 10 s after it.
    const late = s.when(...s.exchange('moltstation', 'POST', '/api/rewards/snapshot', 200, { ok: true }, { body: { sessionId: 'ms-1', gameSlug: 'shellrunners' }, bearer: 'bearer-1' }));
    expect(late.recordedInto('s1')).toEqual(['POST /api/rewards/snapshot', '200']);
    expect(late.eventsOf('RunEnded')).toEqual([]);
    expect(s.advance(9_999).events).toEqual([]);
    const sealed = s.advance(1);
    expect(sealed.eventTypes()).toEqual(['StreamSealed']);
    expect(sealed.effectsOf('sealSession')).toEqual([{ type: 'sealSession', sessionId: 's1' }]);
    expect(s.stream('moltstation', 'session:ms-1')).toBeUndefined();
  });

  it('after-run traffic: a snapshot asked after the seal goes to an after-run stream that never ends the run again', () => {
    const s = sut({ sealAfterMs: 100, accountIdleMs: 1_000 });
    const ws = s.conn('ws');
    s.given(s.wsOpen('moltstation', ws, PLAY), s.wsFromPlatform('moltstation', ws, finalFrame), s.wsClose('moltstation', ws, 4000, 'GAME_OVER'));
    s.advance(100);
    const then = s.when(...s.exchange('moltstation', 'POST', '/api/rewards/snapshot', 200, { ok: true }, { body: { sessionId: 'ms-1' } }));
    const [opened] = then.eventsOf('StreamOpened');
    expect(opened?.stream).toMatchObject({ id: 's2', kind: 'after-run', identity: { platformSessionId: 'ms-1' }, metadata: { stream: 'after-run', previous: 's1' } });
    const idle = s.advance(1_000);
    expect(idle.eventTypes()).toEqual(['StreamEnded', 'StreamSealed']);
    expect(idle.effectsOf('endSession')).toEqual([{ type: 'endSession', sessionId: 's2', endedAt: new Date(T0 + 1_100) }]);
    expect(idle.effectsOf('record')).toEqual([]);
  });

  it('a message that crossed the close joins its run after the ws-close', () => {
    const s = sut();
    const ws = s.conn('ws');
    s.given(s.wsOpen('moltstation', ws, PLAY), s.wsClose('moltstation', ws, 4000, 'GAME_OVER'));
    expect(s.when(s.wsFromClient('moltstation', ws, { t: 'input', dir: 'R' })).recordedInto('s1')).toEqual(['>{"t":"input","dir":"R"}']);
  });

  it('a socket closed with its other leg still read (draining) holds the seal: an input later than the seal delay still joins its run; the release lets it seal', () => {
    const s = sut({ sealAfterMs: 1_000 });
    const ws = s.conn('ws');
    s.given(s.wsOpen('moltstation', ws, PLAY), s.wsFromPlatform('moltstation', ws, finalFrame), { ...s.wsClose('moltstation', ws, 4000, 'GAME_OVER'), draining: true } as CapturedFact);
    // The seal is due, but the proxy may still read the agent's side: it waits.
    expect(s.advance(1_000).eventTypes()).toEqual(['TimerArmed']);
    expect(s.streamOf('moltstation', 'session:ms-1').status).toBe('ended');
    // The agent's input, read 2.5 s after the close (a stalled loop): the run's, not a `connection:` stream of its own.
    const late = s.at(T0 + 2_500).when({ ...s.wsFromClient('moltstation', ws, { t: 'input', dir: 'R' }), undelivered: true } as CapturedFact);
    expect(late.recordedInto('s1')).toEqual(['>{"t":"input","dir":"R"}']);
    expect(late.eventsOf('StreamOpened')).toEqual([]);
    expect(s.command({ type: 'SocketReleased', connectionId: ws }).eventTypes()).toEqual(['SocketReleased']);
    // Released: the seal comes the grace after the last event.
    const sealed = s.advance(2_000);
    expect(sealed.eventTypes()).toContain('StreamSealed');
    expect(sealed.effectsOf('sealSession')).toEqual([{ type: 'sealSession', sessionId: 's1' }]);
  });

  it('a draining socket the proxy never releases holds the seal no longer than drainHoldMs after its close; a close without draining does not hold it', () => {
    const s = sut({ sealAfterMs: 1_000, drainHoldMs: 5_000 });
    const held = s.conn('ws');
    s.given(s.wsOpen('moltstation', held, PLAY), s.wsFromPlatform('moltstation', held, finalFrame), { ...s.wsClose('moltstation', held, 4000, 'GAME_OVER'), draining: true } as CapturedFact);
    expect(s.advance(4_000).eventsOf('StreamSealed')).toEqual([]);
    const due = s.advance(2_000);
    expect(due.eventTypes()).toEqual(expect.arrayContaining(['SocketReleased', 'StreamSealed']));
    expect(s.command({ type: 'SocketReleased', connectionId: held }).events).toEqual([]);

    const t = sut({ sealAfterMs: 1_000 });
    const ws = t.conn('ws');
    t.given(t.wsOpen('moltstation', ws, PLAY), t.wsFromPlatform('moltstation', ws, finalFrame), t.wsClose('moltstation', ws, 4000, 'GAME_OVER'));
    expect(t.advance(1_000).eventTypes()).toEqual(['StreamSealed']);
  });

  it('HTTP start (agent_api): opens the run with the agent and source, offers the spectator, keeps the owner bearer as a credential', () => {
    const s = sut();
    const then = s.when(...s.exchange('moltstation', 'POST', '/api/games/shellrunners/sessions/start', 200, { sessionId: 'ms-2', source: 'agent_api' }, { bearer: 'owner-token' }));
    expect(then.effectsOf('openSession')[0]?.session).toMatchObject({ id: 's1', game: 'shellrunners', platformSessionId: 'ms-2', agent: fp('owner-token'), source: 'agent_api' });
    expect(then.effectsOf('offerTask').map((o) => o.offer)).toEqual([
      {
        id: 'moltstation.moltstation-spectate.session.ms-2',
        kind: 'moltstation-spectate',
        platform: 'moltstation',
        runKey: 'session:ms-2',
        platformSessionId: 'ms-2',
        params: { slug: 'shellrunners', platformSessionId: 'ms-2' },
      },
    ]);
    expect(then.effectsOf('credential')).toEqual([{ type: 'credential', runKey: 'session:ms-2', credential: { key: 'session:ms-2', name: 'bearer', value: 'owner-token' } }]);
    expect(then.effectsOf('activity')).toEqual([{ type: 'activity', runKey: 'session:ms-2', atMs: T0 }]);
  });

  it('a snapshot of a run the recorder never saw opens it, attributed by the body', () => {
    const s = sut();
    const then = s.when(...s.exchange('moltstation', 'GET', '/api/games/shellrunners/sessions/ms-3/snapshot', 200, { tick: 5 }));
    expect(then.eventsOf('StreamOpened')[0]?.stream).toMatchObject({ key: 'session:ms-3', kind: 'run', identity: { game: 'shellrunners', platformSessionId: 'ms-3' } });
  });

  it("records each message's encoded event field for field with its two times (meta only when the event has one)", () => {
    const s = sut();
    const ws = s.conn('ws');
    s.given(s.wsOpen('moltstation', ws, PLAY));
    const frame: EncodedEvent = { kind: 'frame', direction: 'platform_to_client', channel: 'play_ws', format: 'json', body: '{"t":"frame"}', msgType: 'frame', tick: 9, requestId: null };
    const undelivered: EncodedEvent = { ...frame, kind: 'input', direction: 'client_to_platform', body: '{"t":"input"}', msgType: 'input', meta: '{"undelivered":true}' };
    const inputs = [frame, undelivered].map((event, i) => {
      const fact = s.wsFromPlatform('moltstation', ws, JSON.parse(event.body as string));
      const command: CaptureFact = { type: 'CaptureFact', fact: { ...fact, atNs: 100n + BigInt(i), wallUs: 7_000 + i }, event, fingerprint: fp, newId: () => 'unused' };
      return s.command(command).effectsOf('record')[0]?.input;
    });
    expect(inputs).toStrictEqual([
      { ...frame, atNs: 100n, wallUs: 7_000 },
      { ...undelivered, atNs: 101n, wallUs: 7_001 },
    ]);
  });
});

describe('run lifecycle decider — SpaceMolt WebSocket', () => {
  const login = { type: 'login', payload: { username: 'nova', password: 'pw' } };

  it('(a) holds the socket until its first client message, then opens the run at the first held event: offsets keep the silence before it', () => {
    const s = sut();
    const ws = s.conn('ws');
    s.given(s.wsOpen('spacemolt', ws, '/ws'));
    s.at(T0 + 4).given(s.wsFromPlatform('spacemolt', ws, { type: 'welcome' }));
    expect(s.history.flatMap((d) => d.events.filter((e) => e.type === 'StreamOpened'))).toEqual([]);
    const then = s.at(T0 + 3_004).when(s.wsFromClient('spacemolt', ws, login));
    const [opened] = then.eventsOf('StreamOpened');
    expect(opened?.startNs).toBe(BigInt(T0) * 1_000_000n);
    expect(opened?.startedAt).toBe(T0);
    expect(then.effectsOf('openSession')[0]).toMatchObject({ startNs: BigInt(T0) * 1_000_000n, session: { startedAt: new Date(T0), agent: 'nova', game: 'spacemolt' } });
    // The held events keep their own observation times: the Ingest's offsets are 0, 4 ms, 3004 ms.
    expect(then.effectsOf('record').map((r) => r.input.atNs)).toEqual([T0, T0 + 4, T0 + 3_004].map((t) => BigInt(t) * 1_000_000n));
  });

  it('(b) get_status before login: the run opens without its agent, and the login names it — the stored row learns it too', () => {
    const s = sut();
    const ws = s.conn('ws');
    s.given(s.wsOpen('spacemolt', ws, '/ws'), s.wsFromClient('spacemolt', ws, { type: 'get_status' }));
    expect(s.streamOf('spacemolt', `session:ws-${ws}`).identity.agent).toBeUndefined();
    const then = s.at(T0 + 2_000).when(s.wsFromClient('spacemolt', ws, login));
    expect(then.eventsOf('IdentityLearned')).toEqual([{ type: 'IdentityLearned', ref: `spacemolt|session:ws-${ws}`, agent: 'nova' }]);
    const reopen = then.effectsOf('openSession');
    expect(reopen).toHaveLength(1);
    // Same id, same start (an open of a known session fills its empty identity columns; clocks untouched).
    expect(reopen[0]).toEqual({ type: 'openSession', session: expect.objectContaining({ id: 's1', agent: 'nova', game: 'spacemolt', startedAt: new Date(T0) }) });
    expect(reopen[0]).not.toHaveProperty('startNs');
    // The outcome names the agent too.
    const end = s.when(s.wsClose('spacemolt', ws, 1000, 'bye', 'client'));
    expect(end.eventsOf('RunEnded')[0]?.outcome).toMatchObject({ agent: 'nova', reason: 'close', closeCode: 1000, closeReason: 'bye', initiator: 'client' });
  });

  it('a login names the agent from the first event, and a logout ends the run as `logout` when the socket closes', () => {
    const s = sut();
    const ws = s.conn('ws');
    s.given(s.wsOpen('spacemolt', ws, '/ws'), s.wsFromClient('spacemolt', ws, login), s.wsFromClient('spacemolt', ws, { type: 'logout' }));
    expect(s.streamOf('spacemolt', `session:ws-${ws}`)).toMatchObject({ identity: { agent: 'nova' }, logout: true });
    const then = s.when(s.wsClose('spacemolt', ws, 1000, '', 'platform'));
    expect(then.eventsOf('RunEnded')[0]).toMatchObject({ reason: 'logout', outcome: { reason: 'logout', agent: 'nova', closeCode: 1000 } });
    expect(then.eventsOf('RunEnded')[0]?.outbox.map((o) => o.dedupeKey)).toEqual(['snapshot-submission:spacemolt:s1', 'reward-handoff:spacemolt:s1', 'run-audit:spacemolt:s1']);
  });

  it('binds a socket that only the platform talks on after the hold limit', () => {
    const s = sut({ holdLimit: 3 });
    const ws = s.conn('ws');
    s.given(s.wsOpen('spacemolt', ws, '/ws'), s.wsFromPlatform('spacemolt', ws, { n: 1 }));
    const then = s.when(s.wsFromPlatform('spacemolt', ws, { n: 2 }));
    expect(then.eventsOf('StreamOpened')).toHaveLength(1);
    expect(then.recordedInto('s1')).toEqual(['ws-open', '<{"n":1}', '<{"n":2}']);
  });

  it('a socket closed before any client message is recorded whole in its run', () => {
    const s = sut();
    const ws = s.conn('ws');
    s.given(s.wsOpen('spacemolt', ws, '/ws'), s.wsFromPlatform('spacemolt', ws, { type: 'welcome' }));
    const then = s.when(s.wsClose('spacemolt', ws, 1006, '', 'client'));
    expect(then.recordedInto('s1')).toEqual(['ws-open', '<{"type":"welcome"}', 'close 1006', 'outcome']);
    expect(then.eventsOf('RunEnded')[0]?.reason).toBe('close');
  });
});

describe('run lifecycle decider — SpaceMolt HTTP (v1 and v2)', () => {
  for (const v of ['v1', 'v2']) {
    it(`(c) ${v}: the session row opened at POST /session learns its agent at the login`, () => {
      const s = sut();
      const created = s.when(...s.exchange('spacemolt', 'POST', `/api/${v}/session`, 200, { session: { id: 'secret-1' } }));
      const key = `session:${fp('secret-1')}`;
      expect(created.effectsOf('openSession')[0]?.session).toMatchObject({
        id: 's1',
        agent: null,
        game: 'spacemolt',
        platformSessionId: null,
        metadata: { key: `session:fp-${fp('secret-1').slice(10, 26)}` },
      });
      const login = s.at(T0 + 1_000).when(...s.exchange('spacemolt', 'POST', `/api/${v}/login`, 200, { ok: true }, { body: { username: 'orbit' }, headers: [['X-Session-Id', 'secret-1']] }));
      expect(login.eventsOf('IdentityLearned')).toEqual([{ type: 'IdentityLearned', ref: `spacemolt|${key}`, agent: 'orbit' }]);
      expect(login.effectsOf('openSession').map((o) => o.session)).toEqual([expect.objectContaining({ id: 's1', agent: 'orbit', startedAt: new Date(T0) })]);
      expect(login.recordedInto('s1')).toEqual([`POST /api/${v}/login`, '200']);
      const logout = s.when(...s.exchange('spacemolt', 'POST', `/api/${v}/logout`, 200, { ok: true }, { headers: [['x-session-id', 'secret-1']] }));
      expect(logout.eventsOf('RunEnded')[0]?.outcome).toMatchObject({ reason: 'logout', via: 'http', agent: 'orbit' });
    });
  }

  it('(a) an exchange is held until its response: the stream starts when its request was observed', () => {
    const s = sut();
    const id = s.conn();
    s.given(s.request('spacemolt', id, 'POST', '/api/v1/session'));
    const then = s.at(T0 + 250).when(s.response('spacemolt', id, 200, { session: { id: 'secret-2' } }));
    expect(then.eventsOf('StreamOpened')[0]).toMatchObject({ startNs: BigInt(T0) * 1_000_000n, startedAt: T0 });
  });

  it('a failed login names no one', () => {
    const s = sut();
    s.given(...s.exchange('spacemolt', 'POST', '/api/v1/session', 200, { session: { id: 'secret-3' } }));
    const then = s.when(...s.exchange('spacemolt', 'POST', '/api/v1/login', 401, { error: 'bad' }, { body: { username: 'mallory' }, headers: [['x-session-id', 'secret-3']] }));
    expect(then.eventsOf('IdentityLearned')).toEqual([]);
  });
});

describe('run lifecycle decider — cloud-play', () => {
  it('a launch opens the run (game, agent fingerprint), offers its poller, and a stopped status ends it with the platform figures', () => {
    const s = sut();
    const launch = s.when(...s.exchange('cloudplay', 'POST', '/api/game/launch', 200, { sessionId: 'cp-1' }, { body: { gameSlug: 'garden' }, bearer: 'user-token' }));
    expect(launch.effectsOf('openSession')[0]?.session).toMatchObject({ game: 'garden', platformSessionId: 'cp-1', agent: fp('user-token') });
    expect(launch.effectsOf('offerTask')[0]?.offer).toMatchObject({ kind: 'cloudplay-poll', runKey: 'session:cp-1', params: { sessionId: 'cp-1' } });
    expect(launch.effectsOf('credential')[0]?.credential).toEqual({ key: 'session:cp-1', name: 'bearer', value: 'user-token' });
    const stopped = s.at(T0 + 60_000).when(...s.exchange('cloudplay', 'GET', '/api/game/session-status?sessionId=cp-1', 200, { status: 'stopped', playedMs: 59_000 }, { bearer: 'user-token' }));
    expect(stopped.eventsOf('RunEnded')[0]?.outcome).toEqual({ platform: 'cloudplay', game: 'garden', platformSessionId: 'cp-1', agent: fp('user-token'), reason: 'stopped', playedMs: 59_000 });
    expect(stopped.eventsOf('RunEnded')[0]?.outbox.map((o) => o.dedupeKey)).toEqual(['snapshot-submission:cloudplay:cp-1', 'reward-handoff:cloudplay:cp-1', 'run-audit:cloudplay:cp-1']);
  });

  it('idling: a run without traffic for runIdleMs ends `idle`; traffic moves the deadline', () => {
    const s = sut({ runIdleMs: 30 * 60_000 });
    s.given(...s.exchange('cloudplay', 'POST', '/api/game/launch', 200, { sessionId: 'cp-2' }, { body: { gameSlug: 'garden' } }));
    s.advance(20 * 60_000);
    s.given(...s.exchange('cloudplay', 'POST', '/api/game/keepalive', 200, { ok: true }, { body: { sessionId: 'cp-2' } }));
    expect(s.advance(30 * 60_000 - 1).events).toEqual([]);
    const idle = s.advance(1);
    expect(idle.eventsOf('RunEnded')[0]).toMatchObject({ reason: 'idle', outcome: { reason: 'idle', idleMs: 30 * 60_000 }, atMs: T0 + 50 * 60_000 });
    // Its grace counts from its last event, long past: it is sealed at once.
    expect(idle.eventTypes()).toEqual(['RunEnded', 'TimerArmed', 'StreamSealed']);
  });

  it('idling: a run whose WebSocket is still open is not idle — the deadline moves on — and its idle clock starts again at the close', () => {
    const s = sut({ runIdleMs: 15_000 });
    const ws = s.conn('ws');
    s.given(s.wsOpen('moltstation', ws, PLAY), s.wsFromPlatform('moltstation', ws, { t: 'welcome' }));
    // 15 s of silence on an open socket (the platform's process starved under overload): no end, the timer re-arms.
    const silent = s.advance(15_000);
    expect(silent.eventsOf('RunEnded')).toEqual([]);
    expect(silent.effectsOf('setTimer')).toEqual([{ type: 'setTimer', ref: 'moltstation|session:ms-1', atMs: T0 + 30_000 }]);
    // The play goes on in the same stream.
    expect(s.when(s.wsFromPlatform('moltstation', ws, { t: 'frame', tick: 1 })).recordedInto('s1')).toEqual(['<{"t":"frame","tick":1}']);
    // A close without a final frame does not end a MoltStation run; once the socket is gone, silence ends it `idle`.
    s.given(s.wsClose('moltstation', ws, 1006, ''));
    expect(s.advance(14_999).eventsOf('RunEnded')).toEqual([]);
    expect(s.advance(1).eventsOf('RunEnded')[0]).toMatchObject({ reason: 'idle', atMs: T0 + 30_000 });
  });

  it('a timer that fires before its due time re-arms for it and decides nothing else', () => {
    const s = sut();
    s.given(...s.exchange('cloudplay', 'POST', '/api/game/launch', 200, { sessionId: 'cp-3' }, { body: {} }));
    const ref = 'cloudplay|session:cp-3';
    const early = s.at(T0 + 1_000).command({ type: 'TimerDue', ref });
    expect(early.events).toEqual([]);
    expect(early.effects).toEqual([{ type: 'setTimer', ref, atMs: T0 + 30 * 60_000 }]);
  });
});

describe('run lifecycle decider — RGS', () => {
  // Runs idle for 4 h before they end `idle`: the platform's 1 h expiry comes first.
  const sut = (config: Parameters<typeof sutOf>[0] = {}) => sutOf({ runIdleMs: 4 * 3_600_000, ...config });
  const expiresAt = new Date(T0 + 3_600_000).toISOString();
  const launch = (s: ReturnType<typeof sut>) =>
    s.given(
      ...s.exchange(
        'rgs',
        'POST',
        '/operator/launch',
        200,
        { sessionId: 'rgs-1', launchUrl: 'https://rgs.example/play?sessionToken=tok-1', expiresAt },
        { body: { gameCode: 'fruits', playerId: 'p-9' } },
      ),
    );

  it('a launch opens the run (game, player), aliases its token, offers the rounds poller and arms the expiry the platform stated', () => {
    const s = sut();
    const then = s.when(
      ...s.exchange(
        'rgs',
        'POST',
        '/operator/launch',
        200,
        { sessionId: 'rgs-1', launchUrl: 'https://rgs.example/play?sessionToken=tok-1', expiresAt },
        { body: { gameCode: 'fruits', playerId: 'p-9' } },
      ),
    );
    expect(then.effectsOf('openSession')[0]?.session).toMatchObject({ game: 'fruits', agent: 'p-9', platformSessionId: 'rgs-1' });
    expect(then.eventsOf('AliasAdded')).toEqual([{ type: 'AliasAdded', ref: 'rgs|session:rgs-1', alias: `token:${fp('tok-1')}` }]);
    expect(then.effectsOf('offerTask')[0]?.offer).toMatchObject({ kind: 'rgs-poll', id: 'rgs.rgs-poll.session.rgs-1' });
    expect(then.effectsOf('credential')[0]?.credential).toMatchObject({ name: 'sessionToken', value: 'tok-1', expiresAtMs: T0 + 3_600_000 });
    expect(s.streamOf('rgs', 'session:rgs-1').due).toEqual({ atMs: T0 + 3_600_000, action: 'expire' });
  });

  it('token rotation: calls by the old and the refreshed token stay in the run', () => {
    const s = sut();
    launch(s);
    const spin = s.at(T0 + 1_000).when(...s.exchange('rgs', 'POST', '/round/spin', 200, { win: 0 }, { bearer: 'tok-1' }));
    expect(spin.recordedInto('s1')).toEqual(['POST /round/spin', '200']);
    const refresh = s.when(...s.exchange('rgs', 'POST', '/session/refresh', 200, { sessionToken: 'tok-2', expiresAt }, { bearer: 'tok-1' }));
    expect(refresh.eventsOf('AliasAdded')).toEqual([{ type: 'AliasAdded', ref: 'rgs|session:rgs-1', alias: `token:${fp('tok-2')}` }]);
    const next = s.when(...s.exchange('rgs', 'POST', '/round/spin', 200, { win: 5 }, { bearer: 'tok-2' }));
    expect(next.eventsOf('StreamOpened')).toEqual([]);
    expect(next.recordedInto('s1')).toEqual(['POST /round/spin', '200']);
  });

  it('expiry: each authenticated call slides it to now + TTL; when it passes unused, the run ends `expired` (observed by the clock)', () => {
    const s = sut({ rgsTtlMs: 3_600_000 });
    launch(s);
    s.at(T0 + 600_000).given(...s.exchange('rgs', 'POST', '/round/spin', 200, {}, { bearer: 'tok-1' }));
    expect(s.streamOf('rgs', 'session:rgs-1').expiresAtMs).toBe(T0 + 4_200_000);
    expect(s.advance(3_600_000 - 1).events).toEqual([]);
    const expired = s.advance(1);
    expect(expired.eventsOf('RunEnded')[0]?.outcome).toMatchObject({ reason: 'expired', observedBy: 'clock', expiresAt: new Date(T0 + 4_200_000).toISOString(), agent: 'p-9' });
  });

  it('a 401 session_expired ends the run as observed by the proxy', () => {
    const s = sut();
    launch(s);
    const then = s.when(...s.exchange('rgs', 'POST', '/round/spin', 401, { error: 'session_expired' }, { bearer: 'tok-1' }));
    expect(then.eventsOf('RunEnded')[0]?.outcome).toMatchObject({ reason: 'expired', observedBy: 'proxy' });
  });

  it('a run first seen by its token (the launch went around the proxy) is keyed by it and offers its poller once', () => {
    const s = sut();
    const first = s.when(...s.exchange('rgs', 'POST', '/round/spin', 200, {}, { bearer: 'tok-x' }));
    const key = `token:${fp('tok-x')}`;
    expect(first.eventsOf('StreamOpened')[0]?.stream).toMatchObject({ key, kind: 'run' });
    expect(first.effectsOf('offerTask').map((o) => o.offer)).toEqual([
      { id: `rgs.rgs-poll.token.fp-${fp('tok-x').slice(10, 26)}`, kind: 'rgs-poll', platform: 'rgs', runKey: key, platformSessionId: null, params: {} },
    ]);
    expect(first.effectsOf('credential').map((c) => c.credential)).toEqual([{ key, name: 'sessionToken', value: 'tok-x' }]);
    expect(s.when(...s.exchange('rgs', 'POST', '/round/spin', 200, {}, { bearer: 'tok-x' })).effectsOf('offerTask')).toEqual([]);
  });
});

describe('run lifecycle decider — accounts, connections and errors', () => {
  it('traffic of no run goes to the account stream of its credential, which ends and is sealed after its idle time', () => {
    const s = sut({ accountIdleMs: 60_000 });
    const then = s.when(...s.exchange('moltstation', 'GET', '/api/games', 200, []));
    expect(then.eventsOf('StreamOpened')[0]?.stream).toMatchObject({ key: 'account:anonymous', kind: 'account', metadata: { stream: 'account' } });
    expect(then.effectsOf('activity')).toEqual([]);
    expect(s.advance(59_999).events).toEqual([]);
    const idle = s.advance(1);
    expect(idle.eventTypes()).toEqual(['StreamEnded', 'StreamSealed']);
    expect(idle.effectsOf('sealSession')).toEqual([{ type: 'sealSession', sessionId: 's1' }]);
  });

  it('a message of a connection opened before the recorder started gets a stream of its own', () => {
    const s = sut();
    const then = s.when(s.wsFromPlatform('moltstation', 'ws-old', { t: 'frame', frame: { tick: 1 } }));
    expect(then.eventsOf('StreamOpened')[0]?.stream).toMatchObject({ key: 'connection:ws-old', kind: 'run' });
    expect(then.recordedInto('s1')).toHaveLength(1);
  });

  it('a terminal proxy error ends the exchange in its stream; a non-terminal note waits with it', () => {
    const s = sut();
    const id = s.conn();
    s.given(s.request('cloudplay', id, 'POST', '/api/game/launch', { body: { gameSlug: 'g' } }));
    const note = s.when({ platform: 'cloudplay', connectionId: id, atNs: 1n, wallUs: T0 * 1000, type: 'proxy-error', stage: 'client', message: 'truncated', terminal: false });
    expect(note.events.map((e) => e.type)).toEqual(['EventHeld']);
    const failed = s.when({ platform: 'cloudplay', connectionId: id, atNs: 2n, wallUs: T0 * 1000, type: 'proxy-error', stage: 'connect', message: 'refused', status: 502 });
    expect(failed.recordedInto('s1')).toEqual(['POST /api/game/launch', 'proxy-error', 'proxy-error']);
    // A late note about it still joins the same stream.
    expect(s.when({ platform: 'cloudplay', connectionId: id, atNs: 3n, wallUs: T0 * 1000, type: 'proxy-error', stage: 'client', message: 'late', terminal: false }).recordedInto('s1')).toEqual([
      'proxy-error',
    ]);
  });
});

describe('run lifecycle decider — capture tasks (take-over, release)', () => {
  it('a task stream records its facts, ends with the MoltStation outcome of its final frame, and is sealed after the grace', () => {
    const s = sut({ sealAfterMs: 10_000 });
    const offer = s.offer('moltstation', 'moltstation-spectate', 'ms-7');
    const ref = s.openTask(offer, 1, 'task-stream');
    expect(s.taskFact(ref, 1, finalFrame).recordedInto('task-stream')).toHaveLength(1);
    // Records of a task stream arm no idle timer: the task's runner decides when it ends.
    expect(s.state.streams.get(ref)?.due).toBeNull();
    const end = s.command({ type: 'EndTaskStream', ref, attempt: 1, signal: { reason: 'GAME_OVER', outcome: { framesSeen: 3 } } });
    expect(end.eventsOf('RunEnded')[0]?.outcome).toMatchObject({ reason: 'GAME_OVER', score: 1300, tick: 420, framesSeen: 3, platformSessionId: 'ms-7' });
    expect(end.eventsOf('RunEnded')[0]?.outbox[0]?.dedupeKey).toBe('snapshot-submission:moltstation:ms-7');
    expect(s.advance(10_000).eventTypes()).toEqual(['StreamSealed']);
    expect(s.state.tasks.get(ref)).toBeUndefined();
  });

  it('take-over: a re-run attempt retires the earlier one — its facts, end and release are ignored, its seal is off', () => {
    const s = sut();
    const offer = s.offer('moltstation', 'moltstation-spectate', 'ms-8');
    const ref = s.openTask(offer, 1, 'task-8');
    s.command({ type: 'EndTaskStream', ref, attempt: 1, signal: { reason: 'ended', outcome: {} } });
    expect(s.state.streams.get(ref)?.due?.action).toBe('seal');
    const claim = s.command({ type: 'ClaimTaskStream', ref, attempt: 2 });
    expect(claim.effects).toEqual([{ type: 'clearTimer', ref }]);
    expect(s.state.streams.get(ref)?.due).toBeNull();
    expect(s.taskFact(ref, 1, { t: 'frame', frame: { tick: 9 } }).effects).toEqual([]);
    s.command({ type: 'OpenTaskStream', offer, identity: { key: `task:${offer.id}` }, sessionId: 'task-8', attempt: 2, metadata: {} });
    expect(s.state.streams.get(ref)).toMatchObject({ status: 'open', attempt: 2 });
    expect(s.taskFact(ref, 1, { t: 'frame', frame: { tick: 10 } }).effects).toEqual([]);
    expect(s.command({ type: 'ReleaseTaskStream', ref, attempt: 1 }).effects).toEqual([]);
    expect(s.command({ type: 'EndTaskStream', ref, attempt: 1, signal: { reason: 'x', outcome: {} } }).events).toEqual([]);
    expect(s.taskFact(ref, 2, { t: 'frame', frame: { tick: 11 } }).recordedInto('task-8')).toHaveLength(1);
  });

  it('a claim the store could not resume is abandoned: the earlier ended stream is due to seal again', () => {
    const s = sut({ sealAfterMs: 1_000 });
    const offer = s.offer('cloudplay', 'cloudplay-poll', 'cp-9');
    const ref = s.openTask(offer, 1, 'task-9');
    s.command({ type: 'EndTaskStream', ref, attempt: 1, signal: { reason: 'stopped', outcome: {} } });
    s.command({ type: 'ClaimTaskStream', ref, attempt: 2 });
    const abandoned = s.command({ type: 'AbandonTaskClaim', ref, attempt: 2 });
    expect(abandoned.effectsOf('setTimer')).toEqual([{ type: 'setTimer', ref, atMs: T0 + 1_000 }]);
    expect(s.advance(1_000).effectsOf('sealSession')).toEqual([{ type: 'sealSession', sessionId: 'task-9' }]);
  });

  it('release: the attempt stops writing, the Ingest lets the stream go (open for the next attempt), later facts are ignored', () => {
    const s = sut();
    const offer = s.offer('rgs', 'rgs-poll', 'rgs-5');
    const ref = s.openTask(offer, 1, 'task-5');
    const released = s.command({ type: 'ReleaseTaskStream', ref, attempt: 1 });
    expect(released.effects).toEqual([
      { type: 'clearTimer', ref },
      { type: 'releaseSession', sessionId: 'task-5' },
    ]);
    expect(s.state.streams.get(ref)).toBeUndefined();
    expect(s.taskFact(ref, 1, { n: 1 }).effects).toEqual([]);
  });
});

describe('run lifecycle decider — close', () => {
  it('records what is held, marks every open run (not ended ones, not task streams) capture-stopped, then takes nothing more', () => {
    const s = sut();
    const held = s.conn('ws');
    const ended = s.conn('ws');
    s.given(s.wsOpen('spacemolt', held, '/ws'), s.wsOpen('moltstation', ended, PLAY), s.wsClose('moltstation', ended, 4000, 'GAME_OVER'));
    s.openTask(s.offer('moltstation', 'moltstation-spectate', 'ms-9'), 1, 'task-9');
    s.at(T0 + 7_000);
    const then = s.close();
    const heldStream = then.eventsOf('StreamOpened')[0]?.stream;
    expect(heldStream).toMatchObject({ key: `session:ws-${held}`, kind: 'run' });
    expect(then.recordedInto(heldStream?.id ?? '')).toEqual(['ws-open', 'capture-stopped']);
    expect(then.eventsOf('CaptureStopped').map((e) => e.ref)).toEqual([`spacemolt|session:ws-${held}`]);
    expect(then.effectsOf('record').find((r) => r.input.msgType === 'capture-stopped')?.input).toMatchObject({ kind: 'marker', body: '{"reason":"recorder-stopped"}', wallUs: (T0 + 7_000) * 1000 });
    expect(then.effectsOf('clearTimer').length).toBeGreaterThanOrEqual(2);
    expect(s.state.closed).toBe(true);
    expect(s.when(s.wsOpen('moltstation', s.conn('ws'), PLAY)).effects).toEqual([]);
    expect(s.advance(60 * 60_000).events).toEqual([]);
    expect(s.close().events).toEqual([]);
  });
});

describe('run lifecycle decider — purity', () => {
  it('decide leaves the state it is given as it was and decides the same twice; evolve folds its events into the state decideAndFold gives', () => {
    const s = sut();
    const ws = s.conn('ws');
    s.given(s.wsOpen('spacemolt', ws, '/ws'), s.wsFromClient('spacemolt', ws, { type: 'get_status' }));
    const before = s.state;
    const streamsBefore = [...before.streams.values()];
    const command = s.captureCommand(s.wsFromClient('spacemolt', ws, { type: 'login', payload: { username: 'nova' } }));
    const first = decide(command, before, s.now);
    const second = decide(command, before, s.now);
    expect(second).toEqual(first);
    expect([...before.streams.values()]).toEqual(streamsBefore);
    const after = fold(before, first.events);
    s.command(command);
    expect([...after.streams.values()]).toEqual([...s.state.streams.values()]);
    expect(after.streams.get(`spacemolt|session:ws-${ws}`)?.identity.agent).toBe('nova');
  });

  it("the owned fold (the Recorder's): a message on a bound socket updates the state it was handed in place — no new state, no copied stream — with the events, effects and stream the pure fold gives", () => {
    const pure = sut();
    const ws = pure.conn('ws');
    pure.given(pure.wsOpen('moltstation', ws, PLAY), pure.wsFromPlatform('moltstation', ws, { t: 'welcome' }));
    // A state of its own with the same history, folded with `owned`.
    const ids = ['s1'];
    let owned = initialState(pure.state.config);
    for (const f of [pure.wsOpen('moltstation', ws, PLAY), pure.wsFromPlatform('moltstation', ws, { t: 'welcome' })])
      owned = decideAndFold({ ...(pure.captureCommand(f) as CaptureFact), newId: () => ids.shift() as string }, owned, pure.now, { owned: true }).state;
    expect(snapshot(owned)).toEqual(snapshot(pure.state));

    pure.at(T0 + 1_000);
    const command = pure.captureCommand(pure.wsFromPlatform('moltstation', ws, { t: 'frame', frame: { tick: 7 } }));
    const streamBefore = owned.streams.get('moltstation|session:ms-1');
    const o = decideAndFold(command, owned, pure.now, { owned: true });
    const p = pure.command(command);
    expect(o.state).toBe(owned);
    expect(o.state.streams.get('moltstation|session:ms-1')).toBe(streamBefore);
    expect(o.events).toEqual(p.events);
    expect(o.effects).toEqual(p.effects);
    expect(o.events.map((e) => e.type)).toEqual(['EventRecorded']);
    expect(snapshot(o.state)).toEqual(snapshot(pure.state));
    expect(streamBefore).toMatchObject({ events: 3, lastActivityMs: T0 + 1_000, due: { atMs: T0 + 1_000 + 30 * 60_000, action: 'idle' } });
  });
});
