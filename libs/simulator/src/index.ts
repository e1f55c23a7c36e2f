export * from './simulator';
export * from './core/types';
export * from './core/faults';
export * from './core/rng';
export * from './rewards';
export { isFlappyFrame, isFlappyFrameMessage, flappyFrameProblems } from './moltstation/flappybots-frame-validator';
// The process-wide MoltStation knobs that tests turn (e.g. a shorter round), for the tests of other libraries.
export { setMoltStationOptions, resetMoltStationOptions, type MoltStationOptionsPatch } from './moltstation/options';
