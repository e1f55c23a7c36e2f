import type { Finding, RunEvidence } from '@rewind/platforms';

// What an audit is fed and what it finds are defined with the platform modules, whose checks read and write them.
export type { EvidenceEvent, StreamRole, ChainEvidence, EvidenceStream, OutboxEvidence, RunEvidence, RewardReceipt, FindingStatus, EventRef, Finding } from '@rewind/platforms';

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
