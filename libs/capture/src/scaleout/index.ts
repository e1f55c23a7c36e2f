export * from './target';
export * from './coordinator';
export * from './vault';
export { RedisUnavailableError } from './redis';
