export * from './target';
export * from './coordinator';
export * from './vault';
export { RedisUnavailableError, fastFailRedis } from './redis';
export { LockKeeper } from './lock-keeper';
