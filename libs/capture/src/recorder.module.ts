import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  BeforeApplicationShutdown,
  DynamicModule,
  Inject,
  Injectable,
  InjectionToken,
  Module,
  ModuleMetadata,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleDestroy,
  OnModuleInit,
  Optional,
  OptionalFactoryDependency,
  Provider,
  Type,
} from '@nestjs/common';
import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import type { Pool } from '@rewind/db';
import { createPgPool } from '@rewind/db';
import { EventStore } from '@rewind/event-store';
import type { CaptureSink, CaptureTaskContext, CaptureTaskLogger, CaptureTaskResult } from '@rewind/capture-facts';
import { Ingest, WriterThread } from '@rewind/ingest';
import { startRecordingProxy, type ProxiedPlatform, RunningRecordingProxy } from '@rewind/proxy';
import { loadOrCreateRedactionKey, Redactor } from '@rewind/redaction';
import { Recorder, TaskOffer } from '@rewind/recorder';
import type { CaptureJobData, CaptureJobResult, CaptureCoordinator } from '@rewind/scaleout';
import { MoltStationDiscovery } from '@rewind/live-capture';
import { CAPTURE_COORDINATOR, CAPTURE_QUEUE_REDIS, captureQueue, CaptureProcessor } from './capture-processor';
import { adoptOrphanJournals, claimJournalDir, sealStreamsOfDeadWriter } from './orphan-journals';
import type { RecorderServiceOptions, TaskScheduler } from './recorder-options';
import type { BullmqSchedulerOptions } from './schedulers';
import { RunSignalBoard } from './run-signals';
import { admissionHook, CaptureAdmission, INGEST_BUFFER_BOUND } from './admission';
import { BullmqSchedulerFactory, captureCoordinator, offeringScheduler, spectateOffer } from './schedulers';

/** The options `RecorderModule.forRoot` was given. */
export const RECORDER_OPTIONS = Symbol('RECORDER_OPTIONS');
/** The recorder's own Postgres pool (the API's DbModule pool is another). */
export const RECORDER_PG_POOL = Symbol('RECORDER_PG_POOL');
/** The recorder's EventStore, on RECORDER_PG_POOL. */
export const RECORDER_EVENT_STORE = Symbol('RECORDER_EVENT_STORE');

const BOUNDED_WAIT_MS = 2000;

/**
 * Every provider of one RecorderModule that holds something, by the phase Nest stops it in: what a start
 * that failed half-way had opened is stopped by `RecorderModule.release` in the same order (Nest has no
 * application to close then).
 */
class RecorderParts {
  readonly destroy: OnModuleDestroy[] = [];
  readonly beforeShutdown: BeforeApplicationShutdown[] = [];
  readonly shutdown: OnApplicationShutdown[] = [];
  readonly last: OnApplicationShutdown[] = [];

  async stopAll(): Promise<void> {
    const each = async (fns: (() => unknown)[]) => void (await Promise.allSettled(fns.map(async (f) => f())));
    await each(this.destroy.map((p) => () => p.onModuleDestroy()));
    await each(this.beforeShutdown.map((p) => () => p.beforeApplicationShutdown()));
    await each(this.shutdown.map((p) => () => p.onApplicationShutdown()));
    await each(this.last.map((p) => () => p.onApplicationShutdown()));
  }
}
const RECORDER_PARTS = Symbol('RECORDER_PARTS');
const CAPTURE_PROCESSOR_RELEASE = Symbol('CAPTURE_PROCESSOR_RELEASE');
const partsOf = new WeakMap<DynamicModule, RecorderParts>();
const processorOf = new WeakMap<DynamicModule, Type<CaptureProcessor>>();

/** This process's writer identity and its claimed journal directory (see orphan-journals.ts). */
@Injectable()
export class RecorderJournal {
  readonly instance: string;
  readonly root: string;
  readonly dir: string;
  /** A token per process start: stamped on the streams this process opens, and in its journal's owner file. */
  readonly writerToken: string;
  /** The writer of this instance's previous process, when it died with the journal claimed. */
  readonly previousWriter: string | undefined;

  constructor(@Inject(RECORDER_OPTIONS) o: RecorderServiceOptions) {
    this.instance = o.instance ?? `${hostname()}-${process.pid}`;
    this.root = join(o.dataDir, 'journal');
    this.dir = join(this.root, safeName(this.instance));
    mkdirSync(this.dir, { recursive: true });
    this.writerToken = `${this.instance}/${process.pid}/${randomUUID().slice(0, 8)}`;
    this.previousWriter = claimJournalDir(this.dir, this.writerToken).previousWriter ?? undefined;
  }
}

/** Ends the recorder's pool last of all (its module is imported by RecorderModule, so Nest shuts it down after). */
@Injectable()
class RecorderPoolCloser implements OnApplicationShutdown {
  constructor(
    @Inject(RECORDER_PG_POOL) private readonly pool: Pool,
    @Inject(RECORDER_PARTS) parts: RecorderParts,
  ) {
    parts.last.push(this);
  }
  async onApplicationShutdown(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}

@Module({})
class RecorderStoreModule {}

/**
 * The Ingest (journal during Postgres outages) and its writer thread. Opened when the module is built;
 * on shutdown — after the Recorder recorded what it held — it seals what a dead previous process of this
 * instance left open (bounded), flushes and makes everything durable.
 */
@Injectable()
export class RecorderIngest implements OnApplicationShutdown {
  private sweep: Promise<void> = Promise.resolve();
  private closed: Promise<void> | undefined;
  private constructor(
    readonly ingest: Ingest,
    private readonly writer: WriterThread | null,
  ) {}

  static async open(o: RecorderServiceOptions, store: EventStore, journal: RecorderJournal, parts: RecorderParts): Promise<RecorderIngest> {
    const log = prefixed(o.log, 'ingest');
    const writer = o.ingestWriter === 'inline' ? null : new WriterThread({ databaseUrl: o.databaseUrl, log: (l) => log.warn(l) });
    // Its modules load while the recorder boots, not under the first traffic.
    writer?.warm();
    let ingest: Ingest;
    try {
      ingest = await Ingest.open({
        store,
        ...(writer ? { writer } : {}),
        writeAhead: true,
        writerToken: journal.writerToken,
        journalDir: journal.dir,
        batchSize: o.ingestBatchSize,
        flushIntervalMs: o.ingestFlushMs ?? 100,
        log,
      });
    } catch (e) {
      await writer?.close();
      throw e;
    }
    const self = new RecorderIngest(ingest, writer);
    parts.shutdown.push(self);
    // This instance's previous process died (its journal is now ours): once its events are in, seal what it left open.
    const previous = journal.previousWriter;
    if (previous) {
      self.sweep = ingest
        .waitUntilStored(10 * 60_000)
        .then(async () => void (await sealStreamsOfDeadWriter({ store, ingest, writer: previous, log })))
        .catch((e: unknown) => log.warn(`could not seal the streams left open by ${previous}: ${(e as Error).message}`));
    }
    return self;
  }

  onApplicationShutdown(): Promise<void> {
    this.closed ??= (async () => {
      await bounded(this.sweep, BOUNDED_WAIT_MS);
      await this.ingest.close();
      // The writer thread is unref'd and its close waits for the thread's exit: hold the event loop until
      // then, or a process whose other connections are already closed exits mid-close.
      const hold = setInterval(() => undefined, 1000);
      try {
        await this.writer?.close();
      } finally {
        clearInterval(hold);
      }
    })();
    return this.closed;
  }
}

/** Journals of recorders that died on this host, drained in the background from start (nothing they held is lost). */
@Injectable()
export class OrphanJournalAdoption implements OnModuleInit, OnApplicationShutdown {
  private result: Promise<{ adopted: string[]; kept: string[] }> | undefined;

  constructor(
    @Inject(RECORDER_OPTIONS) private readonly o: RecorderServiceOptions,
    @Inject(RECORDER_EVENT_STORE) private readonly store: EventStore,
    private readonly journal: RecorderJournal,
    @Inject(RECORDER_PARTS) parts: RecorderParts,
  ) {
    parts.shutdown.push(this);
  }

  onModuleInit(): void {
    this.adopted();
  }

  /** Resolves when the orphan journals found at start are drained (or kept, Postgres away). */
  adopted(): Promise<{ adopted: string[]; kept: string[] }> {
    this.result ??= adoptOrphanJournals({ root: this.journal.root, ownDir: this.journal.dir, store: this.store, log: prefixed(this.o.log, 'orphan journal') }).catch((e: unknown) => {
      this.o.log.error(`could not adopt orphan journals: ${(e as Error).message}`);
      return { adopted: [], kept: [] };
    });
    return this.result;
  }

  async onApplicationShutdown(): Promise<void> {
    // A journal still being adopted (Postgres away) stays on disk, claimed by a dead pid: the next start adopts it.
    if (this.result) await bounded(this.result, BOUNDED_WAIT_MS);
  }
}

/**
 * The recorder's admission control (graceful overload, admission.ts): samples the Ingest and the event loop from
 * bootstrap on; the proxy asks it before it forwards a new capture, the capture scheduler is told when it closes
 * and reopens. `enabled: false` admits everything (and measures nothing).
 */
@Injectable()
export class RecorderAdmission implements OnApplicationBootstrap, OnModuleDestroy {
  readonly admission: CaptureAdmission | null;
  private readonly listeners: ((open: boolean) => void)[] = [];

  constructor(@Inject(RECORDER_OPTIONS) o: RecorderServiceOptions, ingest: Ingest, @Inject(RECORDER_PARTS) parts: RecorderParts) {
    parts.destroy.push(this);
    const a = o.admission ?? {};
    if (a.enabled === false) {
      this.admission = null;
      return;
    }
    const { enabled: _enabled, sampleMs, sample, ...thresholds } = a;
    this.admission = new CaptureAdmission({
      thresholds,
      ingest: () => {
        const s = ingest.stats();
        return { lagMs: s.lagMs, buffered: s.buffered, bufferedBound: INGEST_BUFFER_BOUND, outage: s.outage };
      },
      ...(sample ? { sample } : {}),
      ...(sampleMs ? { sampleMs } : {}),
      log: prefixed(o.log, 'admission'),
      onChange: (open) => {
        for (const l of this.listeners) l(open);
      },
    });
  }

  /** Called on each transition (open: true when admission reopens). */
  onChange(listener: (open: boolean) => void): void {
    this.listeners.push(listener);
  }

  onApplicationBootstrap(): void {
    this.admission?.start();
  }

  onModuleDestroy(): void {
    this.admission?.stop();
  }
}

/**
 * The offers of capture tasks (from the Recorder and the live-list discovery) on their way to the
 * scheduler: held until the scheduler exists, then handed straight on.
 */
@Injectable()
export class CaptureOffers {
  private scheduler: TaskScheduler | null = null;
  private readonly pending: TaskOffer[] = [];

  offer(offer: TaskOffer): void {
    if (this.scheduler) this.scheduler.offer(offer);
    else this.pending.push(offer);
  }

  attach(scheduler: TaskScheduler): void {
    this.scheduler = scheduler;
    for (const offer of this.pending.splice(0)) scheduler.offer(offer);
  }
}

/** Closes the Recorder once nothing feeds it any more: what it holds is recorded (ended or released) into the Ingest. */
@Injectable()
class RecorderCloser implements BeforeApplicationShutdown {
  constructor(
    private readonly recorder: Recorder,
    @Inject(RECORDER_PARTS) parts: RecorderParts,
  ) {
    parts.beforeShutdown.push(this);
  }
  beforeApplicationShutdown(): void {
    this.recorder.close();
  }
}

/** Runs one capture task (spectator, poller) into a task stream of the Recorder. */
@Injectable()
export class CaptureTaskRunner {
  constructor(
    @Inject(RECORDER_OPTIONS) private readonly o: RecorderServiceOptions,
    private readonly recorder: Recorder,
  ) {}

  readonly start = async (offer: TaskOffer, signal: AbortSignal, takeover: boolean): Promise<CaptureTaskResult> => {
    const runner = this.o.runners?.[offer.kind];
    if (!runner) return { status: 'ended', reason: `no runner for ${offer.kind}` };
    const stream = await this.recorder.openTaskStream(offer, {
      key: `task:${offer.id}`,
      platformSessionId: offer.platformSessionId,
      game: typeof offer.params['slug'] === 'string' ? (offer.params['slug'] as string) : null,
    });
    const ctx: CaptureTaskContext = { sink: stream, signal, log: prefixed(this.o.log, offer.kind), ...(stream.resumed ? { resumed: stream.resumed } : {}) };
    if (takeover && !stream.resumed) this.o.log.warn(`task ${offer.id}: taken over, but nothing of it was stored yet`);
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
}

/**
 * The recording proxy (node:http + ws: the exact bytes of every exchange, decision 11) as a provider:
 * listens at bootstrap, stops listening and closes its sockets first on shutdown.
 */
@Injectable()
export class RecordingProxyHost implements OnApplicationBootstrap, OnModuleDestroy {
  private proxy: RunningRecordingProxy | undefined;
  private closed: Promise<void> | undefined;

  constructor(
    @Inject(RECORDER_OPTIONS) private readonly o: RecorderServiceOptions,
    private readonly recorder: Recorder,
    private readonly admission: RecorderAdmission,
    @Inject(RECORDER_PARTS) parts: RecorderParts,
  ) {
    parts.destroy.push(this);
  }

  get url(): string {
    if (!this.proxy) throw new Error('recording proxy: not listening (the module is not bootstrapped)');
    return this.proxy.url;
  }

  /** The platforms served at the root of a port of their own, with their http://host:port. */
  get platformUrls(): Partial<Record<ProxiedPlatform, string>> {
    if (!this.proxy) throw new Error('recording proxy: not listening (the module is not bootstrapped)');
    return this.proxy.platformUrls;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.closed) return;
    this.proxy = await startRecordingProxy({
      port: this.o.proxyPort,
      ...(this.o.proxyPlatformPorts ? { platformPorts: this.o.proxyPlatformPorts } : {}),
      ...(this.o.proxyHost ? { host: this.o.proxyHost } : {}),
      upstreams: this.o.upstreams,
      sink: this.recorder as CaptureSink,
      // A new capture's first request or socket is refused while the recorder cannot keep up; a socket of a run it
      // records already (a MoltStation run's play socket after its start) is not a new capture.
      ...(this.admission.admission ? { admit: admissionHook(this.admission.admission, (platform, key) => this.recorder.sessionOf(platform, key) !== null) } : {}),
    });
  }

  onModuleDestroy(): Promise<void> {
    this.closed ??= this.proxy ? this.proxy.close() : Promise.resolve();
    return this.closed;
  }
}

/** Spectates every live MoltStation agent_api session of the configured games (with a scheduler only). */
@Injectable()
export class CaptureDiscovery implements OnApplicationBootstrap, OnModuleDestroy {
  private discovery: MoltStationDiscovery | undefined;
  private stopped: Promise<void> | undefined;

  constructor(
    @Inject(RECORDER_OPTIONS) private readonly o: RecorderServiceOptions,
    private readonly offers: CaptureOffers,
    @Inject(RECORDER_PARTS) parts: RecorderParts,
  ) {
    parts.destroy.push(this);
  }

  onApplicationBootstrap(): void {
    if (this.stopped || !this.o.scheduler || !this.o.discover || !this.o.upstreams.moltstation) return;
    this.discovery = new MoltStationDiscovery({
      baseUrl: this.o.upstreams.moltstation,
      slugs: this.o.discover.slugs,
      ...(this.o.discover.intervalMs ? { intervalMs: this.o.discover.intervalMs } : {}),
      onLive: (live) => this.offers.offer(spectateOffer(live.slug, live.sessionId)),
      log: prefixed(this.o.log, 'discovery'),
    });
    this.discovery.start();
  }

  onModuleDestroy(): Promise<void> {
    this.stopped ??= this.discovery ? this.discovery.stop() : Promise.resolve();
    return this.stopped;
  }
}

/**
 * Where live captures run (see TaskScheduler): the BullMQ capture queue with this process's `@Processor`
 * (bullmqScheduler), another scheduler factory, or none (proxy capture only). Closed after the proxy and
 * the discovery (nothing offers any more), before the Recorder: its tasks are handed back.
 */
@Injectable()
export class CaptureScheduler implements OnModuleInit, OnModuleDestroy {
  private scheduler: TaskScheduler | null = null;
  private closed: Promise<void> | undefined;

  constructor(
    @Inject(RECORDER_OPTIONS) private readonly o: RecorderServiceOptions,
    private readonly offers: CaptureOffers,
    private readonly runner: CaptureTaskRunner,
    private readonly proxy: RecordingProxyHost,
    private readonly discovery: CaptureDiscovery,
    admission: RecorderAdmission,
    @Inject(RECORDER_PARTS) parts: RecorderParts,
    @Optional() @Inject(CAPTURE_COORDINATOR) coordinator: CaptureCoordinator | null,
  ) {
    parts.destroy.push(this);
    // New capture tasks wait in their queue while admission is closed (deferred, not dropped).
    admission.onChange((open) => this.scheduler?.intake?.(open));
    if (coordinator) {
      this.scheduler = offeringScheduler(coordinator, (o.scheduler as BullmqSchedulerFactory).bullmq);
      offers.attach(this.scheduler);
    }
  }

  async onModuleInit(): Promise<void> {
    if (this.scheduler || !this.o.scheduler || this.closed) return;
    this.scheduler = await this.o.scheduler(this.runner.start);
    this.offers.attach(this.scheduler);
  }

  stats(): Record<string, unknown> {
    return this.scheduler?.stats() ?? {};
  }

  onModuleDestroy(): Promise<void> {
    this.closed ??= (async () => {
      await Promise.allSettled([this.discovery.onModuleDestroy(), this.proxy.onModuleDestroy()]);
      await this.scheduler?.close();
    })();
    return this.closed;
  }
}

/** What `startRecorderService` hands back, as a provider: the running recorder's parts and counters. */
@Injectable()
export class RecorderService {
  constructor(
    readonly recorder: Recorder,
    private readonly ingestHost: RecorderIngest,
    @Inject(RECORDER_EVENT_STORE) readonly store: EventStore,
    readonly redactor: Redactor,
    private readonly proxy: RecordingProxyHost,
    private readonly scheduler: CaptureScheduler,
    private readonly adoption: OrphanJournalAdoption,
    private readonly admissionHost: RecorderAdmission,
  ) {}

  /** The admission control (null when disabled). */
  get admission(): CaptureAdmission | null {
    return this.admissionHost.admission;
  }

  get ingest(): Ingest {
    return this.ingestHost.ingest;
  }

  get proxyUrl(): string {
    return this.proxy.url;
  }

  get proxyPlatformUrls(): Partial<Record<ProxiedPlatform, string>> {
    return this.proxy.platformUrls;
  }

  get orphans(): Promise<{ adopted: string[]; kept: string[] }> {
    return this.adoption.adopted();
  }

  stats(): { recorder: ReturnType<Recorder['stats']>; ingest: ReturnType<Ingest['stats']>; tasks: Record<string, unknown>; admission: ReturnType<CaptureAdmission['stats']> | null } {
    return { recorder: this.recorder.stats(), ingest: this.ingest.stats(), tasks: this.scheduler.stats(), admission: this.admission?.stats() ?? null };
  }
}

/**
 * The recorder process as a Nest module: the recording proxy in front of the platforms, the Recorder
 * turning facts into sessions, the Ingest writing them (journal during Postgres outages), the live-capture
 * tasks (spectators, pollers) scheduled across processes through the BullMQ capture queue, the live-list
 * discovery and the adoption of dead recorders' journals. `apps/recorder`, `rewind recorder`, and `rewind
 * up`/`demo` (next to the API) run it; `startRecorderService` runs it in an application context of its own.
 *
 * Start (Nest's order): the pool, the journal claim and the Ingest as the module is built; the orphan
 * journals' adoption at init; the capture worker, the proxy and the discovery at bootstrap. Shutdown
 * (`app.close()`): the discovery, the proxy and then the scheduler (tasks handed back) when modules are
 * destroyed; the Recorder records what it holds before shutdown; at shutdown the Ingest flushes and makes
 * everything durable, the adoption is waited for (bounded); the pool ends last.
 */
/** `RecorderModule.forRootAsync`: the options from a factory (the process roots inject the validated configuration). */
export interface RecorderAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => RecorderServiceOptions | Promise<RecorderServiceOptions>;
  /**
   * The capture queue, when the factory's `scheduler` is a `bullmqScheduler` of these options. Given when the
   * module is defined: the queue's name is its Nest token and the worker's options are `@Processor` metadata.
   */
  captureQueue?: BullmqSchedulerOptions;
}

@Module({})
class RecorderOptionsModule {}

@Module({})
export class RecorderModule {
  static forRoot(o: RecorderServiceOptions): DynamicModule {
    const bullmq = (o.scheduler as Partial<BullmqSchedulerFactory> | undefined)?.bullmq;
    return RecorderModule.forRootAsync({ useFactory: () => o, ...(bullmq ? { captureQueue: bullmq } : {}) });
  }

  /**
   * The recorder with its options from a factory (apps/recorder, `rewind recorder` and `rewind up` give one that
   * injects REWIND_CONFIG: `recordingModule`). Everything but the capture queue's registration is configured from
   * what the factory returns.
   */
  static forRootAsync(a: RecorderAsyncOptions): DynamicModule {
    const parts = new RecorderParts();
    const partsProvider: Provider = { provide: RECORDER_PARTS, useValue: parts };
    const optionsModule: DynamicModule = {
      module: RecorderOptionsModule,
      imports: a.imports ?? [],
      providers: [{ provide: RECORDER_OPTIONS, inject: a.inject ?? [], useFactory: a.useFactory as (...args: unknown[]) => RecorderServiceOptions | Promise<RecorderServiceOptions> }],
      exports: [RECORDER_OPTIONS],
    };
    const store: DynamicModule = {
      module: RecorderStoreModule,
      imports: [optionsModule],
      providers: [
        partsProvider,
        { provide: RECORDER_PG_POOL, inject: [RECORDER_OPTIONS], useFactory: (o: RecorderServiceOptions) => createPgPool(o.databaseUrl, { max: 6 }) },
        { provide: RECORDER_EVENT_STORE, inject: [RECORDER_PG_POOL], useFactory: (pool: Pool) => new EventStore(pool) },
        RecorderPoolCloser,
      ],
      exports: [RECORDER_PG_POOL, RECORDER_EVENT_STORE],
    };
    const bullmq = a.captureQueue;
    const queue = bullmq ? captureQueue(bullmq) : null;
    const module: DynamicModule = {
      module: RecorderModule,
      imports: [optionsModule, store, ...(queue?.imports ?? [])],
      providers: [
        partsProvider,
        RecorderJournal,
        {
          provide: RecorderIngest,
          inject: [RECORDER_OPTIONS, RECORDER_EVENT_STORE, RecorderJournal, RECORDER_PARTS],
          useFactory: (opts: RecorderServiceOptions, s: EventStore, journal: RecorderJournal, p: RecorderParts) => RecorderIngest.open(opts, s, journal, p),
        },
        { provide: Ingest, inject: [RecorderIngest], useFactory: (h: RecorderIngest) => h.ingest },
        { provide: Redactor, inject: [RECORDER_OPTIONS], useFactory: (o: RecorderServiceOptions) => new Redactor(o.redactionKey ?? loadOrCreateRedactionKey(o.dataDir)) },
        { provide: RunSignalBoard, inject: [RECORDER_OPTIONS], useFactory: (o: RecorderServiceOptions) => o.signals ?? new RunSignalBoard(null, o.log) },
        OrphanJournalAdoption,
        CaptureOffers,
        {
          provide: Recorder,
          inject: [Ingest, RECORDER_EVENT_STORE, Redactor, RunSignalBoard, CaptureOffers, RecorderJournal, RECORDER_OPTIONS],
          useFactory: (ingest: Ingest, s: EventStore, redactor: Redactor, signals: RunSignalBoard, offers: CaptureOffers, journal: RecorderJournal, o: RecorderServiceOptions) =>
            new Recorder({
              ingest,
              store: s,
              redactor,
              log: o.log,
              writer: journal.writerToken,
              ...(o.sealAfterMs !== undefined ? { sealAfterMs: o.sealAfterMs } : {}),
              ...(o.runIdleMs !== undefined ? { runIdleMs: o.runIdleMs } : {}),
              ...(o.accountIdleMs !== undefined ? { accountIdleMs: o.accountIdleMs } : {}),
              ...(o.rgsSessionTtlMs !== undefined ? { rgsSessionTtlMs: o.rgsSessionTtlMs } : {}),
              // The signals a run's task reads are mirrored to the vault from its offer on (RunSignalBoard.want).
              onTask: (offer) => {
                signals.want(offer);
                offers.offer(offer);
              },
              onCredential: (runKey, c) => signals.putCredential(runKey, c.name, c.value, c.expiresAtMs),
              onActivity: (runKey, atMs) => signals.touch(runKey, atMs),
            }),
        },
        RecorderCloser,
        RecorderAdmission,
        CaptureTaskRunner,
        ...(queue && bullmq
          ? [
              {
                provide: CAPTURE_COORDINATOR,
                inject: [CaptureTaskRunner, queue.queueToken, CAPTURE_QUEUE_REDIS],
                useFactory: (runner: CaptureTaskRunner, q: Queue<CaptureJobData, CaptureJobResult>, redis: Redis) => captureCoordinator(bullmq, runner.start, { queue: q, redis }),
              },
              queue.processor,
              {
                // A start that fails before bootstrap leaves BullModule's worker un-run but connected: release closes it.
                provide: CAPTURE_PROCESSOR_RELEASE,
                inject: [queue.processor, RECORDER_PARTS],
                useFactory: (processor: CaptureProcessor, p: RecorderParts) => p.destroy.push({ onModuleDestroy: () => processor.releaseWorker() }),
              },
            ]
          : []),
        RecordingProxyHost,
        CaptureDiscovery,
        CaptureScheduler,
        RecorderService,
      ],
      exports: [RecorderService, Recorder, Ingest, Redactor, store],
    };
    partsOf.set(module, parts);
    if (queue) processorOf.set(module, queue.processor);
    return module;
  }

  /** The `@Processor` class of `module`'s capture queue (made per queue name), to look its instance up. */
  static processorClass(module: DynamicModule): Type<CaptureProcessor> | undefined {
    return processorOf.get(module);
  }

  /**
   * Stops, in shutdown order, what a start of `module` that failed half-way (NestFactory threw: there is no
   * application to close) had opened: the pool, the writer thread, a listening proxy, a running worker.
   */
  static async release(module: DynamicModule): Promise<void> {
    await partsOf.get(module)?.stopAll();
  }
}

export function prefixed(log: CaptureTaskLogger, prefix: string): CaptureTaskLogger {
  return { info: (m) => log.info(`[${prefix}] ${m}`), warn: (m) => log.warn(`[${prefix}] ${m}`), error: (m) => log.error(`[${prefix}] ${m}`) };
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * Waits for `p` at most `ms`. The timer is not unref'd: during a shutdown it may be the last thing keeping
 * the event loop alive (the connections are closing), and the process must not exit mid-close.
 */
async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
