export * from './spectator';
export * from './pollers';
