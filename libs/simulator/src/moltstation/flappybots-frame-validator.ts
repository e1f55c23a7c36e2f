// The FlappyBots frame validator is MoltStation's protocol knowledge: it lives in its platform module (libs/platforms).
export { FLAPPY_FRAME_PHASES, flappyFrameProblems, isFlappyFrame, isFlappyFrameMessage } from '@rewind/platforms';
