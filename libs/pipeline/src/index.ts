export * from './queues';
export * from './relay';
export * from './job-stream';
export * from './workers';
export * from './types';
export * from './service';
export * from './from-config';
export * from './dead-letters';
