export * from './test-env';
export * from './databases';
export * from './fixtures';
