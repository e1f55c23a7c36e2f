export * from './rgs-bot';
export * from './rgs-demo-bot';
