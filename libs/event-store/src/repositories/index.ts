export * from './sessions.repository';
export * from './event-reads.repository';
export * from './outbox.repository';
