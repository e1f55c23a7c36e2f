import type { CaptureSink } from './captured';

/**
 * Capture tasks are the recorder's own observers of a live platform session — the MoltStation spectator,
 * the cloud-play and RGS pollers. One task captures one target (one platform session) into one Rewind
 * session: it emits facts (`origin: 'spectator' | 'poller'`) to `sink`, which the recorder has bound to
 * that session (encoding, redaction, seq and timing happen behind it). Tasks never touch storage.
 *
 * Tasks are run by the scale-out coordinator as BullMQ jobs: one job per target, shared by every recorder
 * process; when the process running it dies, another takes it over and runs the task again with `resumed`
 * set, and the task states the gap (`note` fact, kind `gap`) once it sees where the platform is now.
 */
export interface CaptureTaskContext {
  /** Where facts go; bound to the target's Rewind session. Never throws, never blocks. */
  sink: CaptureSink;
  /** Aborted on shutdown or when the task's job is lost: stop promptly (close sockets, stop timers) and resolve. */
  signal: AbortSignal;
  log: CaptureTaskLogger;
  /** Set when this run continues a stream an earlier run (maybe another process) captured part of. */
  resumed?: ResumedStream;
}

export interface ResumedStream {
  /** Last seq stored for the stream. */
  lastSeq: number;
  /** Tick of the last frame stored for the stream (MoltStation), if any. */
  lastTick: number | null;
  /** Wall clock (ms since epoch) of the last stored event. */
  lastSeenAtMs: number;
}

export interface CaptureTaskLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** How a task finished. `ended`: the platform session is over (the job completes); `aborted`: signal fired. */
export type CaptureTaskResult = { status: 'ended'; reason: string; summary?: Record<string, unknown> } | { status: 'aborted' };

/** Allocates connection ids for facts a task emits (unique per process, like the proxy's). */
let nextTaskConnection = 1;
export function taskConnectionId(prefix: 'spectate' | 'poll'): string {
  return `${prefix}-${process.pid}-${nextTaskConnection++}`;
}

/** Microseconds since the epoch, and hrtime, for a fact's `wallUs` / `atNs`. */
export function factClock(): { atNs: bigint; wallUs: number } {
  return { atNs: process.hrtime.bigint(), wallUs: Date.now() * 1000 };
}
