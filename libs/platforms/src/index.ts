// The platforms' protocol knowledge that the product (recorder, encoder, audit, replay gateway) and the simulator
// share: one module per platform (./<id>/) behind the `Platform` interface, and the registry (`platformOf`,
// `PLATFORMS`). See docs/adding-a-platform.md.
export * from './platforms';
export * from './vocabulary';
export * from './platform';
export * from './registry';
export * from './attribution';
export * from './frames';
export * from './frame-view';
export * from './redaction';
export * from './replay';
export * from './wire';
export * from './evidence/types';
export * from './evidence/json';
export * from './evidence/read';
export { moltstation, auditMoltStation, moltstationOutcome, finalFrameOf, frameOf, FLAPPY_FRAME_PHASES, flappyFrameProblems, isFlappyFrame, isFlappyFrameMessage } from './moltstation';
export { spacemolt, auditSpaceMolt } from './spacemolt';
export { cloudplay, auditCloudplay } from './cloudplay';
export { rgs, auditRgs } from './rgs';
export * from './rgs/provably-fair';
export * from './rgs/games/dice';
export * from './rgs/games/mines';
export * from './rgs/games/game-codes';
export * from './rgs/money';
