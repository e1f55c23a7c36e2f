import { DynamicModule, Logger, Module } from '@nestjs/common';
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
        // A probe waits for the connection (bounded by the health check's own timeout) instead of
        // failing while ioredis is still connecting; a Redis that stays away fails the probe.
        {
          provide: REDIS,
          useFactory: () => {
            const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
            // Connection errors surface through /health/ready; log each new one once, not every retry.
            let last = '';
            redis.on('error', (e: Error) => {
              if (e.message !== last) Logger.warn(`redis: ${e.message}`, 'RewindApi');
              last = e.message;
            });
            redis.on('ready', () => (last = ''));
            return redis;
          },
        },
        HealthService,
      ],
    };
  }
}
