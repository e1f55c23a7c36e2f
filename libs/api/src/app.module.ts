import { randomBytes } from 'node:crypto';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import type { Pool } from '@rewind/db';
import { AuditService } from '@rewind/audit';
import { DbModule, PG_POOL } from '@rewind/db';
import { EventStore, EventStoreModule } from '@rewind/event-store';
import { LoggingModule, MetricsModule } from '@rewind/observability';
import { AnalyticsController, AuditController } from './audit/audit.controller';
import { ApiKeys } from './auth/api-keys';
import { ScopeGuard } from './auth/scope.guard';
import { HealthController } from './health/health.controller';
import { HealthService } from './health/health.service';
import { PipelineGauges } from './health/pipeline-gauges';
import { RedisConnection } from './health/redis-connection';
import { PipelineController } from './pipeline/pipeline.controller';
import { PipelineQueues } from './pipeline/pipeline-queues';
import { pipelineQueueModules } from './pipeline/queue-board';
import { SessionsController } from './sessions/sessions.controller';
import { ReplayGateway } from './replay/gateway';
import { ReplayAuth } from './replay/replay-auth';
import { ReplayTokenController } from './replay/replay.controller';

export interface ApiOptions {
  databaseUrl: string;
  redisUrl: string;
  /** BullMQ key prefix of the pipeline's queues (default `rewind`). */
  queuePrefix?: string;
  /**
   * API keys (REWIND_API_KEYS entries: `<key>` = every scope, or `<key>:read+replay+admin`) and the
   * installation secret the replay tokens are signed with. Without keys every guarded route answers 401.
   */
  replay?: { apiKeys: string[]; secret: Buffer };
  /** Where audits read back handoff receipts (REWIND_REWARDS_URL); unset: not asked. */
  rewardsUrl?: string;
  rewardsApiKey?: string;
  /** false: no request logs (an embedding process, tests). */
  logger?: boolean;
}

@Module({})
export class AppModule {
  static forRoot(options: ApiOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        DbModule.forRoot({ databaseUrl: options.databaseUrl }),
        EventStoreModule,
        // The pipeline's queues (producer-only) and Bull Board at /queues, admin keys only.
        ...pipelineQueueModules({ redisUrl: options.redisUrl, ...(options.queuePrefix ? { queuePrefix: options.queuePrefix } : {}), apiKeys: options.replay?.apiKeys ?? [] }),
        TerminusModule.forRoot({ logger: false }),
        MetricsModule.forRoot({ http: true }),
        LoggingModule.forRoot({ useRoot: true, autoLogging: options.logger !== false }),
      ],
      controllers: [HealthController, SessionsController, AuditController, AnalyticsController, ReplayTokenController, PipelineController],
      providers: [
        { provide: ApiKeys, useFactory: () => new ApiKeys(options.replay?.apiKeys ?? []) },
        { provide: APP_GUARD, useClass: ScopeGuard },
        { provide: ReplayAuth, inject: [ApiKeys], useFactory: (keys: ApiKeys) => new ReplayAuth(keys, options.replay?.secret ?? randomBytes(32)) },
        PipelineQueues,
        // A probe waits for the connection (bounded by the health check's own timeout) instead of
        // failing while ioredis is still connecting; a Redis that stays away fails the probe.
        { provide: RedisConnection, useFactory: () => new RedisConnection(options.redisUrl) },
        {
          provide: AuditService,
          inject: [PG_POOL, EventStore],
          useFactory: (pool: Pool, store: EventStore) =>
            new AuditService(pool, store, { ...(options.rewardsUrl ? { rewardsUrl: options.rewardsUrl } : {}), ...(options.rewardsApiKey ? { rewardsApiKey: options.rewardsApiKey } : {}) }),
        },
        HealthService,
        // The replay WebSockets (`/replay/…` on the API's port, through ReplayWsAdapter: see startApi).
        ReplayGateway,
        PipelineGauges,
      ],
    };
  }
}
