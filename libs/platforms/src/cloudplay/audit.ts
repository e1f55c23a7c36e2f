import { asNumber, asString, jsonObject, metaOf, refOf } from '../evidence/json';
import type { EvidenceEvent, EvidenceStream, Finding, RunEvidence } from '../evidence/types';

/**
 * Cloud-play audit: the stop statistics, the reported duration and the session's life cycle recomputed
 * from the recorded Sessions API traffic (the agent's calls through the proxy, the poller's status reads
 * and its `status-transition` markers).
 */

const LAUNCH = 'POST /api/game/launch';
const STATUS = 'GET /api/game/session-status';
const STOP = 'POST /api/game/stop';
const STATS = ['duration', 'cpuSeconds', 'peakMemoryMb'] as const;

/** Life-cycle order; `error` only follows `starting`, and only `stopped` (a stop) follows `error`. */
const RANK: Record<string, number> = { starting: 0, running: 1, stopping: 2, error: 3, stopped: 4 };

const status2xx = (e: EvidenceEvent): boolean => {
  const s = asNumber(metaOf(e)['status']);
  return s !== undefined && s >= 200 && s < 300;
};
const responses = (streams: EvidenceStream[], msgType: string): EvidenceEvent[] => streams.flatMap((s) => s.events.filter((e) => e.kind === 'response' && e.msgType === msgType && status2xx(e)));
const iso = (ms: number): string => new Date(ms).toISOString();

/** The HTTP `Date` header of a recorded response (meta.headers as `[name, value]` pairs or an object), in ms. */
function dateHeader(e: EvidenceEvent): number | undefined {
  const h = metaOf(e)['headers'];
  const pairs: unknown[] = Array.isArray(h) ? h : h && typeof h === 'object' ? Object.entries(h) : [];
  const hit = pairs.find((p): p is [string, string] => Array.isArray(p) && String(p[0]).toLowerCase() === 'date' && typeof p[1] === 'string');
  const ms = hit ? Date.parse(hit[1]) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/** A session status the event shows: a launch/status/stop answer's `status`, a poller marker's `to`. */
function observedStatus(e: EvidenceEvent): string | undefined {
  if (e.kind === 'marker' && e.msgType === 'status-transition') return asString(jsonObject(e)?.['to']);
  if (e.kind === 'response' && (e.msgType === LAUNCH || e.msgType === STATUS || e.msgType === STOP) && status2xx(e)) return asString(jsonObject(e)?.['status']);
  return undefined;
}

function stopStats(stop: EvidenceEvent, recorder: EvidenceStream[]): Finding {
  const check = 'cloudplay.stop-stats';
  const outcomes = recorder.flatMap((s) => s.events.filter((e) => e.kind === 'outcome'));
  const outcome = outcomes.find((e) => e.sessionId === stop.sessionId) ?? outcomes.find((e) => jsonObject(e)?.['duration'] !== undefined);
  if (!outcome) return { check, status: 'unverifiable', detail: 'no outcome event recorded', at: refOf(stop) };
  const [s, o] = [jsonObject(stop) ?? {}, jsonObject(outcome) ?? {}];
  if (STATS.every((k) => o[k] === undefined)) return { check, status: 'unverifiable', detail: `the outcome event (reason ${String(o['reason'])}) carries no stop statistics`, at: refOf(outcome) };
  const pick = (b: Record<string, unknown>) => Object.fromEntries(STATS.map((k) => [k, b[k] ?? null]));
  const differ = STATS.filter((k) => (s[k] ?? null) !== (o[k] ?? null));
  return differ.length
    ? { check, status: 'mismatch', expected: pick(s), found: pick(o), detail: `the stop response (seq ${stop.seq}) and the outcome event differ in ${differ.join(', ')}`, at: refOf(outcome) }
    : { check, status: 'ok', detail: `duration ${s['duration']} s, ${s['cpuSeconds']} cpu-s, ${s['peakMemoryMb']} MB: the stop response and the outcome event agree`, at: refOf(outcome) };
}

/**
 * The reported duration vs the platform's own clock (session-status `startedAt` to the stop response's `Date`)
 * or, without those, the recorded time from the launch request to the stop response; ±1 s.
 */
function duration(stop: EvidenceEvent, recorder: EvidenceStream[]): Finding {
  const check = 'cloudplay.duration';
  const at = refOf(stop);
  const reported = asNumber(jsonObject(stop)?.['duration']);
  if (reported === undefined) return { check, status: 'unverifiable', detail: 'the stop response has no duration', at };
  const events = recorder.flatMap((s) => s.events);
  // A session reclaimed (stopping/stopped) over a second before the stop call reports the duration up to the reclaim.
  const stopCall = events.filter((e) => e.kind === 'request' && e.msgType === STOP && e.recordedAtUs <= stop.recordedAtUs).at(-1) ?? stop;
  const ended = events.find((e) => e.recordedAtUs < stopCall.recordedAtUs - 1e6 && (observedStatus(e) === 'stopping' || observedStatus(e) === 'stopped'));
  if (ended)
    return {
      check,
      status: 'unverifiable',
      detail: `the session was reclaimed before the stop call (${observedStatus(ended)} read at seq ${ended.seq}): its duration ends there, not at the stop`,
      at,
    };
  const launchReq = events.find((e) => e.kind === 'request' && e.msgType === LAUNCH);
  const launchRes = responses(recorder, LAUNCH)[0];
  const startedAt = responses(recorder, STATUS)
    .map((e) => Date.parse(asString(jsonObject(e)?.['startedAt']) ?? ''))
    .find((ms) => !Number.isNaN(ms));
  const launchWall = (launchRes && dateHeader(launchRes)) ?? (launchReq ? launchReq.recordedAtUs / 1000 : undefined);
  if (startedAt !== undefined && launchWall !== undefined && Math.abs(startedAt - launchWall) > 2000) {
    return {
      check,
      status: 'unverifiable',
      detail: `the platform's clock is not the wall clock (startedAt ${iso(startedAt)}, launch answered at ${iso(launchWall)}): a scaled or injected clock, so its duration cannot be timed from the recording`,
      at,
    };
  }
  const stopDate = dateHeader(stop);
  const [reference, how] =
    startedAt !== undefined && stopDate !== undefined
      ? [(stopDate - startedAt) / 1000, `the platform's startedAt ${iso(startedAt)} to the stop response's Date ${iso(stopDate)}`]
      : launchReq
        ? [(stop.recordedAtUs - launchReq.recordedAtUs) / 1e6, `the recorded launch request (seq ${launchReq.seq}) to the stop response (seq ${stop.seq})`]
        : [undefined, ''];
  if (reference === undefined) return { check, status: 'unverifiable', detail: 'no launch recorded and no startedAt/Date to time the session', at };
  return Math.abs(reported - reference) <= 1
    ? { check, status: 'ok', detail: `reported ${reported} s; ${reference.toFixed(3)} s from ${how}`, at }
    : { check, status: 'mismatch', expected: Math.round(reference * 1000) / 1000, found: reported, detail: `reported ${reported} s, but ${reference.toFixed(3)} s from ${how} (±1 s allowed)`, at };
}

/** Whether status `cur` may be read after `prev` (equal readings repeat; polls may skip states, never go back). */
function follows(prev: string, cur: string): boolean {
  if (prev === cur) return true;
  if (prev === 'error') return cur === 'stopped';
  if (cur === 'error') return prev === 'starting';
  return (RANK[cur] ?? -1) > (RANK[prev] ?? Infinity);
}

/** Each recorder stream's observed statuses follow the life cycle, never backwards. */
function transitions(stream: EvidenceStream): Finding | undefined {
  const check = 'cloudplay.transitions';
  const subject = `${stream.role} ${stream.sessionId}`;
  const seen = stream.events.flatMap((e) => {
    const status = observedStatus(e);
    return status ? [{ e, status }] : [];
  });
  if (!seen.length) return undefined;
  const i = seen.findIndex((cur, k) => !(cur.status in RANK) || (k > 0 && !follows(seen[k - 1]?.status ?? '', cur.status)));
  const [prev, cur] = [seen[i - 1], seen[i]];
  if (cur) {
    return {
      check,
      status: 'mismatch',
      subject,
      expected: 'starting → running → stopping? → stopped | starting → error → stopped? | starting → stopped',
      found: `${prev?.status ?? '(first)'} → ${cur.status}`,
      detail: `status ${cur.status} (seq ${cur.e.seq})${prev ? ` after ${prev.status} (seq ${prev.e.seq})` : ''} breaks the life cycle`,
      at: refOf(cur.e),
    };
  }
  const path = seen.map((s) => s.status).filter((s, k, all) => s !== all[k - 1]);
  return { check, status: 'ok', subject, detail: `observed ${path.join(' → ')} (${seen.length} readings)` };
}

/** A session never seen running must report no CPU and no memory. */
function neverRan(stop: EvidenceEvent, recorder: EvidenceStream[]): Finding {
  const check = 'cloudplay.never-ran';
  const at = refOf(stop);
  const body = jsonObject(stop) ?? {};
  const running = recorder.flatMap((s) => s.events).find((e) => observedStatus(e) === 'running');
  if (running) return { check, status: 'ok', detail: `running observed (${running.msgType}, seq ${running.seq}): ${body['cpuSeconds']} cpu-s, ${body['peakMemoryMb']} MB allowed`, at };
  const stats = { cpuSeconds: body['cpuSeconds'] ?? null, peakMemoryMb: body['peakMemoryMb'] ?? null };
  return stats.cpuSeconds === 0 && stats.peakMemoryMb === 0
    ? { check, status: 'ok', detail: 'never observed running; the stop reports 0 cpu-s and 0 MB', at }
    : { check, status: 'mismatch', expected: { cpuSeconds: 0, peakMemoryMb: 0 }, found: stats, detail: 'no reading ever showed running, yet the stop reports container usage', at };
}

/**
 * Audits a cloud-play run: the stop response vs the outcome event (`cloudplay.stop-stats`), the reported
 * duration vs the clock (`cloudplay.duration`), the observed life cycle per stream (`cloudplay.transitions`)
 * and the statistics of a session never seen running (`cloudplay.never-ran`). Without a stop response the
 * stop-based checks are unverifiable. Pure; no chain or outbox checks (done elsewhere).
 */
export function auditCloudplay(run: RunEvidence): Finding[] {
  const recorder = run.streams.filter((s) => s.role === 'proxy' || s.role === 'poller');
  const stop = responses(recorder, STOP)
    .filter((e) => jsonObject(e)?.['status'] === 'stopped')
    .at(-1);
  const lifecycle = recorder.map(transitions).filter((f): f is Finding => f !== undefined);
  if (!stop) {
    const detail = 'no stop response recorded';
    return [...['cloudplay.stop-stats', 'cloudplay.duration', 'cloudplay.never-ran'].map((check): Finding => ({ check, status: 'unverifiable', detail })), ...lifecycle];
  }
  return [stopStats(stop, recorder), duration(stop, recorder), ...lifecycle, neverRan(stop, recorder)];
}
