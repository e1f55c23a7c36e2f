import { gap, httpReq, httpRes, marker, outcomeEvent, run, stream, wsClose, wsIn, wsOut, type EventDraft } from '../test-support';
import type { EvidenceStream, Finding, RunEvidence } from '../evidence/types';
import { auditMoltStation } from './audit';

const MS = 'ms_38cf8a94cb3644242592df0c';
const SNAPSHOT = '/api/rewards/snapshot';
const DETAIL = `/api/games/flappybots/sessions/${MS}`;

interface FrameOpts {
  lives?: number;
  gameOverReason?: string;
  channel?: 'play_ws' | 'spectate_ws';
}
const frame = (tick: number, phase: string, score: number, o: FrameOpts = {}): EventDraft =>
  wsIn(
    {
      t: 'frame',
      frame: {
        v: 1,
        tick,
        tMs: tick * 50,
        phase,
        score: { current: score, high: score },
        ...(o.lives !== undefined ? { lives: o.lives } : {}),
        ...(o.gameOverReason ? { gameOverReason: o.gameOverReason } : {}),
      },
    },
    { msgType: 'frame', tick, channel: o.channel ?? 'play_ws' },
  );

/** A short Flappy Bots game: ticks 0..3, scores 0..3, ended by an obstacle. */
const GAME: [number, string, number][] = [
  [0, 'ready', 0],
  [1, 'running', 1],
  [2, 'running', 2],
  [3, 'ended', 3],
];
const frames = (game: [number, string, number][], channel: 'play_ws' | 'spectate_ws' = 'play_ws', lives?: number[]): EventDraft[] =>
  game.map(([t, p, s], i) => frame(t, p, s, { channel, ...(p === 'ended' ? { gameOverReason: 'OBSTACLE_COLLISION' } : {}), ...(lives ? { lives: lives[i] as number } : {}) }));
const outcomeOf = (reason: string, over: Record<string, unknown> = {}) =>
  outcomeEvent({ platform: 'moltstation', reason, phase: 'ended', tick: 3, score: 3, lives: null, gameOverReason: 'OBSTACLE_COLLISION', ...over });
const start = (source = 'agent_api'): EventDraft[] => [
  httpReq('POST', '/api/games/flappybots/sessions/start', { source }),
  httpRes('POST', '/api/games/flappybots/sessions/start', 200, { sessionId: MS, slug: 'flappybots', source, status: 'created' }),
];
const agentSnapshot = (score = 3): EventDraft[] => [httpReq('POST', SNAPSHOT, { gameSlug: 'flappybots', sessionId: MS }), httpRes('POST', SNAPSHOT, 200, { ok: true, sessionId: MS, score })];

const proxy = (body: EventDraft[] = frames(GAME), tail: EventDraft[] = [wsClose(1000, 'GAME_OVER'), outcomeOf('GAME_OVER')]) =>
  stream('proxy', [...start(), wsOut({ t: 'auth', token: 't' }), ...body, ...tail]);
const spectator = (body: EventDraft[] = frames(GAME, 'spectate_ws'), tail: EventDraft[] = [wsClose(1000, 'GAME_OVER', { channel: 'spectate_ws' }), outcomeOf('game_over')]) =>
  stream('spectator', [...body, ...tail]);
const snapshotJob = (result: Record<string, unknown>, extra: EventDraft[] = []) => stream('snapshot-submission', [marker('attempt', { attempt: 1, of: 8 }), ...extra, marker('result', result)]);
const msRun = (streams: EvidenceStream[], source: string | null = 'agent_api'): RunEvidence => run({ platform: 'moltstation', game: 'flappybots', source, platformSessionId: MS }, streams);

const only = (fs: Finding[], check: string): Finding[] => fs.filter((f) => f.check === check);
const one = (fs: Finding[], check: string, subject?: string): Finding => {
  const hits = fs.filter((f) => f.check === check && (subject === undefined || f.subject?.startsWith(subject)));
  if (hits.length !== 1) throw new Error(`expected one ${check}${subject ? ` for ${subject}` : ''}, got ${hits.length}: ${JSON.stringify(fs)}`);
  return hits[0] as Finding;
};

describe('auditMoltStation', () => {
  describe('moltstation.outcome.<field>', () => {
    it('given a proxy stream whose outcome matches its final frame and close, when audited, then every outcome field is ok', () => {
      const p = proxy();
      const fs = auditMoltStation(msRun([p, snapshotJob({ status: 'submitted' })]));
      const outcome = fs.filter((f) => f.check.startsWith('moltstation.outcome.'));
      expect(outcome.map((f) => [f.check, f.status])).toEqual(['score', 'lives', 'phase', 'tick', 'gameOverReason', 'reason'].map((k) => [`moltstation.outcome.${k}`, 'ok']));
      expect(outcome[0]?.at).toEqual({ sessionId: p.sessionId, seq: p.events.length });
    });

    it('given an outcome event whose score differs from the final frame, when audited, then outcome.score is a mismatch pointing at the outcome event', () => {
      const p = proxy(frames(GAME), [wsClose(1000, 'GAME_OVER'), outcomeOf('GAME_OVER', { score: 99 })]);
      const f = one(auditMoltStation(msRun([p])), 'moltstation.outcome.score');
      expect(f).toMatchObject({ status: 'mismatch', expected: 3, found: 99, at: { sessionId: p.sessionId, seq: p.events.length } });
    });

    it('given a ShellRunners final frame with 0 lives and an outcome saying 1, when audited, then outcome.lives is a mismatch', () => {
      const p = proxy(frames(GAME, 'play_ws', [3, 2, 1, 0]), [wsClose(1000, 'GAME_OVER'), outcomeOf('GAME_OVER', { lives: 1 })]);
      expect(one(auditMoltStation(msRun([p])), 'moltstation.outcome.lives')).toMatchObject({ status: 'mismatch', expected: 0, found: 1 });
    });

    it('given a spectator closed GAME_OVER whose outcome says game_over, when audited, then the reason is ok (case normalised)', () => {
      expect(one(auditMoltStation(msRun([spectator()])), 'moltstation.outcome.reason')).toMatchObject({ status: 'ok' });
    });

    it('given a proxy closed EXIT whose outcome says GAME_OVER, when audited, then outcome.reason is a mismatch', () => {
      const p = proxy(frames(GAME), [wsClose(1000, 'EXIT'), outcomeOf('GAME_OVER')]);
      expect(one(auditMoltStation(msRun([p])), 'moltstation.outcome.reason')).toMatchObject({ status: 'mismatch', expected: 'EXIT', found: 'GAME_OVER' });
    });

    it('given a spectator stream with a capture gap and no final frame, when audited, then the frame-based outcome fields are unverifiable naming the gap', () => {
      const s = spectator(
        [...frames(GAME.slice(0, 2), 'spectate_ws'), gap({ reason: 'abnormal_close' })],
        [marker('session-ended', { reason: 'session_ended' }), outcomeOf('session_ended', { score: null })],
      );
      const fs = auditMoltStation(msRun([s]));
      expect(one(fs, 'moltstation.outcome.score')).toMatchObject({ status: 'unverifiable', detail: 'no final frame recorded: the capture has a gap at seq 3' });
      expect(one(fs, 'moltstation.outcome.reason')).toMatchObject({ status: 'unverifiable', detail: 'no close recorded' });
    });

    it('given a recorder stream without an outcome event, when audited, then moltstation.outcome is unverifiable', () => {
      const p = proxy(frames(GAME), [wsClose(1000, 'GAME_OVER')]);
      const fs = auditMoltStation(msRun([p]));
      expect(one(fs, 'moltstation.outcome')).toMatchObject({ status: 'unverifiable', detail: 'the stream has no outcome event' });
      expect(fs.filter((f) => f.check.startsWith('moltstation.outcome.'))).toHaveLength(0);
    });
  });

  describe('moltstation.streams-agree', () => {
    it('given proxy and spectator streams with the same final frame, when audited, then they agree', () => {
      expect(one(auditMoltStation(msRun([proxy(), spectator()])), 'moltstation.streams-agree')).toMatchObject({ status: 'ok' });
    });

    it('given a spectator whose final score differs from the proxy, when audited, then streams-agree is a mismatch naming both streams', () => {
      const p = proxy();
      const s = spectator(frames([...GAME.slice(0, 3), [3, 'ended', 4]], 'spectate_ws'));
      const f = one(auditMoltStation(msRun([p, s])), 'moltstation.streams-agree');
      expect(f).toMatchObject({ status: 'mismatch', expected: { score: 3, tick: 3, phase: 'ended' }, found: { score: 4, tick: 3, phase: 'ended' }, at: { sessionId: s.sessionId } });
      expect(f.detail).toContain(p.sessionId);
      expect(f.detail).toContain(s.sessionId);
    });

    it('given a spectator that recorded no final frame, when audited, then streams-agree is unverifiable', () => {
      const s = spectator(frames(GAME.slice(0, 3), 'spectate_ws'));
      expect(one(auditMoltStation(msRun([proxy(), s])), 'moltstation.streams-agree')).toMatchObject({ status: 'unverifiable', detail: expect.stringContaining('no final frame recorded') });
    });
  });

  describe('moltstation.lives', () => {
    it('given ShellRunners lives 3, 2, 1, 0, when audited, then lives is ok', () => {
      expect(one(auditMoltStation(msRun([proxy(frames(GAME, 'play_ws', [3, 2, 1, 0]))])), 'moltstation.lives')).toMatchObject({ status: 'ok' });
    });

    it('given lives going from 2 back up to 3, when audited, then lives is a mismatch at the frame of the increase', () => {
      const p = proxy(frames(GAME, 'play_ws', [3, 2, 3, 0]));
      const f = one(auditMoltStation(msRun([p])), 'moltstation.lives');
      const third = p.events.filter((e) => e.kind === 'frame')[2];
      expect(f).toMatchObject({ status: 'mismatch', expected: 2, found: 3, at: { sessionId: p.sessionId, seq: third?.seq } });
    });

    it('given Flappy Bots frames (no lives), when audited, then there is no lives finding', () => {
      expect(only(auditMoltStation(msRun([proxy()])), 'moltstation.lives')).toEqual([]);
    });

    it('given the only stream has a capture gap and lives never increase, when audited, then lives is unverifiable', () => {
      const body = frames(GAME, 'play_ws', [3, 2, 1, 0]);
      const p = proxy([...body.slice(0, 2), gap({ reason: 'takeover' }), ...body.slice(2)]);
      expect(one(auditMoltStation(msRun([p])), 'moltstation.lives')).toMatchObject({ status: 'unverifiable', detail: expect.stringContaining('the capture has a gap at seq') });
    });
  });

  describe('moltstation.score-monotonic', () => {
    it('given scores 0, 1, 2, 3, when audited, then score-monotonic is ok', () => {
      expect(one(auditMoltStation(msRun([proxy()])), 'moltstation.score-monotonic')).toMatchObject({ status: 'ok' });
    });

    it('given a score dropping from 2 to 1, when audited, then score-monotonic is a mismatch at the drop', () => {
      const p = proxy(frames([...GAME.slice(0, 3), [3, 'ended', 1]]), [wsClose(1000, 'GAME_OVER'), outcomeOf('GAME_OVER', { score: 1 })]);
      const last = p.events.filter((e) => e.kind === 'frame').at(-1);
      expect(one(auditMoltStation(msRun([p])), 'moltstation.score-monotonic')).toMatchObject({ status: 'mismatch', expected: 2, found: 1, at: { seq: last?.seq } });
    });

    it('given frames missing between tick 1 and tick 3 (no gap event), when audited, then score-monotonic is unverifiable', () => {
      const p = proxy(frames([GAME[0], GAME[1], GAME[3]] as [number, string, number][]));
      expect(one(auditMoltStation(msRun([p])), 'moltstation.score-monotonic')).toMatchObject({ status: 'unverifiable', detail: expect.stringContaining('frames are missing before tick 3') });
    });
  });

  describe('moltstation.published-score', () => {
    it('given an ended session detail and the agent snapshot with the final score, when audited, then both are ok', () => {
      const p = proxy(frames(GAME), [
        wsClose(1000, 'GAME_OVER'),
        outcomeOf('GAME_OVER'),
        ...agentSnapshot(3),
        httpReq('GET', DETAIL),
        httpRes('GET', DETAIL, 200, { sessionId: MS, status: 'ended', score: { current: 3, high: 3 } }),
      ]);
      const fs = only(auditMoltStation(msRun([p])), 'moltstation.published-score');
      expect(fs.map((f) => [f.subject?.split(' (')[0], f.status])).toEqual([
        ['snapshot', 'ok'],
        ['session detail', 'ok'],
      ]);
    });

    it('given a pipeline snapshot answered with score 4 for a final score of 3, when audited, then published-score is a mismatch at that answer', () => {
      const job = snapshotJob({ status: 'submitted' }, [httpReq('POST', SNAPSHOT, {}), httpRes('POST', SNAPSHOT, 200, { ok: true, score: 4 })]);
      const f = one(auditMoltStation(msRun([proxy(), job])), 'moltstation.published-score');
      expect(f).toMatchObject({ status: 'mismatch', expected: 3, found: 4, at: { sessionId: job.sessionId, seq: 3 } });
    });

    it('given a session detail of a live session, when audited, then it is not taken as a published result', () => {
      const p = proxy(frames(GAME), [httpReq('GET', DETAIL), httpRes('GET', DETAIL, 200, { status: 'live', score: { current: 1, high: 1 } }), wsClose(1000, 'GAME_OVER'), outcomeOf('GAME_OVER')]);
      expect(only(auditMoltStation(msRun([p])), 'moltstation.published-score')).toEqual([]);
    });

    it('given a snapshot answer but no final frame recorded, when audited, then published-score is unverifiable', () => {
      const p = proxy(frames(GAME.slice(0, 3)), [wsClose(1006, ''), outcomeOf('ended'), ...agentSnapshot(3)]);
      expect(one(auditMoltStation(msRun([p])), 'moltstation.published-score')).toMatchObject({ status: 'unverifiable', found: 3, detail: expect.stringContaining('no final frame recorded') });
    });
  });

  describe('moltstation.snapshot', () => {
    it('given an agent_api run the pipeline submitted, when audited, then snapshot is ok by the pipeline', () => {
      expect(one(auditMoltStation(msRun([proxy(), snapshotJob({ status: 'submitted', httpStatus: 200 })])), 'moltstation.snapshot')).toMatchObject({
        status: 'ok',
        detail: expect.stringContaining('the pipeline (submitted)'),
      });
    });

    it('given an agent_api run the pipeline skipped and the agent did not snapshot, when audited, then snapshot is a mismatch at the result marker', () => {
      const job = snapshotJob({ status: 'skipped', reason: 'a unknown-source run is practice' });
      const f = one(auditMoltStation(msRun([proxy(), job])), 'moltstation.snapshot');
      expect(f).toMatchObject({ status: 'mismatch', expected: 'snapshotted', found: 'skipped (a unknown-source run is practice)', at: { sessionId: job.sessionId, seq: 2 } });
    });

    it('given an agent_api run cut short (no final frame in any stream) whose snapshot job dead-lettered, when audited, then snapshot is unverifiable, not a mismatch', () => {
      const cut = proxy(frames(GAME.slice(0, 3)), [wsClose(1006, '')]);
      const job = stream('snapshot-submission', [marker('attempt', { attempt: 1, of: 1 }), marker('dead-letter', { error: 'MoltStation does not know session', attempt: 1 })]);
      expect(one(auditMoltStation(msRun([cut, job])), 'moltstation.snapshot')).toMatchObject({
        status: 'unverifiable',
        detail: expect.stringContaining('did not end'),
        at: { sessionId: job.sessionId, seq: 2 },
      });
    });

    it('given a run without source whose proxy started it agent_api and snapshotted it itself, when the pipeline skipped, then snapshot is ok by the agent', () => {
      const p = proxy(frames(GAME), [wsClose(1000, 'GAME_OVER'), outcomeOf('GAME_OVER'), ...agentSnapshot(3)]);
      const f = one(auditMoltStation(msRun([p, snapshotJob({ status: 'skipped', reason: 'practice' })], null)), 'moltstation.snapshot');
      expect(f).toMatchObject({ status: 'ok', at: { sessionId: p.sessionId, seq: p.events.length } });
      expect(f.detail).toMatch(/snapshotted by the agent .*the pipeline's result: skipped/);
    });

    it('given a browser_ws run the pipeline skipped, when audited, then snapshot is ok (practice)', () => {
      expect(one(auditMoltStation(msRun([proxy(), snapshotJob({ status: 'skipped', reason: 'practice' })], 'browser_ws')), 'moltstation.snapshot')).toMatchObject({
        status: 'ok',
        detail: expect.stringContaining('practice'),
      });
    });

    it('given a browser_ws run the pipeline submitted, when audited, then snapshot is a mismatch', () => {
      expect(one(auditMoltStation(msRun([proxy(), snapshotJob({ status: 'submitted' })], 'browser_ws')), 'moltstation.snapshot')).toMatchObject({ status: 'mismatch', expected: 'not snapshotted' });
    });

    it('given an agent_api run with no snapshot result and no agent snapshot, when audited, then snapshot is unverifiable', () => {
      expect(one(auditMoltStation(msRun([proxy()])), 'moltstation.snapshot')).toMatchObject({ status: 'unverifiable' });
    });

    it('given no source anywhere (spectator only, no session detail), when audited, then snapshot is unverifiable', () => {
      expect(one(auditMoltStation(msRun([spectator(), snapshotJob({ status: 'skipped' })], null)), 'moltstation.snapshot')).toMatchObject({
        status: 'unverifiable',
        detail: expect.stringContaining('source is unknown'),
      });
    });
  });

  describe('the recorded sample run (flappybots, ms_38cf8a94cb3644242592df0c)', () => {
    // Key events of /tmp/samples/moltstation.txt: both streams saw ticks 0..187 with score floor(min(tick, 186) · 0.555)
    // (11.1 points/s, checked against every recorded frame), the final frame at tick 187 ended by OBSTACLE_COLLISION,
    // closes GAME_OVER, the two outcome events, the agent's own snapshot (score 103) and the pipeline's "skipped".
    const sampleFrames = (channel: 'play_ws' | 'spectate_ws'): EventDraft[] =>
      Array.from({ length: 188 }, (_, t) =>
        frame(t, t === 0 ? 'ready' : t === 187 ? 'ended' : 'running', Math.floor(Math.min(t, 186) * 0.555), { channel, ...(t === 187 ? { gameOverReason: 'OBSTACLE_COLLISION' } : {}) }),
      );
    const outcome = { platform: 'moltstation', game: 'flappybots', platformSessionId: MS, phase: 'ended', tick: 187, score: 103, lives: null, gameOverReason: 'OBSTACLE_COLLISION' };
    const p = stream('proxy', [
      ...start(),
      wsOut({ t: 'auth', token: 't' }, { kind: 'command', msgType: 'auth' }),
      wsIn({ t: 'hello', role: 'play', tickHz: 20 }, { kind: 'notification', msgType: 'hello' }),
      ...sampleFrames('play_ws'),
      wsClose(1000, 'GAME_OVER'),
      outcomeEvent({ ...outcome, agent: 'agent', reason: 'GAME_OVER' }),
      httpReq('POST', SNAPSHOT, { gameSlug: 'flappybots', sessionId: MS }),
      httpRes('POST', SNAPSHOT, 200, { ok: true, gameSlug: 'flappybots', sessionId: MS, score: 103, delta: 103, scorebank: 103, contractMethod: 'snapshotScoreSigned' }),
    ]);
    const s = stream('spectator', [
      wsIn({ t: 'hello', role: 'spectate', tickHz: 20 }, { kind: 'notification', msgType: 'hello', channel: 'spectate_ws' }),
      ...sampleFrames('spectate_ws'),
      wsClose(1000, 'GAME_OVER', { channel: 'spectate_ws' }),
      outcomeEvent({ ...outcome, agent: null, reason: 'game_over', frames: 188, reconnects: 0, gaps: 0, lastTick: 187 }),
    ]);
    const job = snapshotJob({ status: 'skipped', reason: 'a unknown-source run is practice: only agent_api runs are snapshotted' });
    const fs = auditMoltStation(run({ platform: 'moltstation', game: 'flappybots', source: null, platformSessionId: MS, runSessionId: s.sessionId }, [p, s, job]));

    it('given the sample, when audited, then every finding is ok', () => {
      expect(fs.filter((f) => f.status !== 'ok')).toEqual([]);
      expect(fs).toHaveLength(16);
    });

    it('given the sample, when audited, then the snapshot is credited to the agent although the pipeline skipped', () => {
      expect(one(fs, 'moltstation.snapshot').detail).toMatch(/^an agent_api run, snapshotted by the agent .*skipped/);
      expect(one(fs, 'moltstation.published-score')).toMatchObject({ status: 'ok', subject: expect.stringMatching(/^snapshot/) });
    });
  });
});
