import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PlatformContext } from '../core/types';
import { RewardsFaults } from './faults';
import { RewardsHttpApi } from './http-api';
import { RewardsOptions, resolveRewardsOptions } from './options';
import { HandoffStore } from './store';

export { REWARDS_DEFAULTS } from './options';
export type { RewardsOptions } from './options';
export { REWARDS_FAULTS, REWARDS_FAULT_PLATFORM, validateSimulatorFaultSpec, addSimulatorFault } from './faults';
export type { RewardsFault, RewardsFaultSpec, SimulatorFaultSpec } from './faults';
export type { Handoff } from './store';

/**
 * The rewards pipeline Rewind hands run outcomes to ("reward handoff"), mounted by the host under
 * `/rewards`. Not a recorded platform (not in SIMULATED_PLATFORMS): Rewind is its client, not its proxy.
 */
export interface RewardsService {
  /** `path` is what follows `/rewards` (starting with `/`, query string included). */
  handleHttp(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  /** Destroys requests held by a `timeout` fault. */
  close(): Promise<void>;
}

/** `ctx` as for a platform (its rng, faults, clock, log); `options` validated here (see docs/simulator/rewards.md). */
export function createRewardsService(ctx: Omit<PlatformContext, 'options' | 'baseUrl'>, options: Partial<RewardsOptions> = {}): RewardsService {
  const api = new RewardsHttpApi({
    store: new HandoffStore(ctx.rng.fork('handoffs'), ctx.now),
    faults: new RewardsFaults(ctx.faults),
    options: resolveRewardsOptions(options),
    log: ctx.log,
  });
  return {
    handleHttp: (req, res, path) => api.handle(req, res, path),
    close: async () => api.close(),
  };
}
