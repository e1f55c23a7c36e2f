import { auditChains, auditOutbox, auditRewardHandoff, auditSnapshotStored, auditStoredOutcomes, sameJson } from './common';
import { auditRun, pipelinePending } from './audit';
import { httpReq, httpRes, marker, outboxRow, outcomeEvent, run, stream, wsIn } from '@rewind/platforms/test-support';
import type { RunEvidence } from './types';

const OUTCOME = { platform: 'cloudplay', game: 'the-aleph', platformSessionId: 'ses1', agent: 'a', reason: 'stopped', duration: 14 };

/** A cloud-play-like run with its outcome, outbox rows and a handed-off reward, all consistent. */
function consistentRun(): RunEvidence {
  const proxy = stream('proxy', [wsIn({ any: 1 }), outcomeEvent(OUTCOME)], { outcomeColumn: OUTCOME });
  const payload = { sessionId: proxy.sessionId, platform: 'cloudplay', game: 'the-aleph', platformSessionId: 'ses1', agent: 'a', source: null, outcome: OUTCOME };
  const sent = { runSessionId: proxy.sessionId, platform: 'cloudplay', game: 'the-aleph', platformSessionId: 'ses1', agent: 'a', source: null, outcome: OUTCOME };
  const result = { status: 'handed-off', httpStatus: 201, receiptId: 'rh_1', duplicate: false };
  const reward = stream(
    'reward-handoff',
    [marker('attempt', { attempt: 1, of: 8 }), httpReq('POST', '/rewards/handoffs', sent), httpRes('POST', '/rewards/handoffs', 201, { id: 'rh_1', duplicate: false }), marker('result', result)],
    { outcomeColumn: result },
  );
  const skipped = { status: 'skipped', reason: 'no snapshot endpoint for cloudplay' };
  const snapshot = stream('snapshot-submission', [marker('attempt', { attempt: 1, of: 8 }), marker('result', skipped)], { outcomeColumn: skipped });
  return run({ platform: 'cloudplay', platformSessionId: 'ses1', outbox: [outboxRow('snapshot-submission', payload), outboxRow('reward-handoff', payload)] }, [proxy, reward, snapshot]);
}

const statuses = (findings: { check: string; status: string }[]) => findings.map((f) => `${f.check}:${f.status}`);

describe('the checks every run gets', () => {
  it('given JSON with keys in another order, then sameJson holds; given a changed value, then not', () => {
    expect(sameJson({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(sameJson({ a: 1, b: [1, { c: 2 }] }, { a: 1, b: [1, { c: 3 }] })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
  });

  it('given a consistent run, then every common check is ok', () => {
    const r = consistentRun();
    const findings = [...auditChains(r), ...auditStoredOutcomes(r), ...auditOutbox(r), ...auditRewardHandoff(r), ...auditSnapshotStored(r)];
    expect(findings.filter((f) => f.status !== 'ok')).toEqual([]);
    expect(new Set(findings.map((f) => f.check))).toEqual(
      new Set(['chain', 'outcome.stored', 'pipeline.outbox', 'pipeline.reward', 'pipeline.reward-stored', 'pipeline.reward-body', 'pipeline.snapshot-stored']),
    );
  });

  it('given a stream whose chain broke at seq 2, then the chain finding is a mismatch naming the stream and seq', () => {
    const r = consistentRun();
    const s = r.streams[0]!;
    s.chain = { ...s.chain, ok: false, firstBreak: { reason: 'hash_mismatch', seq: 2, message: 'seq 2: stored hash … (edited, reordered or moved)' } };
    expect(auditChains(r)[0]).toMatchObject({ check: 'chain', status: 'mismatch', found: 'hash_mismatch', at: { sessionId: s.sessionId, seq: 2 } });
  });

  it('given sessions.outcome edited, then outcome.stored is a mismatch with the chained value expected', () => {
    const r = consistentRun();
    r.streams[0]!.outcomeColumn = { ...OUTCOME, duration: 99 };
    expect(auditStoredOutcomes(r)[0]).toMatchObject({ status: 'mismatch', expected: OUTCOME, found: { duration: 99 }, at: { seq: 2 } });
  });

  it('given an outbox payload whose outcome differs from the outcome event, then pipeline.outbox is a mismatch for that queue', () => {
    const r = consistentRun();
    r.outbox[1]!.payload = { ...r.outbox[1]!.payload, outcome: { ...OUTCOME, duration: 1 } };
    expect(statuses(auditOutbox(r))).toEqual(['pipeline.outbox:ok', 'pipeline.outbox:mismatch']);
  });

  it('given a handoff that sent another outcome than recorded, then pipeline.reward-body is a mismatch at the request', () => {
    const r = consistentRun();
    const req = r.streams[1]!.events[1]!;
    req.body = JSON.stringify({ ...JSON.parse(req.body!), outcome: { ...OUTCOME, duration: 140 } });
    expect(auditRewardHandoff(r).find((f) => f.check === 'pipeline.reward-body')).toMatchObject({ status: 'mismatch', at: { seq: 2 }, found: { duration: 140 } });
  });

  it('given a dead-lettered handoff, then pipeline.reward is a mismatch with the error; given none yet, then unverifiable', () => {
    const r = consistentRun();
    r.streams[1] = stream('reward-handoff', [marker('attempt', { attempt: 1, of: 1 }), marker('dead-letter', { error: 'refused: 422', attempt: 1 })]);
    expect(auditRewardHandoff(r)[0]).toMatchObject({ status: 'mismatch', expected: 'handed-off', found: 'dead-letter', detail: expect.stringContaining('refused: 422') });
    r.streams.splice(1, 1);
    expect(auditRewardHandoff(r)).toEqual([expect.objectContaining({ check: 'pipeline.reward', status: 'unverifiable' })]);
  });

  it('given the rewards pipeline holding another body for the receipt, then pipeline.reward-receipt is a mismatch; unreachable → unverifiable', () => {
    const r = consistentRun();
    const sent = JSON.parse(r.streams[1]!.events[1]!.body!) as Record<string, unknown>;
    r.receipts = [{ receiptId: 'rh_1', body: sent }];
    expect(auditRewardHandoff(r).find((f) => f.check === 'pipeline.reward-receipt')?.status).toBe('ok');
    r.receipts = [{ receiptId: 'rh_1', body: { ...sent, outcome: { ...OUTCOME, duration: 15 } } }];
    expect(auditRewardHandoff(r).find((f) => f.check === 'pipeline.reward-receipt')).toMatchObject({ status: 'mismatch', subject: 'rh_1' });
    r.receipts = [{ receiptId: 'rh_1', body: null, error: 'connect ECONNREFUSED' }];
    expect(auditRewardHandoff(r).find((f) => f.check === 'pipeline.reward-receipt')).toMatchObject({ status: 'unverifiable', detail: expect.stringContaining('ECONNREFUSED') });
  });

  it('given two handoff jobs with different receipts, then pipeline.reward-once is a mismatch', () => {
    const r = consistentRun();
    const second = structuredClone(r.streams[1]!);
    second.sessionId = '00000000-0000-4000-8000-00000000ffff';
    const result = { status: 'handed-off', httpStatus: 201, receiptId: 'rh_2', duplicate: false };
    second.events[3]!.body = JSON.stringify(result);
    second.outcomeColumn = result;
    r.streams.push(second);
    expect(auditRewardHandoff(r).find((f) => f.check === 'pipeline.reward-once')).toMatchObject({ status: 'mismatch', expected: 1, found: 2 });
  });

  it('given a job whose stored result was edited, then the *-stored check is a mismatch', () => {
    const r = consistentRun();
    r.streams[2]!.outcomeColumn = { status: 'submitted' };
    expect(auditSnapshotStored(r)[0]).toMatchObject({ check: 'pipeline.snapshot-stored', status: 'mismatch', found: { status: 'submitted' } });
  });

  it('given the snapshot job has no result yet, then the pipeline is pending; once it has, it is not', () => {
    const r = consistentRun();
    expect(pipelinePending(r)).toBe(false);
    r.streams[2] = stream('snapshot-submission', [marker('attempt', { attempt: 1, of: 8 }), marker('attempt-failed', { error: 'x' })]);
    expect(pipelinePending(r)).toBe(true);
  });

  it('given a job that wrote its result but has not ended its stream yet, then the pipeline is pending and *-stored is unverifiable, not a mismatch', () => {
    const r = consistentRun();
    r.streams[1] = { ...r.streams[1]!, status: 'open', outcomeColumn: null };
    expect(pipelinePending(r)).toBe(true);
    expect(auditRewardHandoff(r).find((f) => f.check === 'pipeline.reward-stored')).toMatchObject({ status: 'unverifiable', detail: expect.stringContaining('not ended its stream yet') });
  });

  it('given a mismatch anywhere, then the run audit is mismatch and lists mismatches first', () => {
    const r = consistentRun();
    r.streams[0]!.outcomeColumn = null;
    const a = auditRun(r);
    expect(a.status).toBe('mismatch');
    expect(a.findings[0]).toMatchObject({ check: 'outcome.stored', status: 'mismatch' });
  });
});
