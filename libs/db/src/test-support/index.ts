// Test support (`@rewind/db/test-support`), for specs and libs/testing only: the test run's databases. It lives here,
// below libs/testing, so that the database library's own tests can use it without a circular dependency.
export * from './test-env';
export * from './databases';
