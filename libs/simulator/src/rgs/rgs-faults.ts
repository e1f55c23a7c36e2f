import type { FaultRegistry } from '../core/faults';
import { RgsError } from './errors';

/**
 * The fault names the RGS simulator honours (platform "rgs"; `target` = a session token or a session id;
 * no target = every request). See docs/simulator/rgs.md.
 */
export const RGS_FAULTS = ['delay', 'status-429', 'status-503', 'expire-session', 'forge-seed', 'round-initializing'] as const;
export type RgsFault = (typeof RGS_FAULTS)[number];

export class RgsFaults {
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  constructor(private readonly registry: FaultRegistry) {}

  /** Consumes a matching fault: one aimed at the session id first, then one aimed at the token, then a global one. */
  take(fault: RgsFault, token?: string, sessionId?: string): Record<string, unknown> | undefined {
    if (sessionId !== undefined) {
      const f = this.registry.peek('rgs', fault, sessionId);
      if (f && f.target === sessionId) return this.registry.take('rgs', fault, sessionId);
    }
    return this.registry.take('rgs', fault, token);
  }

  /** delay / status-429 / status-503, in that order, before the request is handled. */
  async beforeRequest(token?: string, sessionId?: string): Promise<void> {
    const delay = this.take('delay', token, sessionId);
    if (delay) await this.sleep(numberParam(delay['ms'], 1000));
    const tooMany = this.take('status-429', token, sessionId);
    if (tooMany) throw new RgsError('rate_limited', 'too many requests (injected fault)', { 'retry-after': String(numberParam(tooMany['retryAfter'], 1)) });
    const unavailable = this.take('status-503', token, sessionId);
    if (unavailable) throw new RgsError('service_unavailable', 'service temporarily unavailable (injected fault)', { 'retry-after': String(numberParam(unavailable['retryAfter'], 1)) });
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        resolve,
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve();
        }, ms),
      };
      this.timers.add(entry);
    });
  }

  /** Cancels pending delays (their requests go on at once; the host then closes the connections). */
  close(): void {
    for (const t of this.timers) {
      clearTimeout(t.timer);
      t.resolve();
    }
    this.timers.clear();
  }
}

function numberParam(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback;
}
