import { DynamicModule, Module } from '@nestjs/common';
import Redis from 'ioredis';
import { DbModule } from '@rewind/db';
import { EventStoreModule } from '@rewind/event-store';
import { HealthController } from './health/health.controller';
import { HealthService, REDIS } from './health/health.service';

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
        // Health probes must fail fast when Redis is away, not queue commands until it returns.
        { provide: REDIS, useFactory: () => new Redis(options.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false }) },
        HealthService,
      ],
    };
  }
}
