export * from './types';
export * from './clock';
export * from './markers';
export * from './lateness';
export * from './sources';
export * from './replay-session';
export * from './timer-heap';
export * from './envelope';
