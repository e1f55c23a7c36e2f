import type { Platform } from '@rewind/event-store';

/** The payload of both pipeline jobs, as the recorder writes it in the outbox (see Recorder.endStream). */
export interface RunPayload {
  /** The Rewind session (stream) whose end wrote the outbox rows. */
  sessionId: string;
  platform: Platform;
  game: string | null;
  platformSessionId: string | null;
  agent: string | null;
  source: string | null;
  outcome: Record<string, unknown>;
}

export type SnapshotResult =
  { status: 'submitted'; httpStatus: number; response: unknown } | { status: 'already-snapshotted'; by: 'agent' | 'earlier attempt' } | { status: 'skipped'; reason: string };

export interface RewardResult {
  status: 'handed-off';
  httpStatus: number;
  receiptId: string | null;
  duplicate: boolean;
}

export interface AuditJobResult {
  status: 'ok' | 'mismatch' | 'unverifiable';
  auditId: string;
  findings: number;
}
