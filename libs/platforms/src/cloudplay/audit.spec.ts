import { httpReq, httpRes, marker, outcomeEvent, run, stream, type EventDraft } from '../test-support';
import type { EvidenceStream, Finding, RunEvidence } from '../evidence/types';
import { auditCloudplay } from './audit';

const SID = 'sesfhhthov3zidhj4kcv9ucg';
const S = 1_000_000;
const STATS = { duration: 14, cpuSeconds: 1.4, peakMemoryMb: 1094 };

/** Places a draft at `sec` seconds into its stream (the builders' recordedAtUs follows). */
const at = (sec: number, d: EventDraft): EventDraft => ({ ...d, offsetUs: Math.round(sec * S) });
const headers = (status: number, date?: string) => ({ meta: JSON.stringify({ status, headers: date ? [['Date', date]] : [] }) });
const launch = (sec = 0, date?: string): EventDraft[] => [
  at(sec, httpReq('POST', '/api/game/launch', { gameSlug: 'garden-of-forking-paths' })),
  at(sec + 0.005, httpRes('POST', '/api/game/launch', 202, { sessionId: SID, status: 'starting' }, headers(202, date))),
];
const status = (sec: number, s: string, startedAt = '2026-11-23T12:00:00Z', channel: 'http' | 'poll' = 'http'): EventDraft[] => [
  at(sec, httpReq('GET', '/api/game/session-status', undefined, { channel })),
  at(sec + 0.002, httpRes('GET', '/api/game/session-status', 200, { sessionId: SID, status: s, startedAt }, { channel })),
];
const stop = (sec: number, stats: Record<string, unknown> = STATS, date?: string): EventDraft[] => [
  at(sec, httpReq('POST', '/api/game/stop', { sessionId: SID })),
  at(sec + 0.003, httpRes('POST', '/api/game/stop', 200, { status: 'stopped', ...stats }, headers(200, date))),
];
const outcome = (stats: Record<string, unknown> = STATS, sec = 14.06): EventDraft => at(sec, outcomeEvent({ platform: 'cloudplay', platformSessionId: SID, reason: 'stopped', ...stats }));
const transition = (sec: number, from: string | null, to: string): EventDraft => at(sec, { ...marker('status-transition', { from, to, skippedPolls: 0 }), channel: 'poll' });

/** A launch, readings starting → running, a stop after 14.05 s reporting STATS and its outcome event. */
const proxy = (o: { readings?: [number, string][]; stats?: Record<string, unknown>; outcomeStats?: Record<string, unknown>; stopAt?: number } = {}): EvidenceStream =>
  stream('proxy', [
    ...launch(),
    ...(
      o.readings ?? [
        [2, 'starting'],
        [4, 'running'],
      ]
    ).flatMap(([sec, s]) => status(sec, s)),
    ...stop(o.stopAt ?? 14.05, o.stats ?? STATS),
    outcome(o.outcomeStats ?? o.stats ?? STATS, (o.stopAt ?? 14.05) + 0.01),
  ]);
const cpRun = (streams: EvidenceStream[]): RunEvidence => run({ platform: 'cloudplay', game: 'garden-of-forking-paths', platformSessionId: SID }, streams);

const one = (fs: Finding[], check: string, subject?: string): Finding => {
  const hits = fs.filter((f) => f.check === check && (subject === undefined || f.subject?.startsWith(subject)));
  if (hits.length !== 1) throw new Error(`expected one ${check}, got ${hits.length}: ${JSON.stringify(fs)}`);
  return hits[0] as Finding;
};

describe('auditCloudplay', () => {
  describe('cloudplay.stop-stats', () => {
    it('given a stop response and an outcome event with the same statistics, when audited, then stop-stats is ok', () => {
      expect(one(auditCloudplay(cpRun([proxy()])), 'cloudplay.stop-stats')).toMatchObject({ status: 'ok' });
    });

    it('given an outcome event whose cpuSeconds differ from the stop response, when audited, then stop-stats is a mismatch at the outcome event', () => {
      const p = proxy({ outcomeStats: { ...STATS, cpuSeconds: 2.8 } });
      const f = one(auditCloudplay(cpRun([p])), 'cloudplay.stop-stats');
      expect(f).toMatchObject({
        status: 'mismatch',
        expected: STATS,
        found: { ...STATS, cpuSeconds: 2.8 },
        detail: expect.stringContaining('differ in cpuSeconds'),
        at: { sessionId: p.sessionId, seq: p.events.length },
      });
    });

    it('given an outcome event written from a session-status answer (no statistics), when audited, then stop-stats is unverifiable', () => {
      const p = stream('proxy', [...launch(), ...stop(14.05), at(14.06, outcomeEvent({ platform: 'cloudplay', reason: 'stopped', sessionId: SID }))]);
      expect(one(auditCloudplay(cpRun([p])), 'cloudplay.stop-stats')).toMatchObject({ status: 'unverifiable', detail: expect.stringContaining('carries no stop statistics') });
    });

    it('given no stop response recorded, when audited, then the stop-based checks are unverifiable', () => {
      const p = stream('proxy', [...launch(), ...status(2, 'starting'), ...status(4, 'error')]);
      const fs = auditCloudplay(cpRun([p]));
      for (const check of ['cloudplay.stop-stats', 'cloudplay.duration', 'cloudplay.never-ran']) expect(one(fs, check)).toMatchObject({ status: 'unverifiable', detail: 'no stop response recorded' });
      expect(one(fs, 'cloudplay.transitions')).toMatchObject({ status: 'ok' });
    });
  });

  describe('cloudplay.duration', () => {
    it('given a stop 14.05 s after the launch reporting 14 s, when audited, then duration is ok (recorded time)', () => {
      expect(one(auditCloudplay(cpRun([proxy()])), 'cloudplay.duration')).toMatchObject({ status: 'ok', detail: expect.stringContaining('the recorded launch request') });
    });

    it('given a stop 14.05 s after the launch reporting 30 s, when audited, then duration is a mismatch at the stop response', () => {
      const p = proxy({ stats: { ...STATS, duration: 30 } });
      const f = one(auditCloudplay(cpRun([p])), 'cloudplay.duration');
      expect(f).toMatchObject({ status: 'mismatch', expected: 14.053, found: 30 });
      expect(f.at).toEqual({ sessionId: p.sessionId, seq: p.events.length - 1 });
    });

    it("given the platform's startedAt and the stop response's Date 14 s apart, when a 14 s duration is reported, then duration is ok (platform clock)", () => {
      const p = stream('proxy', [...launch(0, 'Mon, 23 Nov 2026 12:00:00 GMT'), ...status(2, 'running'), ...stop(14.05, STATS, 'Mon, 23 Nov 2026 12:00:14 GMT'), outcome()]);
      expect(one(auditCloudplay(cpRun([p])), 'cloudplay.duration')).toMatchObject({ status: 'ok', detail: expect.stringContaining("the platform's startedAt") });
    });

    it('given the Date of the stop response 20 s after startedAt, when a 14 s duration is reported, then duration is a mismatch', () => {
      const p = stream('proxy', [...launch(0, 'Mon, 23 Nov 2026 12:00:00 GMT'), ...status(2, 'running'), ...stop(14.05, STATS, 'Mon, 23 Nov 2026 12:00:20 GMT'), outcome()]);
      expect(one(auditCloudplay(cpRun([p])), 'cloudplay.duration')).toMatchObject({ status: 'mismatch', expected: 20, found: 14 });
    });

    it("given a startedAt far from the launch answer's Date (an accelerated clock), when a long duration is reported, then duration is unverifiable, not a mismatch", () => {
      const p = stream('proxy', [
        ...launch(0, 'Mon, 23 Nov 2026 12:00:00 GMT'),
        ...status(0.01, 'running', '2026-11-23T12:00:09Z'),
        ...stop(0.05, { ...STATS, duration: 50 }),
        outcome({ ...STATS, duration: 50 }),
      ]);
      expect(one(auditCloudplay(cpRun([p])), 'cloudplay.duration')).toMatchObject({ status: 'unverifiable', detail: expect.stringContaining("the platform's clock is not the wall clock") });
    });

    it('given the poller read stopping minutes before the stop call (idle reclaim), when audited, then duration is unverifiable', () => {
      const poller = stream('poller', [...status(1, 'starting', undefined, 'poll'), ...status(5, 'running', undefined, 'poll'), ...status(60, 'stopping', undefined, 'poll')]);
      const p = proxy({ stopAt: 200 });
      expect(one(auditCloudplay(cpRun([p, poller])), 'cloudplay.duration')).toMatchObject({ status: 'unverifiable', detail: expect.stringContaining('reclaimed before the stop call') });
    });
  });

  describe('cloudplay.transitions', () => {
    it('given starting → running → stopped in the proxy and the poller, when audited, then transitions are ok per stream', () => {
      const poller = stream('poller', [
        ...status(1, 'starting', undefined, 'poll'),
        transition(1.01, null, 'starting'),
        ...status(3, 'running', undefined, 'poll'),
        transition(3.01, 'starting', 'running'),
        ...status(14.1, 'stopped', undefined, 'poll'),
        transition(14.11, 'running', 'stopped'),
      ]);
      const fs = auditCloudplay(cpRun([proxy(), poller]));
      expect(fs.filter((f) => f.check === 'cloudplay.transitions').map((f) => [f.subject?.split(' ')[0], f.status])).toEqual([
        ['proxy', 'ok'],
        ['poller', 'ok'],
      ]);
      expect(one(fs, 'cloudplay.transitions', 'poller').detail).toContain('starting → running → stopped');
    });

    it('given a reading of starting after running, when audited, then transitions is a mismatch at the backward reading', () => {
      const p = proxy({
        readings: [
          [2, 'running'],
          [4, 'starting'],
        ],
      });
      const f = one(auditCloudplay(cpRun([p])), 'cloudplay.transitions');
      expect(f).toMatchObject({ status: 'mismatch', found: 'running → starting', at: { sessionId: p.sessionId, seq: 6 } });
    });

    it('given a poller marker saying running → error, when audited, then transitions is a mismatch (error only follows starting)', () => {
      const poller = stream('poller', [transition(1, null, 'starting'), transition(3, 'starting', 'running'), transition(5, 'running', 'error')]);
      expect(one(auditCloudplay(cpRun([proxy(), poller])), 'cloudplay.transitions', 'poller')).toMatchObject({
        status: 'mismatch',
        found: 'running → error',
        at: { sessionId: poller.sessionId, seq: 3 },
      });
    });

    it('given a launch cancelled by a stop while starting, when audited, then starting → stopped is ok', () => {
      const p = proxy({ readings: [[2, 'starting']], stats: { duration: 3, cpuSeconds: 0, peakMemoryMb: 0 }, stopAt: 3 });
      expect(one(auditCloudplay(cpRun([p])), 'cloudplay.transitions')).toMatchObject({ status: 'ok', detail: 'observed starting → stopped (3 readings)' });
    });

    it('given a failed launch stopped afterwards, when audited, then starting → error → stopped is ok', () => {
      const p = proxy({
        readings: [
          [2, 'starting'],
          [3, 'error'],
        ],
        stats: { duration: 4, cpuSeconds: 0, peakMemoryMb: 0 },
        stopAt: 4,
      });
      expect(one(auditCloudplay(cpRun([p])), 'cloudplay.transitions')).toMatchObject({ status: 'ok' });
    });
  });

  describe('cloudplay.never-ran', () => {
    it('given running was observed, when the stop reports usage, then never-ran is ok', () => {
      expect(one(auditCloudplay(cpRun([proxy()])), 'cloudplay.never-ran')).toMatchObject({ status: 'ok', detail: expect.stringContaining('running observed') });
    });

    it('given running was never observed and the stop reports 0 cpu-s and 0 MB, when audited, then never-ran is ok', () => {
      const p = proxy({ readings: [[2, 'starting']], stats: { duration: 3, cpuSeconds: 0, peakMemoryMb: 0 }, stopAt: 3 });
      expect(one(auditCloudplay(cpRun([p])), 'cloudplay.never-ran')).toMatchObject({ status: 'ok', detail: expect.stringContaining('never observed running') });
    });

    it('given running was never observed but the stop reports 512 MB, when audited, then never-ran is a mismatch at the stop response', () => {
      const p = proxy({ readings: [[2, 'starting']], stats: { duration: 3, cpuSeconds: 0, peakMemoryMb: 512 }, stopAt: 3 });
      const f = one(auditCloudplay(cpRun([p])), 'cloudplay.never-ran');
      expect(f).toMatchObject({
        status: 'mismatch',
        expected: { cpuSeconds: 0, peakMemoryMb: 0 },
        found: { cpuSeconds: 0, peakMemoryMb: 512 },
        at: { sessionId: p.sessionId, seq: p.events.length - 1 },
      });
    });
  });

  describe('the recorded sample run (garden-of-forking-paths, sesfhhthov3zidhj4kcv9ucg)', () => {
    // Key events of /tmp/samples/cloudplay.txt at their recorded offsets: launch (Date 14:46:53), the agent's
    // status reads (startedAt 14:46:53Z), keepalives left out, the stop at 14.05 s (Date 14:47:07) reporting
    // 14 s / 1.4 cpu-s / 1094 MB, the outcome events, the poller's readings and status-transition markers.
    const started = '2026-11-23T14:46:53Z';
    const p = stream('proxy', [
      ...launch(0, 'Mon, 23 Nov 2026 14:46:53 GMT'),
      ...status(0.004089, 'starting', started),
      ...status(2.019703, 'starting', started),
      ...status(4.02285, 'running', started),
      ...status(9.033861, 'running', started),
      ...status(14.0441, 'running', started),
      ...stop(14.049442, STATS, 'Mon, 23 Nov 2026 14:47:07 GMT'),
      outcome(STATS, 14.052339),
    ]);
    const poller = stream('poller', [
      ...status(0.000176, 'starting', started, 'poll'),
      transition(0.010886, null, 'starting'),
      ...status(3.014707, 'running', started, 'poll'),
      transition(3.0166, 'starting', 'running'),
      ...status(14.039313, 'stopped', started, 'poll'),
      transition(14.042356, 'running', 'stopped'),
      at(14.046238, outcomeEvent({ platform: 'cloudplay', platformSessionId: SID, reason: 'stopped', finalStatus: 'stopped' })),
    ]);
    const job = stream('snapshot-submission', [marker('attempt', { attempt: 1, of: 8 }), marker('result', { status: 'skipped', reason: 'no snapshot endpoint for cloudplay' })]);
    const fs = auditCloudplay(run({ platform: 'cloudplay', game: 'garden-of-forking-paths', platformSessionId: SID, runSessionId: p.sessionId }, [p, poller, job]));

    it('given the sample, when audited, then every finding is ok', () => {
      expect(fs.filter((f) => f.status !== 'ok')).toEqual([]);
      expect(fs.map((f) => f.check)).toEqual(['cloudplay.stop-stats', 'cloudplay.duration', 'cloudplay.transitions', 'cloudplay.transitions', 'cloudplay.never-ran']);
    });

    it("given the sample, when audited, then the duration is timed on the platform's clock (startedAt to the stop's Date)", () => {
      expect(one(fs, 'cloudplay.duration').detail).toBe("reported 14 s; 14.000 s from the platform's startedAt 2026-11-23T14:46:53.000Z to the stop response's Date 2026-11-23T14:47:07.000Z");
    });
  });
});
