import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { createPgPool } from '@rewind/db';
import { EventStore } from '@rewind/event-store';
import type { CaptureSink } from '../captured';
import { Ingest, IngestStats, WriterThread } from '../ingest';
import { startRecordingProxy, RunningRecordingProxy, ProxiedPlatform } from '../proxy';
import { loadOrCreateRedactionKey, Redactor } from '../redaction';
import { Recorder, TaskOffer } from '../recorder';
import type { CaptureTaskContext, CaptureTaskLogger, CaptureTaskResult } from '../tasks';
import { MoltStationDiscovery } from '../spectator';
import { adoptOrphanJournals, claimJournalDir, sealStreamsOfDeadWriter } from './orphan-journals';
import { RunSignalBoard } from './run-signals';
import { spectateOffer } from './schedulers';

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
 * The recorder process: the recording proxy in front of the platforms, the Recorder turning facts into
 * sessions, the Ingest writing them (journal during Postgres outages), and the live-capture tasks
 * (spectators, pollers) scheduled across processes. `apps/recorder` runs one; `rewind up`/`demo` too.
 */
export async function startRecorderService(o: RecorderServiceOptions): Promise<RunningRecorderService> {
  const instance = o.instance ?? `${hostname()}-${process.pid}`;
  const pool: Pool = createPgPool(o.databaseUrl, { max: 6 });
  const store = new EventStore(pool);
  const journalRoot = join(o.dataDir, 'journal');
  const journalDir = join(journalRoot, safeName(instance));
  mkdirSync(journalDir, { recursive: true });
  // A token per process start: stamped on the streams this process opens, and in its journal's owner file.
  const writerToken = `${instance}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const { previousWriter } = claimJournalDir(journalDir, writerToken);
  const logIngest = prefixed(o.log, 'ingest');
  const writer = o.ingestWriter === 'inline' ? null : new WriterThread({ databaseUrl: o.databaseUrl, log: (l) => logIngest.warn(l) });
  const ingest = await Ingest.open({ store, ...(writer ? { writer } : {}), writeAhead: true, writerToken, journalDir, batchSize: o.ingestBatchSize, log: logIngest });
  // This instance's previous process died (its journal is now ours): once its events are in, seal what it left open.
  const sweep = previousWriter
    ? ingest
        .waitUntilStored(10 * 60_000)
        .then(() => sealStreamsOfDeadWriter({ store, ingest, writer: previousWriter, log: logIngest }))
        .catch((e: unknown) => logIngest.warn(`could not seal the streams left open by ${previousWriter}: ${(e as Error).message}`))
    : Promise.resolve();
  // Journals of recorders that died on this host are drained in the background (nothing they held is lost).
  const orphans = adoptOrphanJournals({ root: journalRoot, ownDir: journalDir, store, log: prefixed(o.log, 'orphan journal') }).catch((e: unknown) => {
    o.log.error(`could not adopt orphan journals: ${(e as Error).message}`);
    return { adopted: [], kept: [] };
  });
  const key = o.redactionKey ?? loadOrCreateRedactionKey(o.dataDir);
  const redactor = new Redactor(key);
  const signals = o.signals ?? new RunSignalBoard(null, o.log);
  let scheduler: TaskScheduler | null = null;
  const pendingOffers: TaskOffer[] = [];
  const recorder = new Recorder({
    ingest,
    store,
    redactor,
    log: o.log,
    writer: writerToken,
    ...(o.sealAfterMs !== undefined ? { sealAfterMs: o.sealAfterMs } : {}),
    ...(o.runIdleMs !== undefined ? { runIdleMs: o.runIdleMs } : {}),
    ...(o.accountIdleMs !== undefined ? { accountIdleMs: o.accountIdleMs } : {}),
    ...(o.rgsSessionTtlMs !== undefined ? { rgsSessionTtlMs: o.rgsSessionTtlMs } : {}),
    onTask: (offer) => (scheduler ? scheduler.offer(offer) : pendingOffers.push(offer)),
    onCredential: (runKey, c) => signals.putCredential(runKey, c.name, c.value, c.expiresAtMs),
    onActivity: (runKey, atMs) => signals.touch(runKey, atMs),
  });

  const startTask = async (offer: TaskOffer, signal: AbortSignal, takeover: boolean): Promise<CaptureTaskResult> => {
    const runner = o.runners?.[offer.kind];
    if (!runner) return { status: 'ended', reason: `no runner for ${offer.kind}` };
    const stream = await recorder.openTaskStream(offer, {
      key: `task:${offer.id}`,
      platformSessionId: offer.platformSessionId,
      game: typeof offer.params['slug'] === 'string' ? (offer.params['slug'] as string) : null,
    });
    const ctx: CaptureTaskContext = { sink: stream, signal, log: prefixed(o.log, offer.kind), ...(stream.resumed ? { resumed: stream.resumed } : {}) };
    if (takeover && !stream.resumed) o.log.warn(`task ${offer.id}: taken over, but nothing of it was stored yet`);
    try {
      const result = await runner(offer, ctx);
      if (result.status === 'ended') stream.end({ reason: result.reason, outcome: { reason: result.reason, ...(result.summary ?? {}) } });
      else stream.release();
      return result;
    } catch (e) {
      stream.release();
      throw e;
    }
  };

  let proxy: RunningRecordingProxy | null;
  let discovery: MoltStationDiscovery | null = null;
  try {
    if (o.scheduler) {
      const s = await o.scheduler(startTask);
      scheduler = s;
      for (const offer of pendingOffers.splice(0)) s.offer(offer);
      if (o.discover && o.upstreams.moltstation) {
        discovery = new MoltStationDiscovery({
          baseUrl: o.upstreams.moltstation,
          slugs: o.discover.slugs,
          ...(o.discover.intervalMs ? { intervalMs: o.discover.intervalMs } : {}),
          onLive: (live) => s.offer(spectateOffer(live.slug, live.sessionId)),
          log: prefixed(o.log, 'discovery'),
        });
        discovery.start();
      }
    }
    proxy = await startRecordingProxy({
      port: o.proxyPort,
      ...(o.proxyHost ? { host: o.proxyHost } : {}),
      upstreams: o.upstreams,
      sink: recorder as CaptureSink,
    });
  } catch (e) {
    await discovery?.stop();
    await scheduler?.close().catch(() => undefined);
    recorder.close();
    await ingest.close();
    await writer?.close();
    await orphans;
    await pool.end();
    throw e;
  }
  const running = proxy;
  return {
    proxyUrl: running.url,
    recorder,
    ingest,
    store,
    redactor,
    stats: () => ({ recorder: recorder.stats(), ingest: ingest.stats(), tasks: scheduler?.stats() ?? {} }),
    orphans,
    async close() {
      await discovery?.stop();
      await running.close();
      await scheduler?.close();
      recorder.close();
      await Promise.race([sweep, new Promise((r) => setTimeout(r, 2000).unref())]);
      await ingest.close();
      await writer?.close();
      // A journal still being adopted (Postgres away) stays on disk, claimed by a dead pid: the next start adopts it.
      await Promise.race([orphans, new Promise((r) => setTimeout(r, 2000).unref())]);
      await pool.end();
    },
  };
}

function prefixed(log: CaptureTaskLogger, prefix: string): CaptureTaskLogger {
  return { info: (m) => log.info(`[${prefix}] ${m}`), warn: (m) => log.warn(`[${prefix}] ${m}`), error: (m) => log.error(`[${prefix}] ${m}`) };
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_');
}
