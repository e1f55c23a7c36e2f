/**
 * Fault names honoured by the MoltStation simulator (platform "moltstation"; `target` = the platform
 * sessionId, or absent for every session). See docs/simulator/moltstation.md for the effects.
 */
import type { PlatformContext } from '../core/types';

export const MOLT_FAULTS = {
  /** HTTP: answer 429 RATE_LIMITED. params {path?: substring the request path must contain}. */
  STATUS_429: 'status-429',
  /** HTTP: answer 503 SERVICE_UNAVAILABLE. params {path?}. */
  STATUS_503: 'status-503',
  /** Token issued already expired → TOKEN_EXPIRED on connect. */
  EXPIRE_TOKEN: 'expire-token',
  /** Token issued already used → TOKEN_REPLAYED on first connect. */
  REPLAY_TOKEN: 'replay-token',
  /** spectate-token(-public) answers 409 SPECTATORS_FULL as if the cap were reached. */
  SPECTATORS_FULL: 'spectators-full',
  /** Play socket dropped without a close frame after {afterTicks} frames. */
  DROP_SOCKET: 'drop-socket',
  /** Play socket closed 1000 (reason params.reason ?? "") after {afterTicks} frames; the session keeps running. */
  CLOSE_1000: 'close-1000',
  /** Play socket closed 4001 INVALID_TOKEN after {afterTicks} frames (client token recovery). */
  CLOSE_4001: 'close-4001',
  /** Every socket of the session gets frames {ms} late (order kept). Consumed once per frame. */
  DELAY_FRAMES: 'delay-frames',
  /** Frames held and sent in bursts of {n}. Consumed once per frame. */
  BATCH_FRAMES: 'batch-frames',
  /** Play socket treated as a slow consumer: after {afterTicks} frames, {ticks} frames are skipped, then close 1013 SLOW_CONSUMER (unless {close:false}). */
  SLOW_CONSUMER: 'slow-consumer',
} as const;

export function num(params: Record<string, unknown> | undefined, key: string, fallback: number): number {
  const v = params?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

export class MoltFaults {
  constructor(private readonly ctx: PlatformContext) {}
  peek(name: string, sessionId?: string): Record<string, unknown> | undefined {
    const f = this.ctx.faults.peek('moltstation', name, sessionId);
    return f ? (f.params ?? {}) : undefined;
  }
  take(name: string, sessionId?: string): Record<string, unknown> | undefined {
    return this.ctx.faults.take('moltstation', name, sessionId);
  }
}
