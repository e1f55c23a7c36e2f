import { DynamicModule, Inject, Injectable, InjectionToken, Module, ModuleMetadata, OnApplicationShutdown, OptionalFactoryDependency, Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { Pool } from '@rewind/db';
import { AuditService } from '@rewind/audit';
import { Redactor } from '@rewind/redaction';
import { CredentialVault } from '@rewind/scaleout';
import { DbModule, PG_POOL, PrismaService } from '@rewind/db';
import { EventStore, EventStoreModule } from '@rewind/event-store';
import { JobRecording, RewardHandoff, RunAudit, SnapshotSubmission } from './jobs';
import { PIPELINE_SETTINGS, PipelineOptions, PipelineSettings, resolvePipelineOptions } from './options';
import { boundProcessor, PIPELINE_PROCESSORS, pipelineWorkerOptions } from './processors';
import { bullConnection, PIPELINE_QUEUES, PipelineQueue } from './queues';
import { OutboxRelay } from './relay';

/** The pipeline's three queues (the BullModule-registered instances), by name. */
@Injectable()
export class PipelineQueueSet {
  readonly queues: Record<PipelineQueue, Queue>;

  constructor(@Inject(getQueueToken('snapshot-submission')) snapshot: Queue, @Inject(getQueueToken('reward-handoff')) reward: Queue, @Inject(getQueueToken('run-audit')) audit: Queue) {
    this.queues = { 'snapshot-submission': snapshot, 'reward-handoff': reward, 'run-audit': audit };
  }
}

/** The vault's Redis connection is closed last: after the workers (module destroy) that read from it. */
@Injectable()
class VaultCloser implements OnApplicationShutdown {
  constructor(private readonly vault: CredentialVault) {}
  async onApplicationShutdown(): Promise<void> {
    await this.vault.close();
  }
}

/**
 * The outcome pipeline of one process: the outbox relay and (unless `workers: false`) the snapshot-submission,
 * reward-handoff and run-audit processors, with what they use — Postgres (DbModule: the `pg` pool of the
 * event store and the audits, Prisma for the relay), the event store, the credential vault, the redactor, the
 * audit service. `apps/pipeline` runs it as a Nest application context; `startPipeline()` (tests, `rewind
 * up`/`demo`, the soak) creates and closes the same context.
 *
 * Lifecycle: the relay starts on module init; on close the relay stops and the workers finish their jobs on
 * module destroy (Nest destroys this module before the global DbModule), the vault and the queues close on
 * application shutdown.
 */
/** `PipelineModule.forRootAsync`: the options from a factory (the process roots inject the validated configuration). */
export interface PipelineAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => PipelineOptions | Promise<PipelineOptions>;
  /** Run the workers in this process (default true); false: relay only. Decided when the module is defined. */
  workers?: boolean;
}

@Module({})
class PipelineSettingsModule {}

@Module({})
export class PipelineModule {
  static forRoot(options: PipelineOptions): DynamicModule {
    return PipelineModule.forRootAsync({ useFactory: () => options, ...(options.workers === false ? { workers: false } : {}) });
  }

  /**
   * The pipeline with its options from a factory: the database, the queues' Redis and prefix, the workers'
   * concurrency, locks and backoff, the rewards endpoint and the key are all configured from what it returns
   * (apps/pipeline and `rewind up` give a factory that injects REWIND_CONFIG, see `pipelineModuleFromConfig`).
   */
  static forRootAsync(o: PipelineAsyncOptions): DynamicModule {
    const factory = o.useFactory as (...args: unknown[]) => PipelineOptions | Promise<PipelineOptions>;
    const settingsModule: DynamicModule = {
      module: PipelineSettingsModule,
      imports: o.imports ?? [],
      providers: [
        { provide: PIPELINE_SETTINGS, inject: o.inject ?? [], useFactory: async (...args: unknown[]) => resolvePipelineOptions({ ...(await factory(...args)), workers: o.workers !== false }) },
      ],
      exports: [PIPELINE_SETTINGS],
    };
    // Each processor under its own class as token (RunningPipeline.workers finds them). `@Processor` options are
    // class metadata that BullMQ's explorer reads from the instance's class once the providers exist: each is
    // created here from a subclass decorated with the worker options of these settings (see boundProcessor).
    const processors: Provider[] =
      o.workers !== false
        ? PIPELINE_QUEUES.map((q) => ({
            provide: PIPELINE_PROCESSORS[q],
            inject: [PIPELINE_SETTINGS, ModuleRef],
            useFactory: (settings: PipelineSettings, moduleRef: ModuleRef) => moduleRef.create(boundProcessor(q, pipelineWorkerOptions(settings))),
          }))
        : [];
    return {
      module: PipelineModule,
      imports: [
        settingsModule,
        DbModule.forRootAsync({ imports: [settingsModule], inject: [PIPELINE_SETTINGS], useFactory: (settings: PipelineSettings) => ({ databaseUrl: settings.databaseUrl, poolSize: 4 }) }),
        EventStoreModule,
        BullModule.forRootAsync({
          imports: [settingsModule],
          inject: [PIPELINE_SETTINGS],
          useFactory: (settings: PipelineSettings) => ({ connection: bullConnection(settings.redisUrl), prefix: settings.prefix }),
        }),
        BullModule.registerQueue(...PIPELINE_QUEUES.map((name) => ({ name }))),
      ],
      providers: [
        PipelineQueueSet,
        {
          provide: OutboxRelay,
          inject: [PrismaService, PipelineQueueSet, PIPELINE_SETTINGS],
          useFactory: (prisma: PrismaService, q: PipelineQueueSet, settings: PipelineSettings) =>
            new OutboxRelay({ prisma, queues: q.queues, retry: settings.retry, log: settings.log, ...(settings.relayIntervalMs ? { intervalMs: settings.relayIntervalMs } : {}) }),
        },
        { provide: Redactor, inject: [PIPELINE_SETTINGS], useFactory: (settings: PipelineSettings) => new Redactor(settings.key) },
        {
          provide: CredentialVault,
          inject: [PIPELINE_SETTINGS],
          useFactory: (settings: PipelineSettings) => new CredentialVault({ redis: settings.redisUrl, secret: settings.key, log: settings.log }),
        },
        VaultCloser,
        {
          provide: AuditService,
          inject: [PG_POOL, EventStore, PIPELINE_SETTINGS],
          useFactory: (pool: Pool, store: EventStore, settings: PipelineSettings) =>
            new AuditService(pool, store, { rewardsUrl: settings.rewardsUrl, ...(settings.rewardsApiKey ? { rewardsApiKey: settings.rewardsApiKey } : {}) }),
        },
        JobRecording,
        SnapshotSubmission,
        RewardHandoff,
        RunAudit,
        ...processors,
      ],
      exports: [settingsModule, PipelineQueueSet, OutboxRelay],
    };
  }
}

export type { PipelineSettings };
