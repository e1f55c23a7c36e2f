export * from './test-env';
export * from './databases';
export * from './fixtures';
export * from './http';
export * from './cli';
export * from './tcp-forwarder';
export * from './wait';
export * from './ports';
