import { asNumber, asObject, asString, jsonObject, metaOf, refOf } from '../evidence/json';
import type { EvidenceEvent, EvidenceStream, Finding, RunEvidence } from '../evidence/types';

/**
 * MoltStation audit: the run's outcome recomputed from the frames each recorder stream (the proxy's play
 * socket, the spectator's socket) recorded, compared with that stream's `outcome` event, with the other
 * stream, with what the platform published (session detail, snapshot) and with the snapshot pipeline.
 */

interface Frame {
  ev: EvidenceEvent;
  tick: number | null;
  phase: string | null;
  score: number | null;
  lives: number | null;
  gameOverReason: string | null;
}

/** What one recorder stream saw: its frames, the final (`phase:"ended"`) frame, its last close, its outcome. */
interface Capture {
  stream: EvidenceStream;
  frames: Frame[];
  final: Frame | undefined;
  /** Why the recorded frames may not be the whole run (a capture gap, missing ticks, no final frame), or undefined. */
  hole: string | undefined;
  close: { ev: EvidenceEvent; reason: string } | undefined;
  outcome: EvidenceEvent | undefined;
}

const OUTCOME_FIELDS = ['score', 'lives', 'phase', 'tick', 'gameOverReason', 'reason'] as const;
const SESSION_DETAIL = /^GET \/api\/games\/[^/]+\/sessions\/([^/?]+)$/;
const SESSION_START = /^POST \/api\/games\/[^/]+\/sessions\/start$/;
const SNAPSHOT = 'POST /api/rewards/snapshot';

/** A score as frames and views carry it: a number or `{current, high}`. */
const scoreOf = (v: unknown): number | null => asNumber(v) ?? asNumber(asObject(v)?.['current']) ?? null;
const label = (s: EvidenceStream): string => `${s.role} ${s.sessionId}`;
const okResponse = (e: EvidenceEvent, msgType: (t: string) => boolean): boolean => e.kind === 'response' && msgType(e.msgType ?? '') && metaOf(e)['status'] === 200;

function frameOf(ev: EvidenceEvent): Frame | undefined {
  if (ev.kind !== 'frame' || ev.direction !== 'platform_to_client') return undefined;
  const msg = jsonObject(ev);
  const f = msg?.['t'] === 'frame' ? asObject(msg['frame']) : undefined;
  if (!f) return undefined;
  return {
    ev,
    tick: asNumber(f['tick']) ?? null,
    phase: asString(f['phase']) ?? null,
    score: scoreOf(f['score']),
    lives: asNumber(f['lives']) ?? null,
    gameOverReason: asString(f['gameOverReason']) ?? null,
  };
}

function capture(stream: EvidenceStream): Capture {
  const frames = stream.events.map(frameOf).filter((f): f is Frame => f !== undefined);
  const final = frames.filter((f) => f.phase === 'ended').at(-1);
  const closeEv = stream.events.filter((e) => e.kind === 'lifecycle' && e.msgType === 'ws-close').at(-1);
  const gap = stream.events.find((e) => e.kind === 'gap' && e.seq < (final?.ev.seq ?? Infinity));
  const first = frames[0];
  const jump = frames.find((f, i) => {
    const prev = frames[i - 1]?.tick;
    return typeof prev === 'number' && f.tick !== null && f.tick > prev + 1;
  });
  const hole = gap
    ? `the capture has a gap at seq ${gap.seq}`
    : first && first.tick !== null && first.tick > 0
      ? `the first frame recorded is tick ${first.tick} (seq ${first.ev.seq})`
      : jump
        ? `frames are missing before tick ${jump.tick} (seq ${jump.ev.seq})`
        : undefined;
  return {
    stream,
    frames,
    final,
    hole: final ? hole : `no final frame recorded${hole ? `: ${hole}` : frames.length ? ` (the last is tick ${frames.at(-1)?.tick}, seq ${frames.at(-1)?.ev.seq})` : ''}`,
    close: closeEv ? { ev: closeEv, reason: asString(metaOf(closeEv)['reason']) ?? '' } : undefined,
    outcome: stream.events.find((e) => e.kind === 'outcome'),
  };
}

/** How the recorder names the end: the proxy's close reason as sent (empty → `ended`); the spectator's lower-cased, `game_over` after a final frame. */
function expectedReason(c: Capture): { value: string } | { why: string } {
  if (!c.close) return { why: 'no close recorded' };
  if (c.stream.role === 'proxy') return { value: c.close.reason || 'ended' };
  if (c.close.reason === 'GAME_OVER' || c.close.reason === 'EXIT') return { value: c.close.reason.toLowerCase() };
  return c.final ? { value: 'game_over' } : { why: `the last close (${c.close.reason || 'no reason'}, seq ${c.close.ev.seq}) does not say how the run ended` };
}

function outcomeFindings(c: Capture): Finding[] {
  const subject = label(c.stream);
  if (!c.outcome) return [{ check: 'moltstation.outcome', status: 'unverifiable', subject, detail: 'the stream has no outcome event' }];
  const body = jsonObject(c.outcome) ?? {};
  const at = refOf(c.outcome);
  return OUTCOME_FIELDS.map((field): Finding => {
    const check = `moltstation.outcome.${field}`;
    const ref = field === 'reason' ? expectedReason(c) : c.final ? { value: c.final[field] } : { why: c.hole ?? 'no final frame recorded' };
    if ('why' in ref) return { check, status: 'unverifiable', subject, detail: ref.why };
    const norm = (v: unknown): unknown => (field === 'reason' && typeof v === 'string' ? v.toLowerCase() : (v ?? null));
    const found = body[field] ?? null;
    const source = field === 'reason' ? `the close (seq ${c.close?.ev.seq})` : `the final frame (seq ${c.final?.ev.seq})`;
    return norm(ref.value) === norm(found)
      ? { check, status: 'ok', subject, detail: `${field} ${JSON.stringify(found)}: ${source} and the outcome event agree`, at }
      : { check, status: 'mismatch', subject, expected: ref.value, found, detail: `${source} says ${field} ${JSON.stringify(ref.value)}, the outcome event ${JSON.stringify(found)}`, at };
  });
}

function streamsAgree(proxy: Capture, spectator: Capture): Finding {
  const check = 'moltstation.streams-agree';
  const [p, s] = [proxy.final, spectator.final];
  if (!p || !s) return { check, status: 'unverifiable', detail: `${label((p ? spectator : proxy).stream)}: ${(p ? spectator : proxy).hole}` };
  const pick = (f: Frame) => ({ score: f.score, tick: f.tick, phase: f.phase });
  const names = `${label(proxy.stream)} (seq ${p.ev.seq}) and ${label(spectator.stream)} (seq ${s.ev.seq})`;
  return JSON.stringify(pick(p)) === JSON.stringify(pick(s))
    ? { check, status: 'ok', detail: `the final frames of ${names} agree: score ${p.score}, tick ${p.tick}, phase ${p.phase}` }
    : { check, status: 'mismatch', expected: pick(p), found: pick(s), detail: `the final frames of ${names} differ`, at: refOf(s.ev) };
}

/**
 * A per-frame invariant over every recorder stream: the first frame breaking it is a mismatch; else ok when
 * at least one stream recorded the whole run, else unverifiable (a violation may hide in the missing frames).
 */
function invariant(check: string, caps: Capture[], value: (f: Frame) => number | null, broken: (prev: number, cur: number) => boolean, what: string): Finding[] {
  const seen = caps.filter((c) => c.frames.some((f) => value(f) !== null));
  if (!seen.length) return [];
  for (const c of seen) {
    const vals = c.frames.filter((f) => value(f) !== null);
    const i = vals.findIndex((f, k) => k > 0 && broken(value(vals[k - 1] as Frame) as number, value(f) as number));
    const [prev, cur] = [vals[i - 1], vals[i]];
    if (prev && cur)
      return [
        {
          check,
          status: 'mismatch',
          subject: label(c.stream),
          expected: value(prev),
          found: value(cur),
          detail: `${what}: ${value(prev)} at tick ${prev.tick} (seq ${prev.ev.seq}), ${value(cur)} at tick ${cur.tick} (seq ${cur.ev.seq})`,
          at: refOf(cur.ev),
        },
      ];
  }
  const whole = seen.find((c) => !c.hole);
  return [
    whole
      ? { check, status: 'ok', subject: label(whole.stream), detail: `${whole.frames.length} frames, from tick ${whole.frames[0]?.tick} to the final frame` }
      : { check, status: 'unverifiable', detail: seen.map((c) => `${label(c.stream)}: ${c.hole}`).join('; ') },
  ];
}

/** Scores the platform published for the session (an ended session's detail view, snapshot answers) vs the recomputed final score. */
function publishedScores(run: RunEvidence, final: Frame | undefined, why: string): Finding[] {
  const check = 'moltstation.published-score';
  const isDetail = (t: string): boolean => {
    const id = SESSION_DETAIL.exec(t)?.[1];
    return id !== undefined && !['live', 'my', 'high-score', 'start'].includes(id) && (!run.platformSessionId || id === run.platformSessionId);
  };
  const published = run.streams.flatMap((s) =>
    s.events
      .filter((e) => (okResponse(e, isDetail) && jsonObject(e)?.['status'] === 'ended') || okResponse(e, (t) => t === SNAPSHOT))
      .map((e) => ({ e, what: `${e.msgType === SNAPSHOT ? 'snapshot' : 'session detail'} (${label(s)})`, score: scoreOf(jsonObject(e)?.['score']) })),
  );
  return published.map(({ e, what, score }): Finding => {
    if (!final) return { check, status: 'unverifiable', subject: what, found: score, detail: why, at: refOf(e) };
    return score === final.score
      ? { check, status: 'ok', subject: what, detail: `published score ${score} equals the final frame's (seq ${final.ev.seq})`, at: refOf(e) }
      : {
          check,
          status: 'mismatch',
          subject: what,
          expected: final.score,
          found: score,
          detail: `the platform published score ${score}, the final frame (seq ${final.ev.seq}) says ${final.score}`,
          at: refOf(e),
        };
  });
}

/** An agent_api run must end snapshotted (by the pipeline or by the agent itself); a practice run must not. */
function snapshotFinding(run: RunEvidence, recorder: EvidenceStream[], ended: boolean): Finding {
  const check = 'moltstation.snapshot';
  const bodies = (streams: EvidenceStream[], match: (t: string) => boolean) => streams.flatMap((s) => s.events.filter((e) => okResponse(e, match)).map((e) => ({ s, e, body: jsonObject(e) ?? {} })));
  const start = bodies(recorder, (t) => SESSION_START.test(t))[0];
  const detail = bodies(run.streams, (t) => SESSION_DETAIL.test(t)).find((d) => typeof d.body['source'] === 'string');
  const source = run.source ?? asString(start?.body['source']) ?? asString(detail?.body['source']) ?? null;
  const jobs = run.streams.filter((s) => s.role === 'snapshot-submission');
  const resultEv = jobs.flatMap((s) => s.events.filter((e) => e.kind === 'marker' && (e.msgType === 'result' || e.msgType === 'dead-letter'))).at(-1);
  const result = resultEv ? (jsonObject(resultEv) ?? {}) : undefined;
  const status = resultEv?.msgType === 'dead-letter' ? 'dead-letter' : asString(result?.['status']);
  const outcome = `${status}${result?.['reason'] ? ` (${String(result['reason'])})` : ''}`;
  const agent = bodies(recorder, (t) => t === SNAPSHOT)[0];
  const by = agent
    ? `the agent (its ${SNAPSHOT} answered 200, ${label(agent.s)} seq ${agent.e.seq})`
    : status === 'submitted' || status === 'already-snapshotted'
      ? `the pipeline (${status})`
      : undefined;
  const at = agent ? refOf(agent.e) : resultEv ? refOf(resultEv) : undefined;
  if (!source) return { check, status: 'unverifiable', detail: 'the run source is unknown: no start call or session detail recorded' };
  if (source === 'agent_api') {
    if (by) return { check, status: 'ok', detail: `an agent_api run, snapshotted by ${by}${agent && status ? `; the pipeline's result: ${outcome}` : ''}`, ...(at ? { at } : {}) };
    if (!resultEv) return { check, status: 'unverifiable', detail: 'an agent_api run without a snapshot: no snapshot result recorded (yet)' };
    // Only an ended session can be snapshotted: a run cut short (the capture or the platform went away) is no mismatch.
    if (!ended)
      return { check, status: 'unverifiable', detail: `an agent_api run that did not end in any recorded stream (no final frame): not snapshotted (pipeline: ${outcome})`, at: refOf(resultEv) };
    return { check, status: 'mismatch', expected: 'snapshotted', found: outcome, detail: `an agent_api run was not snapshotted: the pipeline's result is ${outcome}`, at: refOf(resultEv) };
  }
  if (by) return { check, status: 'mismatch', expected: 'not snapshotted', found: `snapshotted by ${by}`, detail: `a ${source} run is practice but was snapshotted by ${by}`, ...(at ? { at } : {}) };
  if (!resultEv) return { check, status: 'unverifiable', detail: `a ${source} run: no snapshot result recorded (yet)` };
  return { check, status: 'ok', detail: `a ${source} run is practice: not snapshotted (pipeline: ${outcome})`, at: refOf(resultEv) };
}

/**
 * Audits a MoltStation run: per recorder stream the outcome event vs the final frame and close
 * (`moltstation.outcome.<field>`), proxy vs spectator final frames (`moltstation.streams-agree`), lives and
 * score over the frames (`moltstation.lives`, `moltstation.score-monotonic`), published scores
 * (`moltstation.published-score`) and whether the run was snapshotted as its source requires
 * (`moltstation.snapshot`). Pure; no chain or outbox checks (done elsewhere).
 */
export function auditMoltStation(run: RunEvidence): Finding[] {
  const recorder = run.streams.filter((s) => s.role === 'proxy' || s.role === 'spectator');
  const caps = recorder.map(capture);
  const proxy = caps.find((c) => c.stream.role === 'proxy');
  const spectator = caps.find((c) => c.stream.role === 'spectator');
  const reference = [proxy, spectator].find((c) => c?.final);
  return [
    ...caps.flatMap(outcomeFindings),
    ...(proxy && spectator ? [streamsAgree(proxy, spectator)] : []),
    ...invariant(
      'moltstation.lives',
      caps,
      (f) => f.lives,
      (prev, cur) => cur > prev,
      'lives increased',
    ),
    ...invariant(
      'moltstation.score-monotonic',
      caps,
      (f) => f.score,
      (prev, cur) => cur < prev,
      'score decreased',
    ),
    ...publishedScores(run, reference?.final, caps.map((c) => `${label(c.stream)}: ${c.hole}`).join('; ') || 'no recorder stream'),
    snapshotFinding(run, recorder, reference !== undefined),
  ];
}
