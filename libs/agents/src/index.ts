export * from './traffic-log';
export * from './demo-bots';
export * from './registry';
export * from './cloudplay';
export * from './rgs';
