import { DynamicModule, Module } from '@nestjs/common';
import { DbModule } from '@rewind/db';
import { EventStoreModule } from '@rewind/event-store';
import { HealthController } from './health/health.controller';
import { HealthService } from './health/health.service';
import { RedisConnection } from './health/redis-connection';
import { MetricsController, PipelineController, QueueDashboardController } from './pipeline/pipeline.controller';
import { PipelineQueues } from './pipeline/pipeline-queues';
import { SessionsController } from './sessions/sessions.controller';

export interface ApiOptions {
  databaseUrl: string;
  redisUrl: string;
  /** BullMQ key prefix of the pipeline's queues (default `rewind`). */
  queuePrefix?: string;
}

@Module({})
export class AppModule {
  static forRoot(options: ApiOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [DbModule.forRoot({ databaseUrl: options.databaseUrl }), EventStoreModule],
      controllers: [HealthController, SessionsController, PipelineController, MetricsController, QueueDashboardController],
      providers: [
        { provide: PipelineQueues, useFactory: () => new PipelineQueues(options.redisUrl, options.queuePrefix ?? 'rewind') },
        // A probe waits for the connection (bounded by the health check's own timeout) instead of
        // failing while ioredis is still connecting; a Redis that stays away fails the probe.
        { provide: RedisConnection, useFactory: () => new RedisConnection(options.redisUrl) },
        HealthService,
      ],
    };
  }
}
