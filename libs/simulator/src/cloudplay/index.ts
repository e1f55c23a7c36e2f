import type { PlatformContext, PlatformFactory, PlatformSimulator } from '../core/types';
import { CloudplayFaults } from './faults';
import { CloudplayHttpApi } from './http-api';
import { CloudplayOptions, resolveOptions, scaleTimes } from './options';
import { SessionStore } from './session-store';

export { CLOUDPLAY_DEFAULTS } from './options';
export type { CloudplayOptions } from './options';
export { CLOUDPLAY_FAULTS } from './faults';
export type { CloudplayFault } from './faults';
export { CLOUDPLAY_GAMES } from './catalog';
export { userIdOf } from './auth';

/** A factory with explicit options, for hosts other than `startSimulator`. */
export function cloudplayFactory(options: Partial<CloudplayOptions> = {}): PlatformFactory {
  return (ctx) => buildCloudplay(ctx, resolveOptions(options));
}

/**
 * The cloud-play Sessions API under `/cloudplay/api/game/…`, with the options of
 * `startSimulator({ platformOptions: { cloudplay: {…} } })` (validated here; see docs/simulator/cloudplay.md).
 */
export const createCloudplaySimulator: PlatformFactory = (ctx) => buildCloudplay(ctx, resolveOptions((ctx.options ?? {}) as Partial<CloudplayOptions>));

function buildCloudplay(ctx: PlatformContext, options: CloudplayOptions): PlatformSimulator {
  const store = new SessionStore(options, scaleTimes(options), ctx.rng, ctx.log);
  const api = new CloudplayHttpApi({ store, faults: new CloudplayFaults(ctx.faults), seed: ctx.seed, now: ctx.now, maxBodyBytes: options.maxBodyBytes, log: ctx.log });
  return {
    platform: 'cloudplay',
    handleHttp: async (req, res, path) => {
      await api.handle(req, res, path);
      return true;
    },
    // The document describes no streaming socket on this API (the stream is WebRTC from the container).
    handleUpgrade: () => false,
    // No timers to clear: session state is a function of time, brought up to date on every request.
    close: async () => undefined,
  };
}
