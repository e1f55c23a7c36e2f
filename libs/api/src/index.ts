export { startApi } from './api';
export { AppModule, ApiOptions } from './app.module';
export * from './replay/api-key-file';
export { apiOptionsFromConfig } from './from-config';
