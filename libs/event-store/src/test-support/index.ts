// Test support (`@rewind/event-store/test-support`), for specs and libs/testing only: sessions and events to append.
// It lives here, below libs/testing, so that the event store's own tests can use it without a circular dependency.
export * from './fixtures';
