/**
 * Options of the rewards endpoint, from `startSimulator({ rewards: {…} })` or `createRewardsService(ctx, options)`.
 */
export interface RewardsOptions {
  /** When set, `POST /handoffs` requires `Authorization: Bearer <apiKey>` (401 otherwise). */
  apiKey?: string;
  /** Largest accepted handoff body; larger bodies get 413 payload_too_large. */
  maxBodyBytes: number;
}

export const REWARDS_DEFAULTS: Readonly<RewardsOptions> = Object.freeze({ maxBodyBytes: 256 * 1024 });

export function resolveRewardsOptions(partial: Partial<RewardsOptions> = {}): RewardsOptions {
  const o: RewardsOptions = { ...REWARDS_DEFAULTS, ...partial };
  if (o.apiKey !== undefined && (typeof o.apiKey !== 'string' || o.apiKey === '' || /\s/.test(o.apiKey))) {
    throw new Error('rewards option apiKey must be a non-empty string without whitespace');
  }
  if (!Number.isInteger(o.maxBodyBytes) || o.maxBodyBytes < 2) throw new Error('rewards option maxBodyBytes must be an integer >= 2');
  return o;
}
