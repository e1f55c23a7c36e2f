import { randomBytes } from 'node:crypto';
import { DynamicModule, Module } from '@nestjs/common';
import { DbModule } from '@rewind/db';
import { EventStoreModule } from '@rewind/event-store';
import { HealthController } from './health/health.controller';
import { HealthService } from './health/health.service';
import { RedisConnection } from './health/redis-connection';
import { MetricsController, PipelineController, QueueDashboardController } from './pipeline/pipeline.controller';
import { PipelineQueues } from './pipeline/pipeline-queues';
import { SessionsController } from './sessions/sessions.controller';
import { ReplayAuth } from './replay/replay-auth';
import { ReplayTokenController } from './replay/replay.controller';

export interface ApiOptions {
  databaseUrl: string;
  redisUrl: string;
  /** BullMQ key prefix of the pipeline's queues (default `rewind`). */
  queuePrefix?: string;
  /** Replay access: API keys and the installation secret the replay tokens are signed with. */
  replay?: { apiKeys: string[]; secret: Buffer };
}

@Module({})
export class AppModule {
  static forRoot(options: ApiOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [DbModule.forRoot({ databaseUrl: options.databaseUrl }), EventStoreModule],
      controllers: [HealthController, SessionsController, ReplayTokenController, PipelineController, MetricsController, QueueDashboardController],
      providers: [
        { provide: ReplayAuth, useFactory: () => new ReplayAuth(options.replay?.apiKeys ?? [], options.replay?.secret ?? randomBytes(32)) },
        { provide: PipelineQueues, useFactory: () => new PipelineQueues(options.redisUrl, options.queuePrefix ?? 'rewind') },
        // A probe waits for the connection (bounded by the health check's own timeout) instead of
        // failing while ioredis is still connecting; a Redis that stays away fails the probe.
        { provide: RedisConnection, useFactory: () => new RedisConnection(options.redisUrl) },
        HealthService,
      ],
    };
  }
}
