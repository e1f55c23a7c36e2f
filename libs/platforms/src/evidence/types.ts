import type { PlatformId } from '../platforms';
import type { BodyFormat, Channel, Direction, EventKind, SessionStatus } from '../vocabulary';

/**
 * What an audit is fed (libs/audit loads it; the platform modules' audit checks read it): every stream of one platform run, read from the event log. Pure audit functions
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
  platform: PlatformId;
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
