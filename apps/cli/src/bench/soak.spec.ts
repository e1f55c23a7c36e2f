import {
  cpuSeconds,
  faultEffect,
  faultEffectProblems,
  FaultEvidence,
  faultRecoveryProblems,
  faultSchedule,
  parseFaults,
  postgresCpuDelta,
  postgresCpuSeconds,
  profileArgs,
  reconcileHandoffs,
  runsToRecover,
  SOAK_FAULTS,
  transportErrors,
} from './soak';
import { botKindFor, conversationDigest, isRefusal, p50p99, reconcileHttp, TickLateness, cutTails, wsCloseSummary } from './soak-worker';

describe('rewind bench soak: pure parts', () => {
  it('tells a run the recorder refused (503 capture_overloaded, at the first request or the socket) from other failures', () => {
    expect(isRefusal(new Error('sessions/start → HTTP 503  capture_overloaded'))).toBe(true);
    expect(isRefusal(new Error('Unexpected server response: 503'))).toBe(true);
    expect(isRefusal(new Error('sessions/start → HTTP 502  upstream_unreachable'))).toBe(false);
    expect(isRefusal(new Error('POST /game/play → 401 {"error":"session_expired"}'))).toBe(false);
  });

  it('reads the CPU time a process used (grows while it computes), NaN for no process; the postgres total is a number', () => {
    const before = cpuSeconds(process.pid);
    const until = Date.now() + 120;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    expect(cpuSeconds(process.pid)).toBeGreaterThan(before);
    expect(cpuSeconds(undefined)).toBeNaN();
    expect(cpuSeconds(2 ** 30)).toBeNaN();
    expect([...postgresCpuSeconds().values()].every((v) => v >= 0)).toBe(true);
    // A backend that exited between the samples does not make the total go negative; a new one counts whole.
    expect(
      postgresCpuDelta(
        new Map([
          [1, 5],
          [2, 9],
        ]),
        new Map([
          [1, 6.5],
          [3, 0.25],
        ]),
      ),
    ).toBeCloseTo(1.75);
  });

  it('profiles only the children named in REWIND_SOAK_PROFILE (a prefix of their names, or all), each into a folder of its own', () => {
    expect(profileArgs('recorder A', '')).toEqual([]);
    expect(profileArgs('api', 'recorder')).toEqual([]);
    const a = profileArgs('recorder A', 'recorder, api');
    expect(a[0]).toBe('--cpu-prof');
    expect(a[1]).toMatch(/^--cpu-prof-dir=.*test-output\/soak-profiles\/recorder-A$/);
    expect(profileArgs('bots', 'all')).toHaveLength(2);
  });

  it('parses --faults: none by default, all, a list in order without duplicates, unknown names refused', () => {
    expect(parseFaults(undefined)).toEqual([]);
    expect(parseFaults('none')).toEqual([]);
    expect(parseFaults('all')).toEqual([...SOAK_FAULTS]);
    expect(parseFaults('recorder-kill, postgres-restart,recorder-kill')).toEqual(['recorder-kill', 'postgres-restart']);
    expect(() => parseFaults('postgres-restart,disk-full')).toThrow(/unknown fault "disk-full"/);
  });

  it('spreads faults over the run, away from its first and last tenth, in the order given', () => {
    const s = faultSchedule([...SOAK_FAULTS], 60);
    expect(s.map((x) => x.fault)).toEqual([...SOAK_FAULTS]);
    expect(s[0]!.atS).toBeGreaterThanOrEqual(6);
    expect(s[s.length - 1]!.atS).toBeLessThanOrEqual(54);
    for (let i = 1; i < s.length; i++) expect(s[i]!.atS).toBeGreaterThan(s[i - 1]!.atS);
    expect(faultSchedule(['pipeline-kill'], 15)).toEqual([{ fault: 'pipeline-kill', atS: 7.5 }]);
    expect(faultSchedule([], 60)).toEqual([]);
  });

  it('reconciles handoffs with the outbox: missing, duplicated, unknown and re-delivered runs are counted', () => {
    expect(
      reconcileHandoffs(
        ['a', 'b'],
        [
          { runSessionId: 'a', deliveries: 1 },
          { runSessionId: 'b', deliveries: 2 },
        ],
      ),
    ).toEqual({ outboxRows: 2, listed: 2, duplicates: 0, missing: 0, extra: 0, maxDeliveries: 2, redelivered: 1 });
    expect(
      reconcileHandoffs(
        ['a', 'b', 'c'],
        [
          { runSessionId: 'a', deliveries: 1 },
          { runSessionId: 'a', deliveries: 1 },
          { runSessionId: 'z', deliveries: 1 },
        ],
      ),
    ).toMatchObject({ duplicates: 1, missing: 2, extra: 1 });
  });

  it('reconciles HTTP exchanges: one the bot got no answer to and the store lacks never reached the proxy (counted apart); any other missing one is lost', () => {
    const launch = 'POST /api/game/launch → undefined | {"gameSlug":"g"} | ';
    const ok = 'POST /api/game/launch → 202 | {"gameSlug":"g"} | {"sessionId":"s1"}';
    const poll = 'GET /api/game/session-status?sessionId=s1 → 200 |  | {"status":"running"}';
    // the bot's launch failed at the connection, it launched again (a new exchange, answered): both accounted for
    expect(reconcileHttp([launch, ok, poll], [ok, poll])).toEqual({ matched: 2, noAnswer: 1, neverReached: 1, lost: [], neverReachedLines: [launch], storeOnly: [] });
    // the proxy received it and recorded the client's going away: stored as unanswered, matched
    expect(reconcileHttp([launch, ok], [launch, ok])).toMatchObject({ matched: 2, noAnswer: 1, neverReached: 0 });
    // an answered exchange missing from the store is lost, never set aside
    expect(reconcileHttp([ok, poll], [ok])).toMatchObject({ matched: 1, neverReached: 0, lost: [poll] });
    // the bot saw no answer but the store holds an answer: both sides unmatched (the stored one is reported)
    expect(reconcileHttp([launch], [ok])).toMatchObject({ matched: 0, neverReached: 1, storeOnly: [ok] });
    expect(transportErrors({})).toBe('');
    expect(transportErrors({ 'fetch failed (ECONNRESET)': 1, 'fetch failed (UND_ERR_SOCKET)': 2 })).toBe("; bots' transport errors: 2× fetch failed (UND_ERR_SOCKET), 1× fetch failed (ECONNRESET)");
  });

  it('mixes platforms: 80% MoltStation (half each game), the rest SpaceMolt, cloud-play and RGS', () => {
    const kinds = Array.from({ length: 1000 }, (_, i) => botKindFor(i));
    const n = (k: string): number => kinds.filter((x) => x === k).length;
    expect(n('flappy')).toBe(400);
    expect(n('shell')).toBe(400);
    expect(n('sm-ws') + n('sm-http')).toBe(80);
    expect(n('cloudplay')).toBe(60);
    expect(n('rgs')).toBe(60);
  });

  it('a conversation is identified by each direction in order, not by how the directions interleave', () => {
    const a = conversationDigest(['received f1', 'sent i1', 'received f2', 'sent i2']);
    expect(conversationDigest(['received f1', 'received f2', 'sent i1', 'sent i2'])).toBe(a);
    expect(conversationDigest(['received f2', 'received f1', 'sent i1', 'sent i2'])).not.toBe(a);
    expect(conversationDigest(['received f1', 'sent i1', 'received f2'])).not.toBe(a);
  });

  it('frame lateness against the 50 ms tick schedule, anchored at the best-placed frame so far', () => {
    const l = new TickLateness();
    expect(l.push('s', 10, 1000)).toBe(0);
    expect(l.push('s', 11, 1053)).toBe(3);
    expect(l.push('s', 12, 1098)).toBe(0); // earlier than the schedule so far: the new anchor
    expect(l.push('s', 13, 1150)).toBe(2);
    expect(l.push('t', 0, 5)).toBe(0); // streams are independent
    expect(p50p99([5, 1, 3, 2, 4])).toEqual({ count: 5, p50: 3, p99: 5 });
    expect(p50p99([]).count).toBe(0);
  });

  describe('a scripted fault must show an effect, or the soak fails naming it', () => {
    // For each fault: evidence of an effect that took place, and the same fault with that effect missing.
    const cases: [(typeof SOAK_FAULTS)[number], FaultEvidence, FaultEvidence][] = [
      ['postgres-restart', { linkCut: 4, ingestOutage: true, journaledMax: 120, linkReconnects: 3 }, { linkCut: 4, ingestOutage: false, journaledMax: 0, linkReconnects: 3 }],
      ['network-stall', { stallMs: 3000, lagBeforeMs: 80, lagMaxMs: 2900 }, { stallMs: 3000, lagBeforeMs: 80, lagMaxMs: 600 }],
      ['redis-restart', { linkCut: 6, linkReconnects: 6 }, { linkCut: 0, linkReconnects: 0 }],
      ['recorder-kill', { killSignal: 'SIGKILL', victimCaptures: 2, takeovers: 2, botRunsFailed: 3 }, { killSignal: 'SIGKILL', victimCaptures: 2, takeovers: 0, botRunsFailed: 3 }],
      ['pipeline-kill', { killSignal: 'SIGKILL', handoffsAfter: 4, redelivered: 1 }, { killSignal: 'SIGKILL', handoffsAfter: 0 }],
      ['upstream-restart', { killSignal: 'SIGKILL', botRunsFailed: 5 }, { killSignal: 'SIGKILL', botRunsFailed: 0 }],
    ];
    it.each(cases)('%s: an effect passes, no effect is a problem naming the fault', (fault, withEffect, without) => {
      expect(faultEffect(fault, withEffect).seen).toBe(true);
      const none = faultEffect(fault, without);
      expect(none.seen).toBe(false);
      expect(faultEffectProblems([{ fault, atS: 12.5, effect: faultEffect(fault, withEffect) }])).toEqual([]);
      const problems = faultEffectProblems([{ fault, atS: 12.5, effect: none }]);
      expect(problems).toEqual([`fault ${fault} at 12.5 s had no observed effect: ${none.evidence}`]);
    });

    it('covers every scripted fault, and nothing measured is no effect', () => {
      expect(cases.map((c) => c[0]).sort()).toEqual([...SOAK_FAULTS].sort());
      for (const fault of SOAK_FAULTS) expect(faultEffect(fault, {}).seen).toBe(false);
    });

    it('a kill that did not kill (the process exited otherwise, or was already gone) is no effect', () => {
      expect(faultEffect('pipeline-kill', { killSignal: null, handoffsAfter: 4 }).seen).toBe(false);
      expect(faultEffect('upstream-restart', { killSignal: null, botRunsFailed: 5 })).toEqual({ seen: false, evidence: 'simulator exited by no signal; 5 live bot runs failed with it' });
    });

    it('a recorder that held no captures shows its kill by the bot runs it cut', () => {
      expect(faultEffect('recorder-kill', { killSignal: 'SIGKILL', victimCaptures: 0, takeovers: 0, botRunsFailed: 2 }).seen).toBe(true);
      expect(faultEffect('recorder-kill', { killSignal: 'SIGKILL', victimCaptures: 0, takeovers: 0, botRunsFailed: 0 }).seen).toBe(false);
    });

    it('a recorder whose captures left no job in the queue (ended, or dropped by a Redis restart) shows its kill by the bot runs it cut', () => {
      expect(faultEffect('recorder-kill', { killSignal: 'SIGKILL', victimCaptures: 1, victimJobs: 0, takeovers: 0, botRunsFailed: 3 }).seen).toBe(true);
      expect(faultEffect('recorder-kill', { killSignal: 'SIGKILL', victimCaptures: 1, victimJobs: 1, takeovers: 0, botRunsFailed: 3 }).seen).toBe(false);
      expect(faultEffect('recorder-kill', { killSignal: 'SIGKILL', victimCaptures: 1, victimJobs: 1, takeovers: 1, botRunsFailed: 0 }).seen).toBe(true);
    });

    it('the stall counts from the lag before it: a lag already high is not an effect', () => {
      expect(faultEffect('network-stall', { stallMs: 3000, lagBeforeMs: 2500, lagMaxMs: 2900 }).seen).toBe(false);
      expect(faultEffect('network-stall', { stallMs: 3000, lagBeforeMs: 0, lagMaxMs: 0, journaledMax: 40 }).seen).toBe(true);
    });
  });

  describe('a run cut under the bot: what was in flight either way when the connection died was read by nobody', () => {
    const bot = { sent: [1, 2, 3, 4], received: [10, 11, 12], lastClose: 1006 as number | undefined };
    it('given a 1006, every received message stored and the sent ones but a tail, then that tail is unread (not lost)', () => {
      expect(cutTails(bot, { sent: [1, 2, 3], received: [10, 11, 12] })).toEqual({ unread: 1, unseen: 0 });
      expect(cutTails(bot, { sent: [1], received: [10, 11, 12] })).toEqual({ unread: 3, unseen: 0 });
    });
    it("given a 1006 and the platform's last messages stored after all the bot received (written to the leg being cut), then they are unseen (not extra), alone or with an unread tail", () => {
      expect(cutTails(bot, { sent: [1, 2, 3, 4], received: [10, 11, 12, 13] })).toEqual({ unread: 0, unseen: 1 });
      expect(cutTails(bot, { sent: [1, 2, 3], received: [10, 11, 12, 13, 14] })).toEqual({ unread: 1, unseen: 2 });
    });
    it('anything else is a mismatch: no 1006, a received message missing or different, a sent one missing before the end, one extra, or nothing in flight', () => {
      expect(cutTails({ ...bot, lastClose: 1000 }, { sent: [1, 2, 3], received: [10, 11, 12] })).toBeNull();
      expect(cutTails({ ...bot, lastClose: undefined }, { sent: [1, 2, 3], received: [10, 11, 12] })).toBeNull();
      expect(cutTails({ ...bot, lastClose: 1000 }, { sent: [1, 2, 3, 4], received: [10, 11, 12, 13] })).toBeNull();
      expect(cutTails(bot, { sent: [1, 2, 3], received: [10, 11] })).toBeNull();
      expect(cutTails(bot, { sent: [1, 2, 3], received: [10, 99, 12, 13] })).toBeNull();
      expect(cutTails(bot, { sent: [1, 3, 4], received: [10, 11, 12] })).toBeNull();
      expect(cutTails(bot, { sent: [1, 2, 3, 4, 5], received: [10, 11, 12] })).toBeNull();
      expect(cutTails(bot, { sent: [1, 2, 3, 4], received: [10, 11, 12] })).toBeNull();
    });
    it('names each close the bot saw and how long after its last message sent on that connection', () => {
      const e = (stream: string, direction: 'sent' | 'received', atMs: number, meta?: Record<string, unknown>) => ({
        stream,
        channel: 'ws' as const,
        direction,
        data: '',
        atMs,
        ...(meta ? { meta } : {}),
      });
      expect(wsCloseSummary([e('a', 'sent', 100), e('a', 'received', 500), e('a', 'received', 829, { event: 'close', code: 1006 }), e('b', 'received', 900, { event: 'close', code: 1000 })])).toBe(
        '1006 729 ms after its last sent, 1000',
      );
      expect(wsCloseSummary([])).toBe('none');
    });
  });

  describe('a scripted fault the system did not recover from fails the soak too', () => {
    it('a recovery looked for and not seen (NaN) is a problem naming the fault and what was awaited; seen, or not looked for, is none', () => {
      const upstream = { fault: 'upstream-restart' as const, atS: 28 };
      expect(faultRecoveryProblems([{ ...upstream, evidence: { recoveredMs: NaN, recovery: '3 bot runs completed after the restart' } }])).toEqual([
        'fault upstream-restart at 28 s: no recovery seen (3 bot runs completed after the restart did not happen within the wait)',
      ]);
      expect(faultRecoveryProblems([{ ...upstream, evidence: { recoveredMs: 11_719, recovery: '3 bot runs completed after the restart' } }])).toEqual([]);
      // A recorder that held no captures has nothing to take over: its recovery is not looked for.
      expect(faultRecoveryProblems([{ fault: 'recorder-kill', atS: 17, evidence: { killSignal: 'SIGKILL', victimCaptures: 0 } }])).toEqual([]);
    });

    it('runs that must complete after a platform restart: 5, or half the slots of a small soak, at least 1', () => {
      expect([1, 2, 6, 9, 10, 20, 1000].map(runsToRecover)).toEqual([1, 1, 3, 5, 5, 5, 5]);
    });
  });
});
