export { startApi } from './api';
export { AppModule, ApiOptions } from './app.module';
