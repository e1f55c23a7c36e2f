export * from './simulator';
export * from './core/types';
export * from './core/faults';
export * from './core/rng';
export * from './rewards';
export { isFlappyFrame, isFlappyFrameMessage, flappyFrameProblems } from './moltstation/flappybots-frame-validator';
