import { asNumber, asObject, asString, jsonObject, metaOf } from '../json';
import type { EvidenceEvent, EvidenceStream, RunEvidence, RunSummary, StreamRole } from '../types';

/** The recorder's own streams (what the run's times, inputs, latencies and gaps are read from). */
export const RECORDER_ROLES: readonly StreamRole[] = ['proxy', 'spectator', 'poller'];
/** The outcome pipeline's job streams (only their result statuses are read). */
export const PIPELINE_ROLES: readonly StreamRole[] = ['snapshot-submission', 'reward-handoff'];

const WS_CHANNELS: ReadonlySet<string> = new Set(['play_ws', 'spectate_ws']);

/** One event placed on the run's clock: its stream's start (ms) × 1000 + its offset (µs). */
interface Timed {
  e: EvidenceEvent;
  atUs: number;
  /** Position of the stream in run.streams, for a stable order of simultaneous events. */
  streamIndex: number;
}

const isRecorder = (s: EvidenceStream): boolean => RECORDER_ROLES.includes(s.role);

/** The events of the streams, ordered by time on the run's clock (then by stream, then by seq). */
function timeline(streams: readonly EvidenceStream[]): Timed[] {
  const out: Timed[] = [];
  streams.forEach((s, streamIndex) => {
    const startUs = s.startedAt.getTime() * 1000;
    for (const e of s.events) out.push({ e, atUs: startUs + e.offsetUs, streamIndex });
  });
  return out.sort((a, b) => a.atUs - b.atUs || a.streamIndex - b.streamIndex || a.e.seq - b.e.seq);
}

/** The path of an HTTP exchange: the request's meta.path, else the msgType's ("POST /game/play"), without the query. */
function pathOf(e: EvidenceEvent): string | undefined {
  const p = asString(metaOf(e)['path']) ?? asString(e.msgType)?.split(' ')[1];
  return p?.split('?')[0];
}

/** Nearest-rank percentile of ascending values (p in 0..100): the value at rank ⌈p/100 · n⌉. */
function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** Reaction deltas (ms) of one proxy stream: each WS input → the next platform message on its channel. */
function reactionDeltasMs(s: EvidenceStream): number[] {
  const events = [...s.events].sort((a, b) => a.seq - b.seq);
  const nextPlatformUs = new Map<string, number>();
  const deltas: number[] = [];
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i] as EvidenceEvent;
    if (!WS_CHANNELS.has(e.channel)) continue;
    if (e.direction === 'platform_to_client' && e.kind !== 'lifecycle') nextPlatformUs.set(e.channel, e.offsetUs);
    else if (e.direction === 'client_to_platform') {
      const next = nextPlatformUs.get(e.channel);
      if (next !== undefined && next >= e.offsetUs) deltas.push((next - e.offsetUs) / 1000);
    }
  }
  return deltas;
}

/**
 * A pipeline job's status: the stream's last terminal marker decides — a `result` marker gives its body's
 * `status`, a `dead-letter` marker gives 'dead-letter' (a dead-lettered job retried to a result shows the
 * result); with no terminal marker, 'failed' if an `attempt-failed` marker exists, else null (no stream, or
 * still running).
 */
function pipelineStatus(streams: readonly EvidenceStream[], role: StreamRole): string | null {
  const jobs = streams.filter((s) => s.role === role);
  if (jobs.length === 0) return null;
  let terminal: string | null = null;
  let attemptFailed = false;
  for (const { e } of timeline(jobs)) {
    if (e.kind !== 'marker') continue;
    if (e.msgType === 'dead-letter') terminal = 'dead-letter';
    else if (e.msgType === 'attempt-failed') attemptFailed = true;
    else if (e.msgType === 'result') {
      const status = asString(jsonObject(e)?.['status']);
      if (status !== undefined) terminal = status;
    }
  }
  return terminal ?? (attemptFailed ? 'failed' : null);
}

/** MoltStation frames of the streams of a role, in time order: `{ t: 'frame', frame: {...} }` bodies (malformed skipped). */
function framesOf(streams: readonly EvidenceStream[], role: StreamRole): { frame: Record<string, unknown>; e: EvidenceEvent }[] {
  const out: { frame: Record<string, unknown>; e: EvidenceEvent }[] = [];
  for (const { e } of timeline(streams.filter((s) => s.role === role))) {
    if (e.kind !== 'frame' && e.kind !== 'keyframe') continue;
    const frame = asObject(jsonObject(e)?.['frame']);
    if (frame) out.push({ frame, e });
  }
  return out;
}

const frameScore = (f: Record<string, unknown>): number | undefined => asNumber(f['score']) ?? asNumber(asObject(f['score'])?.['current']);

/** The run's outcome event body: the run session's, else the first recorder stream's that has one. */
function outcomeOf(run: RunEvidence, recorder: readonly EvidenceStream[]): Record<string, unknown> | undefined {
  const ordered = [...recorder.filter((s) => s.sessionId === run.runSessionId), ...recorder.filter((s) => s.sessionId !== run.runSessionId)];
  for (const s of ordered) {
    for (let i = s.events.length - 1; i >= 0; i--) {
      const e = s.events[i] as EvidenceEvent;
      if (e.kind !== 'outcome') continue;
      const body = jsonObject(e);
      if (body) return body;
    }
  }
  return undefined;
}

/** "1.00" | "1.5" | 1.08 → cents (integer); undefined when not a non-negative amount with at most two decimals. */
function cents(v: unknown): number | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return undefined;
    const c = Math.round(v * 100);
    return Math.abs(v * 100 - c) < 1e-6 ? c : undefined;
  }
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(v.trim());
  if (!m) return undefined;
  return Number(m[1]) * 100 + (m[2] ? Number(m[2].padEnd(2, '0')) : 0);
}

interface Platformed {
  score: number | null;
  livesLost: number | null;
  extra: Record<string, number | string | null>;
}

function moltstation(run: RunEvidence, recorder: readonly EvidenceStream[]): Platformed {
  const outcome = outcomeOf(run, recorder);
  const sources = [framesOf(recorder, 'proxy'), framesOf(recorder, 'spectator')];
  let score: number | null = null;
  let ticks: number | null = null;
  for (const frames of sources) {
    const last = [...frames].reverse().find((f) => frameScore(f.frame) !== undefined);
    if (last) {
      score = frameScore(last.frame) as number;
      break;
    }
  }
  score ??= asNumber(outcome?.['score']) ?? null;
  for (const frames of sources) {
    const tick = [...frames]
      .reverse()
      .map((f) => asNumber(f.frame['tick']) ?? asNumber(f.e.tick))
      .find((t) => t !== undefined);
    if (tick !== undefined) {
      ticks = tick;
      break;
    }
  }
  ticks ??= asNumber(outcome?.['tick']) ?? null;
  let livesLost: number | null = null;
  for (const frames of sources) {
    const lives = frames.map((f) => asNumber(f.frame['lives'])).filter((l): l is number => l !== undefined);
    if (lives.length > 0) {
      livesLost = (lives[0] as number) - (lives[lives.length - 1] as number);
      break;
    }
  }
  return { score, livesLost, extra: { ticks, game: run.game ?? asString(outcome?.['game']) ?? null } };
}

/** SpaceMolt: the player's credits as seen in platform messages (`player.credits` at the top, in `payload`, `structuredContent` or `result`). */
function spacemolt(recorder: readonly EvidenceStream[]): Platformed {
  const seen: number[] = [];
  for (const { e } of timeline(recorder)) {
    if (e.direction !== 'platform_to_client') continue;
    const body = jsonObject(e);
    if (!body) continue;
    for (const holder of [body, asObject(body['payload']), asObject(body['structuredContent']), asObject(body['result'])]) {
      const credits = asNumber(asObject(holder?.['player'])?.['credits']);
      if (credits !== undefined) {
        seen.push(credits);
        break;
      }
    }
  }
  const start = seen[0] ?? null;
  const end = seen[seen.length - 1] ?? null;
  return { score: null, livesLost: null, extra: { creditsStart: start, creditsEnd: end, creditsEarned: start !== null && end !== null ? end - start : null } };
}

/** Cloud play: the figures of the last stop response (`/api/game/stop`) the proxy recorded. */
function cloudplay(recorder: readonly EvidenceStream[]): Platformed {
  const extra: Record<string, number | null> = { reportedDurationS: null, cpuSeconds: null, peakMemoryMb: null };
  const responses = timeline(recorder.filter((s) => s.role === 'proxy')).filter(
    ({ e }) => e.kind === 'response' && e.direction === 'platform_to_client' && (pathOf(e)?.endsWith('/game/stop') ?? false),
  );
  for (let i = responses.length - 1; i >= 0; i--) {
    const body = jsonObject((responses[i] as Timed).e);
    if (!body) continue;
    const figures = { reportedDurationS: asNumber(body['duration']), cpuSeconds: asNumber(body['cpuSeconds']), peakMemoryMb: asNumber(body['peakMemoryMb']) };
    if (Object.values(figures).every((v) => v === undefined)) continue;
    for (const [k, v] of Object.entries(figures)) extra[k] = v ?? null;
    break;
  }
  return { score: null, livesLost: null, extra };
}

/** RGS: rounds settled in the proxy's /game/play and /game/action responses (round.active false), once per round id. */
function rgs(recorder: readonly EvidenceStream[]): Platformed {
  const settled = new Map<string, { wager: number; payout: number }>();
  for (const { e } of timeline(recorder.filter((s) => s.role === 'proxy'))) {
    if (e.kind !== 'response' || e.direction !== 'platform_to_client') continue;
    const path = pathOf(e);
    if (!path || !(path.endsWith('/game/play') || path.endsWith('/game/action'))) continue;
    const round = asObject(jsonObject(e)?.['round']);
    if (!round || round['active'] !== false) continue;
    const wager = cents(round['amount']);
    const payout = cents(round['payout']);
    if (wager === undefined || payout === undefined) continue;
    settled.set(asString(round['id']) ?? `${e.sessionId}:${e.seq}`, { wager, payout });
  }
  let wageredCents = 0;
  let paidOutCents = 0;
  for (const r of settled.values()) {
    wageredCents += r.wager;
    paidOutCents += r.payout;
  }
  return { score: null, livesLost: null, extra: { rounds: settled.size, wageredCents, paidOutCents } };
}

/**
 * The analytics projection of one run, from its events alone (pure, deterministic, never throws on
 * malformed bodies: they are skipped).
 *
 * - Recorder streams: roles proxy, spectator, poller; pipeline streams: snapshot-submission, reward-handoff.
 *   `streams` counts the recorder streams.
 * - startedAt: the earliest recorder stream's startedAt (its first event is at offset 0 by design).
 *   endedAt: the latest recorder event, at its stream's startedAt + offsetUs (a stream without events counts
 *   at its startedAt), floored to the ms. durationMs = endedAt − startedAt. All null without recorder streams.
 * - score (MoltStation): the final frame's `frame.score` (a number, or `frame.score.current`) of the proxy
 *   stream, else of the spectator's, else the outcome event's `score`; null for the other platforms.
 * - livesLost (MoltStation): the first frame's `lives` − the last frame's `lives` (frames with numeric lives,
 *   proxy frames else spectator frames); null when no frame has lives, and for the other platforms.
 * - inputs: events with direction client_to_platform in the proxy stream(s) (WS inputs/commands, HTTP
 *   requests) — not the poller's polls nor the pipeline's calls. inputsPerMinute = inputs / (durationMs / 60000),
 *   null when durationMs is null or ≤ 0.
 * - reactionP50Ms / reactionP95Ms: for each client_to_platform event on a WS channel of a proxy stream, the
 *   offsetUs delta to the next platform_to_client message (not a lifecycle event such as ws-close) on the same
 *   stream and channel, in ms; nearest-rank percentiles; HTTP is excluded (request → response is a round trip,
 *   not a reaction); null when there is no such pair.
 * - gaps: the count of kind 'gap' events in all recorder streams.
 * - snapshotStatus / rewardStatus: of the snapshot-submission / reward-handoff stream, the last terminal
 *   marker: a `result` marker's `status`, or 'dead-letter' for a `dead-letter` marker; else 'failed' if an
 *   `attempt-failed` marker exists; null when the stream is absent (or has no terminal or failed marker yet).
 * - extra: MoltStation { ticks (final frame's tick, else the outcome's), game }; SpaceMolt { creditsStart,
 *   creditsEnd, creditsEarned = end − start } from the first / last `player.credits` in platform messages;
 *   cloud play { reportedDurationS, cpuSeconds, peakMemoryMb } from the last /api/game/stop response; RGS
 *   { rounds, wageredCents, paidOutCents }: settled rounds (round.active false) of the proxy's /game/play and
 *   /game/action responses, once per round id, amounts and payouts summed as integer cents.
 * - auditStatus is not part of it: whoever audits the run sets it.
 */
export function summarizeRun(run: RunEvidence): RunSummary {
  const recorder = run.streams.filter(isRecorder);
  const proxies = recorder.filter((s) => s.role === 'proxy');

  let startMs: number | null = null;
  let endUs: number | null = null;
  for (const s of recorder) {
    const sMs = s.startedAt.getTime();
    if (!Number.isFinite(sMs)) continue;
    startMs = startMs === null ? sMs : Math.min(startMs, sMs);
    const lastUs = s.events.reduce((m, e) => Math.max(m, sMs * 1000 + e.offsetUs), sMs * 1000);
    endUs = endUs === null ? lastUs : Math.max(endUs, lastUs);
  }
  const startedAt = startMs === null ? null : new Date(startMs);
  const endedAt = endUs === null ? null : new Date(Math.floor(endUs / 1000));
  const durationMs = startedAt && endedAt ? endedAt.getTime() - startedAt.getTime() : null;

  const inputs = proxies.reduce((n, s) => n + s.events.filter((e) => e.direction === 'client_to_platform').length, 0);
  const deltas = proxies.flatMap(reactionDeltasMs).sort((a, b) => a - b);
  const gaps = recorder.reduce((n, s) => n + s.events.filter((e) => e.kind === 'gap').length, 0);

  const specific: Platformed =
    run.platform === 'moltstation'
      ? moltstation(run, recorder)
      : run.platform === 'spacemolt'
        ? spacemolt(recorder)
        : run.platform === 'cloudplay'
          ? cloudplay(recorder)
          : run.platform === 'rgs'
            ? rgs(recorder)
            : { score: null, livesLost: null, extra: {} };

  return {
    runKey: run.runKey,
    platform: run.platform,
    game: run.game,
    agent: run.agent,
    source: run.source,
    platformSessionId: run.platformSessionId,
    runSessionId: run.runSessionId,
    streams: recorder.length,
    startedAt,
    endedAt,
    durationMs,
    score: specific.score,
    livesLost: specific.livesLost,
    inputs,
    inputsPerMinute: durationMs !== null && durationMs > 0 ? inputs / (durationMs / 60_000) : null,
    reactionP50Ms: nearestRank(deltas, 50),
    reactionP95Ms: nearestRank(deltas, 95),
    gaps,
    snapshotStatus: pipelineStatus(run.streams, 'snapshot-submission'),
    rewardStatus: pipelineStatus(run.streams, 'reward-handoff'),
    extra: specific.extra,
  };
}
