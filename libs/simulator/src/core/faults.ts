import type { SimulatedPlatform } from '@rewind/platforms';

/**
 * Fault injection, per platform, globally or for one platform session id. Configured at start-up
 * (SIMULATOR_FAULTS, JSON) or at run time through `POST /admin/faults`. Each platform documents the fault
 * names it honours; a fault can fire a limited number of times (`times`) or until cleared.
 */
export interface FaultSpec {
  platform: SimulatedPlatform;
  /** e.g. "drop-socket", "expire-token", "status-429", "delay-frames" (see each platform's README section). */
  fault: string;
  /** Only for this platform session id (or token, user…: the platform decides what the key matches). */
  target?: string;
  /** Fault-specific parameters, e.g. { afterTicks: 40 } or { ms: 200 }. */
  params?: Record<string, unknown>;
  /** How many times it fires before it clears itself; absent = until cleared. */
  times?: number;
}

export interface ActiveFault extends FaultSpec {
  id: number;
  fired: number;
}

export class FaultRegistry {
  private nextId = 1;
  private readonly active = new Map<number, ActiveFault>();

  add(spec: FaultSpec): ActiveFault {
    const fault: ActiveFault = { ...spec, id: this.nextId++, fired: 0 };
    this.active.set(fault.id, fault);
    return fault;
  }

  /** The first matching fault (target-specific ones before global ones), without consuming it. */
  peek(platform: SimulatedPlatform, fault: string, target?: string): ActiveFault | undefined {
    let global: ActiveFault | undefined;
    for (const f of this.active.values()) {
      if (f.platform !== platform || f.fault !== fault) continue;
      if (f.target !== undefined && f.target === target) return f;
      if (f.target === undefined && !global) global = f;
    }
    return global;
  }

  /** Returns the fault's params if a matching fault is active, counting it as fired once. */
  take(platform: SimulatedPlatform, fault: string, target?: string): Record<string, unknown> | undefined {
    const f = this.peek(platform, fault, target);
    if (!f) return undefined;
    f.fired++;
    if (f.times !== undefined && f.fired >= f.times) this.active.delete(f.id);
    return f.params ?? {};
  }

  list(): ActiveFault[] {
    return [...this.active.values()];
  }

  remove(id: number): boolean {
    return this.active.delete(id);
  }

  clear(platform?: SimulatedPlatform): void {
    for (const [id, f] of this.active) if (!platform || f.platform === platform) this.active.delete(id);
  }
}

export function parseFaultSpecs(json: string | undefined): FaultSpec[] {
  if (!json) return [];
  const parsed: unknown = JSON.parse(json);
  const list = Array.isArray(parsed) ? parsed : [parsed];
  return list.map((s, i) => validateFaultSpec(s, `SIMULATOR_FAULTS[${i}]`));
}

export function validateFaultSpec(raw: unknown, where = 'fault'): FaultSpec {
  const s = raw as Partial<FaultSpec> | null;
  if (!s || typeof s !== 'object') throw new Error(`${where} must be an object`);
  if (!['moltstation', 'spacemolt', 'cloudplay', 'rgs'].includes(String(s.platform))) throw new Error(`${where}.platform must be moltstation, spacemolt, cloudplay or rgs`);
  if (typeof s.fault !== 'string' || !s.fault) throw new Error(`${where}.fault must be a non-empty string`);
  if (s.target !== undefined && typeof s.target !== 'string') throw new Error(`${where}.target must be a string`);
  if (s.params !== undefined && (typeof s.params !== 'object' || s.params === null || Array.isArray(s.params))) throw new Error(`${where}.params must be an object`);
  if (s.times !== undefined && (!Number.isInteger(s.times) || s.times < 1)) throw new Error(`${where}.times must be a positive integer`);
  return { platform: s.platform as SimulatedPlatform, fault: s.fault, target: s.target, params: s.params, times: s.times };
}
