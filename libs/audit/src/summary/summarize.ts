import { platformOf, timeline } from '@rewind/platforms';
import { asString, jsonObject } from '../json';
import type { EvidenceEvent, EvidenceStream, RunEvidence, RunSummary, StreamRole } from '../types';

/** The recorder's own streams (what the run's times, inputs, latencies and gaps are read from). */
export const RECORDER_ROLES: readonly StreamRole[] = ['proxy', 'spectator', 'poller'];
/** The outcome pipeline's job streams (only their result statuses are read). */
export const PIPELINE_ROLES: readonly StreamRole[] = ['snapshot-submission', 'reward-handoff'];

const WS_CHANNELS: ReadonlySet<string> = new Set(['play_ws', 'spectate_ws']);

const isRecorder = (s: EvidenceStream): boolean => RECORDER_ROLES.includes(s.role);

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

  // The platform's own figures (score, lives, credits, rounds…), from its module (libs/platforms).
  const specific = platformOf(run.platform).outcome.summarize(run, recorder);

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
