export * from './recorder-service';
export * from './run-signals';
export * from './schedulers';
export * from './task-runners';
export * from './from-config';
export * from './orphan-journals';
export * from './recorder.module';
export * from './capture-processor';
