export { startApi, startApiModule, ApiStart } from './api';
export { AppModule, ApiOptions, API_OPTIONS } from './app.module';
export * from './replay/api-key-file';
export { apiOptionsFromConfig, apiModuleFromConfig } from './from-config';
export { runApiProcesses, ApiProcess, ApiProcessesOptions } from './cluster';
