import Redis, { type RedisOptions } from 'ioredis';
import { redisRetryStrategy } from '@rewind/backoff';

/** Raised by `offer` (and the vault) while Redis cannot be reached: callers retry later. */
export class RedisUnavailableError extends Error {
  constructor(what: string, cause?: unknown) {
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    super(`${what}: Redis is unavailable${detail} (retry later)`);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * A command connection that fails fast while Redis is away (no offline queue, one retry) instead of
 * queueing commands for later, and keeps reconnecting in the background until `disconnect()`.
 */
export function fastFailRedis(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    // disconnect() arms this timer even for a stream that never connected; keep shutdown short.
    disconnectTimeout: 100,
    connectTimeout: 5000,
    // Every Rewind connection's reconnect back-off (`@rewind/backoff`: 200 ms, doubling, capped at 2 s).
    retryStrategy: redisRetryStrategy(),
    ...extra,
  });
}

/** Logs each distinct connection error once (not on every reconnect attempt) until the next success. */
export class ErrorOnce {
  private last = '';
  constructor(private readonly emit: (message: string) => void) {}
  error(prefix: string, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    if (message === this.last) return;
    this.last = message;
    this.emit(`${prefix}: ${message}`);
  }
  reset(): void {
    this.last = '';
  }
}

const CONNECTION_ERROR = /Stream isn't writeable|Connection is closed|max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE/i;

/** An error of the connection (not of the command): the caller should retry once Redis is back. */
export function isConnectionError(e: unknown): boolean {
  return e instanceof Error && CONNECTION_ERROR.test(e.message);
}

/**
 * True once `redis` is ready, waiting at most `ms` for a connection that is (re)connecting; false when
 * it is not ready by then (Redis away) or was closed.
 */
export async function whenReady(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  if (redis.status === 'end' || redis.status === 'wait') return false;
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      resolve(ok);
    };
    const onReady = () => done(true);
    const onEnd = () => done(false);
    const timer = setTimeout(() => done(redis.status === 'ready'), ms);
    redis.on('ready', onReady);
    redis.on('end', onEnd);
  });
}
