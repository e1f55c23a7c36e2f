import type { PlatformContext, PlatformFactory, PlatformSimulator } from '../core/types';
import { DEFAULT_RGS_OPTIONS, RgsHttpApi, RgsOptions } from './http-api';
import { RgsFaults } from './rgs-faults';
import { RgsStore } from './store';

export { DEFAULT_RGS_OPTIONS, tokenFingerprint } from './http-api';
export type { RgsOptions } from './http-api';
export { RGS_FAULTS } from './rgs-faults';
export type { RgsFault } from './rgs-faults';
export { RGS_ERRORS } from './errors';
export type { RgsErrorCode } from './errors';
export * from '@rewind/platforms';

/** The RGS simulator with non-default options (shorter session TTL, another operator key, iframe base…). */
export function createRgsSimulatorWith(options: Partial<RgsOptions> = {}): PlatformFactory {
  return (ctx: PlatformContext): PlatformSimulator => {
    const opts: RgsOptions = { ...DEFAULT_RGS_OPTIONS, ...options };
    const store = new RgsStore({ rng: ctx.rng, now: ctx.now, sessionTtlMs: opts.sessionTtlMs });
    const faults = new RgsFaults(ctx.faults);
    const api = new RgsHttpApi(ctx, opts, store, faults);
    return {
      platform: 'rgs',
      handleHttp: (req, res, path) => api.handle(req, res, path),
      handleUpgrade: () => false,
      close: async () => faults.close(),
    };
  };
}

/**
 * Remote game server (casino): operator launch, Dice and Mines with provably-fair seeds, with the options of
 * `startSimulator({ platformOptions: { rgs: {…} } })`. See docs/simulator/rgs.md.
 */
export const createRgsSimulator: PlatformFactory = (ctx) => createRgsSimulatorWith((ctx.options ?? {}) as Partial<RgsOptions>)(ctx);
