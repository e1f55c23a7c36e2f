import type { BodyFormat, Channel, Direction, EventKind, Platform, SessionStatus } from '@rewind/event-store';

/**
 * What an audit is fed: every stream of one platform run, read from the event log. Pure audit functions
 * take a RunEvidence and return findings; they do no I/O (the loader in ./load.ts reads the store).
 */

/** One recorded event, as the audit reads it (binary bodies as base64 text, `bodyEncoding` says so). */
export interface EvidenceEvent {
  sessionId: string;
  seq: number;
  offsetUs: number;
  recordedAtUs: number;
  kind: EventKind;
  direction: Direction;
  channel: Channel;
  format: BodyFormat;
  body: string | null;
  bodyEncoding: 'utf8' | 'base64';
  msgType: string | null;
  tick: number | null;
  requestId: string | null;
  /** The capture's metadata of the event (JSON text): HTTP method/path/status/headers, close codes and reasons. */
  meta: string | null;
}

/** Who wrote a stream: the recorder's proxy, spectator or poller, or one of the outcome pipeline's jobs. */
export type StreamRole = 'proxy' | 'spectator' | 'poller' | 'snapshot-submission' | 'reward-handoff';

/** The hash chain of one stream as verified (event-store's ChainVerifier), in a form findings can cite. */
export interface ChainEvidence {
  ok: boolean;
  eventsChecked: number;
  headSeq: number;
  sealed: boolean;
  /** The first broken link: which seq and why (seq_gap, hash_mismatch, head_mismatch, seal_mismatch). */
  firstBreak: { reason: string; seq: number; message: string } | null;
}

export interface EvidenceStream {
  sessionId: string;
  role: StreamRole;
  /** sessions.metadata.stream: 'run' (a platform run), 'account', 'task', 'pipeline'. */
  stream: string;
  status: SessionStatus;
  startedAt: Date;
  endedAt: Date | null;
  /** sessions.outcome as stored (for a run stream: the outcome written when it ended; for a job: its result). */
  outcomeColumn: unknown;
  metadata: Record<string, unknown>;
  events: EvidenceEvent[];
  chain: ChainEvidence;
}

/** An outbox row of the run (what the recorder handed to the pipeline), as stored. */
export interface OutboxEvidence {
  id: string;
  queue: string;
  sessionId: string | null;
  payload: Record<string, unknown>;
  createdAt: Date;
  relayedAt: Date | null;
}

export interface RunEvidence {
  /** `${platform}:${platformSessionId}`, or `${platform}:${runSessionId}` when the platform has no run id (SpaceMolt). */
  runKey: string;
  platform: Platform;
  game: string | null;
  agent: string | null;
  source: string | null;
  platformSessionId: string | null;
  /** The stream whose end wrote the outcome and the outbox rows (the pipeline jobs' runSessionId); null if none ended. */
  runSessionId: string | null;
  /** Every stream of the run, the recorder's first (by start), then the pipeline's. */
  streams: EvidenceStream[];
  outbox: OutboxEvidence[];
  /**
   * What the rewards pipeline holds for each receipt id of a handoff (`GET {rewardsUrl}/{id}`), when the
   * auditor could ask it; absent when not asked. `body` null with `error` when the question failed.
   */
  receipts?: RewardReceipt[];
}

export interface RewardReceipt {
  receiptId: string;
  body: unknown;
  error?: string;
}

export type FindingStatus = 'ok' | 'mismatch' | 'unverifiable';

/** A place in the log a finding points at. */
export interface EventRef {
  sessionId: string;
  seq: number;
}

/**
 * One check's verdict. `check` is a stable dotted name (e.g. `moltstation.score`, `chain`, `rgs.round.payout`);
 * `subject` says which instance (a round id, a stream id); a mismatch carries `expected` (what the
 * recomputation or the reference says) and `found` (what the compared source says); unverifiable says why.
 */
export interface Finding {
  check: string;
  status: FindingStatus;
  subject?: string;
  expected?: unknown;
  found?: unknown;
  /** Human-readable: what was compared with what, or why it could not be. */
  detail: string;
  at?: EventRef;
}

export type AuditStatus = 'ok' | 'mismatch' | 'unverifiable';

/** The worst status of the findings: any mismatch → mismatch; else any unverifiable → unverifiable; else ok. */
export function auditStatus(findings: readonly Finding[]): AuditStatus {
  if (findings.some((f) => f.status === 'mismatch')) return 'mismatch';
  if (findings.some((f) => f.status === 'unverifiable')) return 'unverifiable';
  return 'ok';
}

/**
 * The analytics projection of one run (table `run_summaries`), computed from its events alone by
 * `summarizeRun` (so it can be rebuilt at any time). Times are of the recorder's own streams (not the
 * pipeline's); `auditStatus` is filled in by whoever audited the run (null before).
 */
export interface RunSummary {
  runKey: string;
  platform: RunEvidence['platform'];
  game: string | null;
  agent: string | null;
  source: string | null;
  platformSessionId: string | null;
  runSessionId: string | null;
  /** Recorder streams of the run (proxy, spectator, poller). */
  streams: number;
  startedAt: Date | null;
  endedAt: Date | null;
  durationMs: number | null;
  /** Final score where the platform has one (MoltStation), else null. */
  score: number | null;
  /** Lives lost where the platform has lives (MoltStation ShellRunners), else null. */
  livesLost: number | null;
  /** What the agent sent to play: WS inputs/commands and HTTP requests of the run (not the pollers' or pipeline's). */
  inputs: number;
  inputsPerMinute: number | null;
  /** Input → next platform message on the same stream, milliseconds. */
  reactionP50Ms: number | null;
  reactionP95Ms: number | null;
  /** Capture gaps recorded in any of the run's streams. */
  gaps: number;
  /** The snapshot job's result status (submitted, already-snapshotted, skipped, failed, dead-letter) or null. */
  snapshotStatus: string | null;
  /** The reward handoff job's result status (handed-off, failed, dead-letter) or null. */
  rewardStatus: string | null;
  /** Platform-specific figures (credits earned, rounds, wagered, duration reported…), small and flat. */
  extra: Record<string, number | string | null>;
}
