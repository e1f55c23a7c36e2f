export * from './logging/redaction';
export * from './logging/logger';
export * from './logging/logging.module';
export * from './metrics/registry';
export * from './metrics/rewind-metrics';
export * from './metrics/metrics-server';
export * from './metrics/metrics.module';
export * from './metrics/fast-metrics';
