import { DynamicModule, Module } from '@nestjs/common';
import { DbModule } from '@rewind/db';
import { EventStoreModule } from '@rewind/event-store';
import { HealthController } from './health/health.controller';
import { HealthService } from './health/health.service';
import { RedisConnection } from './health/redis-connection';

export interface ApiOptions {
  databaseUrl: string;
  redisUrl: string;
}

@Module({})
export class AppModule {
  static forRoot(options: ApiOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [DbModule.forRoot({ databaseUrl: options.databaseUrl }), EventStoreModule],
      controllers: [HealthController],
      providers: [
        // A probe waits for the connection (bounded by the health check's own timeout) instead of
        // failing while ioredis is still connecting; a Redis that stays away fails the probe.
        { provide: RedisConnection, useFactory: () => new RedisConnection(options.redisUrl) },
        HealthService,
      ],
    };
  }
}
