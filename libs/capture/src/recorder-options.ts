import type { ProxiedPlatform } from '@rewind/proxy';
import type { TaskOffer } from '@rewind/recorder';
import type { CaptureTaskContext, CaptureTaskLogger, CaptureTaskResult } from '@rewind/capture-facts';
import type { RunSignalBoard } from './run-signals';
import type { AdmissionSample, AdmissionThresholds } from './admission';

// The recorder process's options and the scheduler contract: a file of their own, so that the module
// (recorder.module.ts), the schedulers and the service handle (recorder-service.ts) all depend on it and not
// on each other.

/** Runs one capture task (spectator, poller) into a sink; see TaskRunners in task-runners.ts. */
export type TaskRunner = (offer: TaskOffer, ctx: CaptureTaskContext) => Promise<CaptureTaskResult>;

/** Where live captures run: in this process, or shared by every recorder process through BullMQ. */
export interface TaskScheduler {
  offer(offer: TaskOffer): void;
  close(): Promise<void>;
  stats(): Record<string, unknown>;
  /**
   * Admission control closed (false) or reopened (true): while closed, this process starts no new capture task —
   * they wait in their queue (deferred, not dropped: another process, or this one once reopened, takes them); the
   * tasks running go on.
   */
  intake?(open: boolean): void;
}

/** The recorder's admission control of new captures (see admission.ts); thresholds from REWIND_ADMISSION_*. */
export interface RecorderAdmissionOptions extends Partial<AdmissionThresholds> {
  /** Default true. */
  enabled?: boolean;
  /** How often the signals are read (ms); default 500. */
  sampleMs?: number;
  /** Replaces the measured signals (tests drive admission with it). */
  sample?: () => AdmissionSample;
}

export interface RecorderServiceOptions {
  databaseUrl: string;
  /** The proxy's port (0: a free one). */
  proxyPort: number;
  /** Platforms the proxy also serves at the root of a port of their own (0: a free one); see RecordingProxyOptions. */
  proxyPlatformPorts?: Partial<Record<ProxiedPlatform, number>>;
  proxyHost?: string;
  upstreams: Partial<Record<ProxiedPlatform, string>>;
  dataDir: string;
  /** This process's name in logs, journals and job holders (default `<host>-<pid>`). */
  instance?: string;
  /** 32+ bytes; default: `<dataDir>/redaction.key` (created once, shared by the processes of one data dir). */
  redactionKey?: Buffer;
  sealAfterMs?: number;
  runIdleMs?: number;
  accountIdleMs?: number;
  rgsSessionTtlMs?: number;
  ingestBatchSize?: number;
  /**
   * The least time between two of the Ingest's append batches under steady load (default 100 ms): a batch waits
   * for company, so each session's per-batch work in the store (its head locked, read and updated) is shared by
   * several events (docs/benchmarks.md, issue 18). The write-ahead log holds the events meanwhile.
   */
  ingestFlushMs?: number;
  /**
   * `thread` (default): batches are written by a worker thread with its own pool, so a busy event loop does
   * not slow the writes; `inline`: on this thread through `store` (tests that intercept the store's calls).
   */
  ingestWriter?: 'thread' | 'inline';
  /**
   * Builds the scheduler of live captures once the recorder exists (it needs `startTask`). Absent: capture
   * tasks are not run (proxy capture only).
   */
  scheduler?: (startTask: (offer: TaskOffer, signal: AbortSignal, takeover: boolean) => Promise<CaptureTaskResult>) => Promise<TaskScheduler>;
  /** Runs tasks by kind (required with `scheduler`). */
  runners?: Partial<Record<TaskOffer['kind'], TaskRunner>>;
  /** Spectate every live MoltStation agent_api session of these games found on the live list (needs `scheduler`). */
  discover?: { slugs: string[]; intervalMs?: number };
  /** Where the runs' credentials and activity go (default: this process's memory only). */
  signals?: RunSignalBoard;
  /** Admission control (graceful overload): refuse new captures while the recorder cannot keep up. Default: on, default thresholds. */
  admission?: RecorderAdmissionOptions;
  log: CaptureTaskLogger;
}
