/**
 * MoltStation simulator (ShellRunners, Flappy Bots): HTTP API + play/spectate WebSockets, seeded,
 * with fault injection. See docs/simulator/moltstation.md.
 */
import type { PlatformFactory } from '../core/types';
import { handleMoltHttp } from './http-api';
import { MoltStationState } from './sessions';
import { MoltWsHandler } from './ws-handler';

export { setMoltStationOptions, resetMoltStationOptions, getMoltStationOptions, DEFAULT_MOLTSTATION_OPTIONS } from './options';
export type { MoltStationOptions, ShellRunnersParams } from './options';
export { isFlappyFrame, flappyFrameProblems, isFlappyFrameMessage } from './flappybots-frame-validator';
export { FlappyBotsEngine } from './flappybots-engine';
export { ShellRunnersEngine } from './shellrunners-engine';
export { CLOSE as MOLT_CLOSE } from './protocol';
export { MOLT_FAULTS } from './faults';

export const createMoltStationSimulator: PlatformFactory = (ctx) => {
  const state = new MoltStationState(ctx);
  const ws = new MoltWsHandler(state);
  return {
    platform: 'moltstation',
    handleHttp: (req, res, path) => handleMoltHttp(state, req, res, path),
    handleUpgrade: (req, socket, head, path) => ws.handleUpgrade(req, socket, head, path),
    async close() {
      state.shutdown();
      await ws.close();
    },
  };
};
