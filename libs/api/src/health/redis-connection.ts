import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS_RECONNECT, redisRetryStrategy } from '@rewind/backoff';

/**
 * The API's Redis client. Probes wait for the connection (bounded by the health check's timeout) rather
 * than fail while ioredis is still connecting; each new connection error is logged once, not every
 * retry; and reconnecting stops for good on shutdown.
 */
@Injectable()
export class RedisConnection implements OnModuleDestroy {
  readonly client: Redis;
  private closing = false;
  private lastError = '';

  constructor(url: string) {
    this.client = new Redis(url, {
      maxRetriesPerRequest: 1,
      // ioredis's disconnect() arms this timer for a stream that may already be closed (a failed
      // connection never emits 'close' again), which held shutdown for the 2 s default.
      disconnectTimeout: 100,
      retryStrategy: redisRetryStrategy(REDIS_RECONNECT, () => this.closing),
    });
    this.client.on('error', (e: Error) => {
      if (e.message !== this.lastError) Logger.warn(`redis: ${e.message}`, 'RewindApi');
      this.lastError = e.message;
    });
    this.client.on('ready', () => (this.lastError = ''));
  }

  onModuleDestroy(): void {
    this.closing = true;
    this.client.disconnect(false);
  }
}
