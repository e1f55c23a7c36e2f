export { backoff, redisRetryStrategy, REDIS_RECONNECT } from './backoff';
export type { Backoff, BackoffOptions, Jitter, RedisRetryStrategy } from './backoff';
export { withTimeout } from './timeout';
