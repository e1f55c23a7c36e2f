import { DynamicModule, Inject, Injectable, Module, OnApplicationShutdown, Provider } from '@nestjs/common';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { Pool } from '@rewind/db';
import { AuditService } from '@rewind/audit';
import { CredentialVault, Redactor } from '@rewind/capture';
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
@Module({})
export class PipelineModule {
  static forRoot(options: PipelineOptions): DynamicModule {
    const settings = resolvePipelineOptions(options);
    const workerOptions = pipelineWorkerOptions(settings);
    // Each processor under its own class as token (RunningPipeline.workers finds them), built from the subclass
    // that carries this module's worker options.
    const processors: Provider[] = settings.workers ? PIPELINE_QUEUES.map((q) => ({ provide: PIPELINE_PROCESSORS[q], useClass: boundProcessor(q, workerOptions) })) : [];
    return {
      module: PipelineModule,
      imports: [
        DbModule.forRoot({ databaseUrl: settings.databaseUrl, poolSize: 4 }),
        EventStoreModule,
        BullModule.forRoot({ connection: bullConnection(settings.redisUrl), prefix: settings.prefix }),
        BullModule.registerQueue(...PIPELINE_QUEUES.map((name) => ({ name }))),
      ],
      providers: [
        { provide: PIPELINE_SETTINGS, useValue: settings },
        PipelineQueueSet,
        {
          provide: OutboxRelay,
          inject: [PrismaService, PipelineQueueSet],
          useFactory: (prisma: PrismaService, q: PipelineQueueSet) =>
            new OutboxRelay({ prisma, queues: q.queues, retry: settings.retry, log: settings.log, ...(settings.relayIntervalMs ? { intervalMs: settings.relayIntervalMs } : {}) }),
        },
        { provide: Redactor, useFactory: () => new Redactor(settings.key) },
        { provide: CredentialVault, useFactory: () => new CredentialVault({ redis: settings.redisUrl, secret: settings.key, log: settings.log }) },
        VaultCloser,
        {
          provide: AuditService,
          inject: [PG_POOL, EventStore],
          useFactory: (pool: Pool, store: EventStore) =>
            new AuditService(pool, store, { rewardsUrl: settings.rewardsUrl, ...(settings.rewardsApiKey ? { rewardsApiKey: settings.rewardsApiKey } : {}) }),
        },
        JobRecording,
        SnapshotSubmission,
        RewardHandoff,
        RunAudit,
        ...processors,
      ],
      exports: [PIPELINE_SETTINGS, PipelineQueueSet, OutboxRelay],
    };
  }
}

export type { PipelineSettings };
