import { ActiveFault, FaultRegistry, FaultSpec, validateFaultSpec } from '../core/faults';
import { SIMULATED_PLATFORMS } from '../core/types';

/**
 * Faults the rewards endpoint honours (`platform: "rewards"`), on `POST /rewards/handoffs` only. `target` is
 * an Idempotency-Key; no target = every handoff. Checked in this order, and only the first match fires:
 *
 * - `timeout` {ms = 30000, commit = false}: the request is held `ms` without an answer, then its socket is
 *   destroyed (the client sees a reset, or its own timeout first). With `commit: true` the handoff is
 *   recorded before the hold (the downstream processed it but the answer was lost); otherwise it is not.
 * - `status-500`: 500 internal, nothing recorded.
 * - `status-503` {retryAfter?: seconds}: 503 unavailable, nothing recorded (`Retry-After` only when given).
 */
export const REWARDS_FAULTS = ['timeout', 'status-500', 'status-503'] as const;
export type RewardsFault = (typeof REWARDS_FAULTS)[number];

/** The rewards endpoint is no recorded platform, but its faults live in the same registry under this name. */
export const REWARDS_FAULT_PLATFORM = 'rewards';

/**
 * A fault spec for the rewards endpoint. `FaultSpec.platform` is typed as one of the four recorded platforms
 * (core/faults.ts); the registry itself only compares names, so rewards specs are stored through
 * `addSimulatorFault` and read back by `RewardsFaults`.
 */
export type RewardsFaultSpec = Omit<FaultSpec, 'platform'> & { platform: typeof REWARDS_FAULT_PLATFORM };
export type SimulatorFaultSpec = FaultSpec | RewardsFaultSpec;

/** `validateFaultSpec`, plus `platform: "rewards"` with its fault names and parameters checked. */
export function validateSimulatorFaultSpec(raw: unknown, where = 'fault'): SimulatorFaultSpec {
  const platform = raw && typeof raw === 'object' ? (raw as { platform?: unknown }).platform : undefined;
  if (platform !== REWARDS_FAULT_PLATFORM) {
    if (raw && typeof raw === 'object' && !(SIMULATED_PLATFORMS as readonly unknown[]).includes(platform)) {
      throw new Error(`${where}.platform must be moltstation, spacemolt, cloudplay, rgs or rewards`);
    }
    return validateFaultSpec(raw, where);
  }
  // The shared shape checks (target, params, times), then the rewards-specific ones.
  const spec = validateFaultSpec({ ...(raw as object), platform: 'rgs' }, where);
  if (!(REWARDS_FAULTS as readonly string[]).includes(spec.fault)) throw new Error(`${where}.fault must be one of ${REWARDS_FAULTS.join(', ')} for rewards`);
  const params = spec.params ?? {};
  const nonNegative = (name: string): void => {
    const v = params[name];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) throw new Error(`${where}.params.${name} must be a non-negative number`);
  };
  if (spec.fault === 'timeout') {
    nonNegative('ms');
    if (params['commit'] !== undefined && typeof params['commit'] !== 'boolean') throw new Error(`${where}.params.commit must be a boolean`);
  }
  if (spec.fault === 'status-503') nonNegative('retryAfter');
  return { ...spec, platform: REWARDS_FAULT_PLATFORM };
}

/** Adds any simulator fault spec (recorded platforms or rewards) to the registry. */
export function addSimulatorFault(registry: FaultRegistry, spec: SimulatorFaultSpec): ActiveFault {
  return registry.add(spec as FaultSpec);
}

export class RewardsFaults {
  constructor(private readonly registry: FaultRegistry) {}

  /**
   * The first fault of `REWARDS_FAULTS` order that matches (one aimed at `key` before a global one), consumed
   * (counted as fired once); undefined when none is active.
   */
  next(key: string): { fault: RewardsFault; params: Record<string, unknown> } | undefined {
    for (const fault of REWARDS_FAULTS) {
      const params = this.take(fault, key);
      if (params) return { fault, params };
    }
    return undefined;
  }

  private take(fault: RewardsFault, key: string): Record<string, unknown> | undefined {
    const candidates = this.registry.list().filter((f) => (f.platform as string) === REWARDS_FAULT_PLATFORM && f.fault === fault);
    const hit = candidates.find((f) => f.target === key) ?? candidates.find((f) => f.target === undefined);
    if (!hit) return undefined;
    hit.fired++;
    if (hit.times !== undefined && hit.fired >= hit.times) this.registry.remove(hit.id);
    return hit.params ?? {};
  }
}

/** A non-negative finite number param, or the fallback. */
export function numberParam(params: Record<string, unknown>, name: string, fallback: number): number {
  const v = params[name];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback;
}
