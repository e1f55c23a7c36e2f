export * from './common';
export * from './ws-miner';
export * from './http-miner';
export * from './spacemolt-demo-bot';
