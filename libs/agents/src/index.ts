export * from './traffic-log';
export * from './http-exchange';
export * from './demo-bots';
export * from './registry';
export * from './cloudplay';
export * from './rgs';
export * from './spacemolt';
// MoltStation's client helpers (runSocket, attachSpectator…) have generic names: reach them as `moltstation.*`.
export * as moltstation from './moltstation';
