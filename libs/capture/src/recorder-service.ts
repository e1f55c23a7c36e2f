import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { EventStore } from '@rewind/event-store';
import type { Ingest, IngestStats } from '@rewind/ingest';
import type { Redactor } from '@rewind/redaction';
import type { ProxiedPlatform } from '@rewind/proxy';
import type { Recorder } from '@rewind/recorder';
import type { RecorderServiceOptions } from './recorder-options';
import { RecorderModule, RecorderService } from './recorder.module';
import type { CaptureAdmission } from './admission';

export type { RecorderServiceOptions, TaskRunner, TaskScheduler } from './recorder-options';

export interface RunningRecorderService {
  proxyUrl: string;
  /** http://host:port of each platform the proxy serves at the root of its own port. */
  proxyPlatformUrls: Partial<Record<ProxiedPlatform, string>>;
  recorder: Recorder;
  ingest: Ingest;
  store: EventStore;
  redactor: Redactor;
  stats(): { recorder: ReturnType<Recorder['stats']>; ingest: IngestStats; tasks: Record<string, unknown>; admission: ReturnType<CaptureAdmission['stats']> | null };
  /** The admission control of new captures (graceful overload); null when disabled. */
  admission: CaptureAdmission | null;
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
    admission: service.admission,
    orphans: service.orphans,
    close: () => (closed ??= app.close()),
  };
}
