import { asObject, asString, jsonObject, refOf } from './json';
import type { EvidenceEvent, EvidenceStream, Finding, RunEvidence } from './types';

/**
 * The checks every platform's run gets: each stream's hash chain, the stored outcome against the chained
 * outcome event, and what the pipeline was given and handed off against that outcome.
 */

/** JSON values equal regardless of object key order (jsonb reorders keys). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  const oa = asObject(a);
  const ob = asObject(b);
  if (!oa || !ob) return false;
  const ka = Object.keys(oa).filter((k) => oa[k] !== undefined);
  const kb = Object.keys(ob).filter((k) => ob[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => k in ob && sameJson(oa[k], ob[k]));
}

const label = (s: EvidenceStream): string => `${s.role} stream ${s.sessionId}`;
const recorderStreams = (run: RunEvidence) => run.streams.filter((s) => s.stream !== 'pipeline');
const lastOf = (s: EvidenceStream, p: (e: EvidenceEvent) => boolean): EvidenceEvent | undefined => [...s.events].reverse().find(p);

/** `chain`: every stream's hash chain, head and seal; a break names the stream and the first bad seq. */
export function auditChains(run: RunEvidence): Finding[] {
  return run.streams.map((s): Finding => {
    const b = s.chain.firstBreak;
    if (!b) return { check: 'chain', status: 'ok', subject: s.sessionId, detail: `${label(s)}: ${s.chain.eventsChecked} events chained${s.chain.sealed ? ', seal holds' : ''}` };
    return {
      check: 'chain',
      status: 'mismatch',
      subject: s.sessionId,
      expected: 'an intact chain',
      found: b.reason,
      at: { sessionId: s.sessionId, seq: b.seq },
      detail: `${label(s)}, seq ${b.seq}: ${b.message}`,
    };
  });
}

/** `outcome.stored`: a recorder stream's sessions.outcome equals its chained `outcome` event. */
export function auditStoredOutcomes(run: RunEvidence): Finding[] {
  const out: Finding[] = [];
  for (const s of recorderStreams(run)) {
    const e = lastOf(s, (x) => x.kind === 'outcome');
    if (!e) {
      if (s.status !== 'open') out.push({ check: 'outcome.stored', status: 'unverifiable', subject: s.sessionId, detail: `${label(s)} ended without an outcome event (${s.events.length} events)` });
      continue;
    }
    const event = jsonObject(e);
    out.push(
      sameJson(event, s.outcomeColumn)
        ? { check: 'outcome.stored', status: 'ok', subject: s.sessionId, detail: `${label(s)}: sessions.outcome equals the outcome event (seq ${e.seq})`, at: refOf(e) }
        : {
            check: 'outcome.stored',
            status: 'mismatch',
            subject: s.sessionId,
            expected: event,
            found: s.outcomeColumn,
            at: refOf(e),
            detail: `${label(s)}: sessions.outcome differs from the chained outcome event at seq ${e.seq}`,
          },
    );
  }
  return out;
}

/** The outcome event of the run's stream (what the pipeline was given), if recorded. */
function runOutcome(run: RunEvidence): { event: EvidenceEvent; outcome: Record<string, unknown> | undefined } | undefined {
  const s = run.streams.find((x) => x.sessionId === run.runSessionId);
  const event = s && lastOf(s, (x) => x.kind === 'outcome');
  return event ? { event, outcome: jsonObject(event) } : undefined;
}

/** `pipeline.outbox`: each outbox row carries the run's chained outcome, unaltered. */
export function auditOutbox(run: RunEvidence): Finding[] {
  const ref = runOutcome(run);
  if (run.outbox.length === 0) return [{ check: 'pipeline.outbox', status: 'unverifiable', detail: 'no outbox rows: the run has not ended (or its streams ended without an outcome)' }];
  return run.outbox.map((o): Finding => {
    if (!ref) return { check: 'pipeline.outbox', status: 'unverifiable', subject: o.queue, detail: `outbox row ${o.id}: the run stream's outcome event is missing` };
    const ok = sameJson(o.payload['outcome'], ref.outcome) && o.payload['sessionId'] === run.runSessionId;
    return ok
      ? { check: 'pipeline.outbox', status: 'ok', subject: o.queue, detail: `outbox row ${o.id} (${o.queue}) carries the outcome event at seq ${ref.event.seq}` }
      : {
          check: 'pipeline.outbox',
          status: 'mismatch',
          subject: o.queue,
          expected: ref.outcome,
          found: o.payload['outcome'],
          at: refOf(ref.event),
          detail: `outbox row ${o.id} (${o.queue}) differs from the chained outcome event at seq ${ref.event.seq}`,
        };
  });
}

/** The request body and result of a pipeline job stream's last attempt. */
function lastAttempt(s: EvidenceStream) {
  const result = lastOf(s, (e) => e.kind === 'marker' && e.msgType === 'result');
  const dead = lastOf(s, (e) => e.kind === 'marker' && e.msgType === 'dead-letter');
  const request = lastOf(s, (e) => e.kind === 'request');
  const response = lastOf(s, (e) => e.kind === 'response');
  return { result, resultBody: result && jsonObject(result), dead, request, response };
}

/**
 * Reward handoff: `pipeline.reward` (handed off, or why not), `pipeline.reward-body` (what was sent is the
 * run's outcome), `pipeline.reward-stored` (the job's sessions.outcome is its result marker),
 * `pipeline.reward-once` (one receipt per run), `pipeline.reward-receipt` (what the rewards pipeline holds
 * is what was sent, when it could be asked).
 */
export function auditRewardHandoff(run: RunEvidence): Finding[] {
  const jobs = run.streams.filter((s) => s.role === 'reward-handoff');
  if (jobs.length === 0) return [{ check: 'pipeline.reward', status: 'unverifiable', detail: 'no reward handoff recorded (the job has not run yet, or the run did not end)' }];
  const out: Finding[] = [];
  const ref = runOutcome(run);
  const receipts = new Set<string>();
  for (const s of jobs) {
    const a = lastAttempt(s);
    if (!a.result) {
      out.push(
        a.dead
          ? {
              check: 'pipeline.reward',
              status: 'mismatch',
              subject: s.sessionId,
              expected: 'handed-off',
              found: 'dead-letter',
              at: refOf(a.dead),
              detail: `${label(s)}: dead-lettered: ${asString(jsonObject(a.dead)?.['error']) ?? 'no reason recorded'}`,
            }
          : { check: 'pipeline.reward', status: 'unverifiable', subject: s.sessionId, detail: `${label(s)}: no result yet (${s.events.length} events)` },
      );
      continue;
    }
    const receiptId = asString(a.resultBody?.['receiptId']);
    if (receiptId) receipts.add(receiptId);
    out.push({
      check: 'pipeline.reward',
      status: a.resultBody?.['status'] === 'handed-off' ? 'ok' : 'mismatch',
      subject: s.sessionId,
      expected: 'handed-off',
      found: a.resultBody?.['status'],
      at: refOf(a.result),
      detail: `${label(s)}: ${String(a.resultBody?.['status'])}${receiptId ? `, receipt ${receiptId}` : ''}`,
    });
    out.push(
      s.status === 'open'
        ? {
            check: 'pipeline.reward-stored',
            status: 'unverifiable',
            subject: s.sessionId,
            detail: `${label(s)}: the job has not ended its stream yet (its result is not stored in sessions.outcome yet)`,
          }
        : sameJson(a.resultBody, s.outcomeColumn)
          ? { check: 'pipeline.reward-stored', status: 'ok', subject: s.sessionId, detail: `${label(s)}: sessions.outcome equals the result marker` }
          : {
              check: 'pipeline.reward-stored',
              status: 'mismatch',
              subject: s.sessionId,
              expected: a.resultBody,
              found: s.outcomeColumn,
              at: refOf(a.result),
              detail: `${label(s)}: sessions.outcome differs from the chained result at seq ${a.result.seq}`,
            },
    );
    const sent = a.request ? jsonObject(a.request) : undefined;
    if (!a.request || !sent) out.push({ check: 'pipeline.reward-body', status: 'unverifiable', subject: s.sessionId, detail: `${label(s)}: the handoff request body is not recorded` });
    else if (!ref) out.push({ check: 'pipeline.reward-body', status: 'unverifiable', subject: s.sessionId, detail: `${label(s)}: the run stream's outcome event is missing` });
    else
      out.push(
        sameJson(sent['outcome'], ref.outcome) && sent['runSessionId'] === run.runSessionId
          ? {
              check: 'pipeline.reward-body',
              status: 'ok',
              subject: s.sessionId,
              at: refOf(a.request),
              detail: `${label(s)}: the handed-off outcome (seq ${a.request.seq}) is the run's outcome event (seq ${ref.event.seq})`,
            }
          : {
              check: 'pipeline.reward-body',
              status: 'mismatch',
              subject: s.sessionId,
              expected: ref.outcome,
              found: sent['outcome'],
              at: refOf(a.request),
              detail: `${label(s)}: the handed-off outcome (seq ${a.request.seq}) differs from the run's outcome event (${ref.event.sessionId} seq ${ref.event.seq})`,
            },
      );
    const receipt = receiptId && run.receipts?.find((r) => r.receiptId === receiptId);
    if (receipt && sent)
      out.push(
        receipt.error
          ? { check: 'pipeline.reward-receipt', status: 'unverifiable', subject: receiptId, detail: `receipt ${receiptId}: the rewards pipeline could not be asked: ${receipt.error}` }
          : sameJson(receipt.body, sent)
            ? { check: 'pipeline.reward-receipt', status: 'ok', subject: receiptId, detail: `receipt ${receiptId}: the rewards pipeline holds what was sent` }
            : {
                check: 'pipeline.reward-receipt',
                status: 'mismatch',
                subject: receiptId,
                expected: sent,
                found: receipt.body,
                at: a.request ? refOf(a.request) : undefined,
                detail: `receipt ${receiptId}: the rewards pipeline holds something else than the recorded handoff`,
              },
      );
  }
  if (receipts.size > 1)
    out.push({ check: 'pipeline.reward-once', status: 'mismatch', expected: 1, found: receipts.size, detail: `the run was handed off ${receipts.size} times: ${[...receipts].join(', ')}` });
  return out;
}

/** `pipeline.snapshot-stored`: the snapshot job's sessions.outcome equals its chained result marker. */
export function auditSnapshotStored(run: RunEvidence): Finding[] {
  return run.streams
    .filter((s) => s.role === 'snapshot-submission')
    .flatMap((s): Finding[] => {
      const { result, resultBody } = lastAttempt(s);
      if (!result) return [];
      return [
        s.status === 'open'
          ? {
              check: 'pipeline.snapshot-stored',
              status: 'unverifiable',
              subject: s.sessionId,
              detail: `${label(s)}: the job has not ended its stream yet (its result is not stored in sessions.outcome yet)`,
            }
          : sameJson(resultBody, s.outcomeColumn)
            ? { check: 'pipeline.snapshot-stored', status: 'ok', subject: s.sessionId, detail: `${label(s)}: sessions.outcome equals the result marker` }
            : {
                check: 'pipeline.snapshot-stored',
                status: 'mismatch',
                subject: s.sessionId,
                expected: resultBody,
                found: s.outcomeColumn,
                at: refOf(result),
                detail: `${label(s)}: sessions.outcome differs from the chained result at seq ${result.seq}`,
              },
      ];
    });
}
