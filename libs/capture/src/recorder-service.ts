import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { EventStore } from '@rewind/event-store';
import type { Ingest, IngestStats } from '@rewind/ingest';
import type { ProxiedPlatform } from '@rewind/proxy';
import type { Redactor } from '@rewind/redaction';
import type { Recorder, TaskOffer } from '@rewind/recorder';
import type { CaptureTaskContext, CaptureTaskLogger, CaptureTaskResult } from '@rewind/capture-facts';
import { RecorderModule, RecorderService } from './recorder.module';
import type { RunSignalBoard } from './run-signals';

/** Runs one capture task (spectator, poller) into a sink; see TaskRunners in task-runners.ts. */
export type TaskRunner = (offer: TaskOffer, ctx: CaptureTaskContext) => Promise<CaptureTaskResult>;

/** Where live captures run: in this process, or shared by every recorder process through BullMQ. */
export interface TaskScheduler {
  offer(offer: TaskOffer): void;
  close(): Promise<void>;
  stats(): Record<string, unknown>;
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
  log: CaptureTaskLogger;
}

export interface RunningRecorderService {
  proxyUrl: string;
  /** http://host:port of each platform the proxy serves at the root of its own port. */
  proxyPlatformUrls: Partial<Record<ProxiedPlatform, string>>;
  recorder: Recorder;
  ingest: Ingest;
  store: EventStore;
  redactor: Redactor;
  stats(): { recorder: ReturnType<Recorder['stats']>; ingest: IngestStats; tasks: Record<string, unknown> };
  /** Resolves when the journals of dead recorders found at start are drained (see orphan-journals.ts). */
  orphans: Promise<{ adopted: string[]; kept: string[] }>;
  /** Stops the proxy and the tasks, records what is held, makes everything durable. */
  close(): Promise<void>;
}

/**
 * The recorder process (RecorderModule, recorder.module.ts) in an application context of its own: the
 * recording proxy in front of the platforms, the Recorder turning facts into sessions, the Ingest writing
 * them (journal during Postgres outages), and the live-capture tasks (spectators, pollers) scheduled across
 * processes. `close()` closes the context: Nest stops the parts in the module's shutdown order.
 */
export async function startRecorderService(o: RecorderServiceOptions): Promise<RunningRecorderService> {
  const module = RecorderModule.forRoot(o);
  let app: INestApplicationContext;
  try {
    app = await NestFactory.createApplicationContext(module, { logger: ['error', 'warn'], abortOnError: false });
  } catch (e) {
    await RecorderModule.release(module);
    throw e;
  }
  return runningRecorder(app);
}

/** The handle of the RecorderModule in `app` (its close closes `app`). */
export function runningRecorder(app: INestApplicationContext): RunningRecorderService {
  const service = app.get(RecorderService);
  let closed: Promise<void> | undefined;
  return {
    proxyUrl: service.proxyUrl,
    proxyPlatformUrls: service.proxyPlatformUrls,
    recorder: service.recorder,
    ingest: service.ingest,
    store: service.store,
    redactor: service.redactor,
    stats: () => service.stats(),
    orphans: service.orphans,
    close: () => (closed ??= app.close()),
  };
}
