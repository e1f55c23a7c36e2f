export * from './types';
export * from './errors';
export * from './hash';
export * from './append';
export * from './event-store';
export * from './verify';
export { validateEvent, isUuid } from './validate';
export * from './event-store.module';
export * from './portable';
