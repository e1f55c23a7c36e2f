import { randomBytes } from 'node:crypto';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import type { Pool } from 'pg';
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
import { PipelineController, QueueDashboardController } from './pipeline/pipeline.controller';
import { PipelineQueues } from './pipeline/pipeline-queues';
import { SessionsController } from './sessions/sessions.controller';
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
        TerminusModule.forRoot({ logger: false }),
        MetricsModule.forRoot({ http: true }),
        LoggingModule.forRoot({ useRoot: true, autoLogging: options.logger !== false }),
      ],
      controllers: [HealthController, SessionsController, AuditController, AnalyticsController, ReplayTokenController, PipelineController, QueueDashboardController],
      providers: [
        { provide: ApiKeys, useFactory: () => new ApiKeys(options.replay?.apiKeys ?? []) },
        { provide: APP_GUARD, useClass: ScopeGuard },
        { provide: ReplayAuth, inject: [ApiKeys], useFactory: (keys: ApiKeys) => new ReplayAuth(keys, options.replay?.secret ?? randomBytes(32)) },
        { provide: PipelineQueues, useFactory: () => new PipelineQueues(options.redisUrl, options.queuePrefix ?? 'rewind') },
        // A probe waits for the connection (bounded by the health check's own timeout) instead of
        // failing while ioredis is still connecting; a Redis that stays away fails the probe.
        { provide: RedisConnection, useFactory: () => new RedisConnection(options.redisUrl) },
        {
          provide: AuditService,
          inject: [PG_POOL, EventStore],
          useFactory: (pool: Pool, store: EventStore) => new AuditService(pool, store, { ...(options.rewardsUrl ? { rewardsUrl: options.rewardsUrl } : {}), ...(options.rewardsApiKey ? { rewardsApiKey: options.rewardsApiKey } : {}) }),
        },
        HealthService,
        PipelineGauges,
      ],
    };
  }
}
