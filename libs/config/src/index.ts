export * from './config';
export * from './api-keys';
export * from './rewind-config.module';
