import { randomBytes } from 'node:crypto';
import { DynamicModule, InjectionToken, Module, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
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
import { REPLAY_PORTS, ReplayPlatformListeners, ReplayPorts } from './replay/platform-listeners';
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
  /** Browser origins allowed to call the replay base's spectate-token endpoints (REWIND_CORS_ORIGINS); none: no CORS headers. */
  corsOrigins?: string[];
  /**
   * The replay gateway's per-platform ports (REWIND_REPLAY_PORT_MOLTSTATION / _SPACEMOLT), each serving its platform's own
   * paths at the root; absent or 0: off (what `startApi` callers get unless they ask, so tests started side by side do not collide).
   */
  replayPorts?: ReplayPorts;
  /** Where audits read back handoff receipts (REWIND_REWARDS_URL); unset: not asked. */
  rewardsUrl?: string;
  rewardsApiKey?: string;
  /** false: no request logs (an embedding process, tests). */
  logger?: boolean;
}

/** The API's options as a provider (AppModule.forRootAsync's factory), for the modules that configure themselves from them. */
export const API_OPTIONS = Symbol('API_OPTIONS');

/** `AppModule.forRootAsync`: the options from a factory (the process roots inject the validated configuration). */
export interface ApiAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => ApiOptions | Promise<ApiOptions>;
  /** false: no request logs (an embedding process, tests). Decided when the module is defined. */
  logger?: boolean;
}

@Module({})
class ApiOptionsModule {}

@Module({})
export class AppModule {
  static forRoot(options: ApiOptions): DynamicModule {
    return AppModule.forRootAsync({ useFactory: () => options, ...(options.logger === false ? { logger: false } : {}) });
  }

  /**
   * The API with its options from a factory: the database, the queues' Redis and prefix, the keys of Bull Board and
   * the guards, and the audits' receipts are all configured from what it returns (apps/api and `rewind up` give a
   * factory that injects REWIND_CONFIG, see `apiModuleFromConfig`).
   */
  static forRootAsync(o: ApiAsyncOptions): DynamicModule {
    const optionsModule: DynamicModule = {
      module: ApiOptionsModule,
      imports: o.imports ?? [],
      providers: [{ provide: API_OPTIONS, inject: o.inject ?? [], useFactory: o.useFactory as (...args: unknown[]) => ApiOptions | Promise<ApiOptions> }],
      exports: [API_OPTIONS],
    };
    return {
      module: AppModule,
      imports: [
        optionsModule,
        DbModule.forRootAsync({ imports: [optionsModule], inject: [API_OPTIONS], useFactory: (api: ApiOptions) => ({ databaseUrl: api.databaseUrl }) }),
        EventStoreModule,
        // The pipeline's queues (producer-only) and Bull Board at /queues, admin keys only.
        ...pipelineQueueModules({
          imports: [optionsModule],
          inject: [API_OPTIONS],
          useFactory: (api: ApiOptions) => ({ redisUrl: api.redisUrl, ...(api.queuePrefix ? { queuePrefix: api.queuePrefix } : {}), apiKeys: api.replay?.apiKeys ?? [] }),
        }),
        TerminusModule.forRoot({ logger: false }),
        MetricsModule.forRoot({ http: true }),
        LoggingModule.forRoot({ useRoot: true, autoLogging: o.logger !== false }),
      ],
      controllers: [HealthController, SessionsController, AuditController, AnalyticsController, ReplayTokenController, PipelineController],
      providers: [
        { provide: ApiKeys, inject: [API_OPTIONS], useFactory: (options: ApiOptions) => new ApiKeys(options.replay?.apiKeys ?? []) },
        { provide: APP_GUARD, useClass: ScopeGuard },
        { provide: ReplayAuth, inject: [ApiKeys, API_OPTIONS], useFactory: (keys: ApiKeys, options: ApiOptions) => new ReplayAuth(keys, options.replay?.secret ?? randomBytes(32)) },
        PipelineQueues,
        // A probe waits for the connection (bounded by the health check's own timeout) instead of
        // failing while ioredis is still connecting; a Redis that stays away fails the probe.
        { provide: RedisConnection, inject: [API_OPTIONS], useFactory: (options: ApiOptions) => new RedisConnection(options.redisUrl) },
        {
          provide: AuditService,
          inject: [PG_POOL, EventStore, API_OPTIONS],
          useFactory: (pool: Pool, store: EventStore, options: ApiOptions) =>
            new AuditService(pool, store, { ...(options.rewardsUrl ? { rewardsUrl: options.rewardsUrl } : {}), ...(options.rewardsApiKey ? { rewardsApiKey: options.rewardsApiKey } : {}) }),
        },
        HealthService,
        // The replay WebSockets (`/replay/…` on the API's port, through ReplayWsAdapter: see startApi).
        ReplayGateway,
        // The replay gateway's per-platform ports: the platforms' own paths at the root, handed to the same gateway and controller.
        { provide: REPLAY_PORTS, inject: [API_OPTIONS], useFactory: (options: ApiOptions): ReplayPorts => options.replayPorts ?? {} },
        ReplayPlatformListeners,
        PipelineGauges,
      ],
    };
  }
}
