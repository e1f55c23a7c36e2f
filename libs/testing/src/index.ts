// The database and event fixtures live beside what they test (no circular dependency); re-exported for every other spec.
export * from '@rewind/db/test-support';
export * from '@rewind/event-store/test-support';
export * from './http';
export * from './cli';
export * from './tcp-forwarder';
export * from './wait';
export * from './ports';
export * from '@rewind/fuzz';
