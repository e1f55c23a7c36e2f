import type { ActiveFault, FaultRegistry } from '../core/faults';

/**
 * Faults the cloud-play simulator honours (`platform: 'cloudplay'`). `target` may be a session id, the
 * user id, or the bearer token the user authenticates with; no target = everyone.
 *
 * - `status-429` {retryAfter?: seconds = 1, endpoints?}: 429 rate_limited with `Retry-After`.
 * - `status-503` {retryAfter?: seconds, endpoints?}: 503 no_servers (`Retry-After` only when given).
 * - `slow-start` {ms}: the launch takes exactly `ms` (timeScale not applied) before it is running.
 * - `fail-launch` {ms?}: the launch is accepted (202) but ends in `error` after `ms` (default: its normal start delay).
 * - `reclaim-now`: the next request the simulator sees reclaims the target's starting/running session
 *   (stopping, then stopped after stoppingMs), as the idle timeout would.
 *
 * `endpoints` (status faults only): list of `launch`, `session-status`, `keepalive`, `stop`, `sessions`
 * or `*`; default `["launch"]` (the document's 429/503 are launch answers).
 */
export const CLOUDPLAY_FAULTS = ['status-429', 'status-503', 'slow-start', 'fail-launch', 'reclaim-now'] as const;
export type CloudplayFault = (typeof CLOUDPLAY_FAULTS)[number];
export type Endpoint = 'launch' | 'session-status' | 'keepalive' | 'stop' | 'sessions';

export class CloudplayFaults {
  constructor(private readonly registry: FaultRegistry) {}

  /**
   * Consumes (counts as fired once) the first matching fault: one targeted at any of `targets` (in that
   * order) before a global one. `endpoint` filters status faults by their `endpoints` param.
   */
  take(fault: CloudplayFault, targets: readonly (string | undefined)[], endpoint?: Endpoint): Record<string, unknown> | undefined {
    const candidates = this.registry.list().filter((f) => f.platform === 'cloudplay' && f.fault === fault && appliesTo(f, endpoint));
    let hit: ActiveFault | undefined;
    for (const t of targets) {
      if (t === undefined) continue;
      hit = candidates.find((f) => f.target === t);
      if (hit) break;
    }
    hit ??= candidates.find((f) => f.target === undefined);
    if (!hit) return undefined;
    hit.fired++;
    if (hit.times !== undefined && hit.fired >= hit.times) this.registry.remove(hit.id);
    return hit.params ?? {};
  }

  /** Whether any fault of this name is active (a cheap check before scanning sessions). */
  has(fault: CloudplayFault): boolean {
    return this.registry.list().some((f) => f.platform === 'cloudplay' && f.fault === fault);
  }
}

function appliesTo(f: ActiveFault, endpoint: Endpoint | undefined): boolean {
  if (endpoint === undefined) return true;
  const raw = f.params?.['endpoints'];
  const list = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? [raw] : ['launch'];
  return list.includes('*') || list.includes(endpoint);
}

/** A non-negative finite number param, or the fallback. */
export function numberParam(params: Record<string, unknown>, name: string, fallback: number): number {
  const v = params[name];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback;
}
