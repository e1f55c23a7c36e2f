export * from './traffic-log';
