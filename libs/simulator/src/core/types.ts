import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FaultRegistry } from './faults';
import type { SimulatedPlatform } from '@rewind/platforms';
import type { Rng } from './rng';

// The platforms are the product's list (the simulator simulates what Rewind records); re-exported for its users.
export { SIMULATED_PLATFORMS, type SimulatedPlatform } from '@rewind/platforms';

/** What every platform simulator gets from the host. */
export interface PlatformContext {
  /** Deterministic randomness for this platform, derived from the simulator seed. */
  rng: Rng;
  /** The simulator's seed (platforms derive per-session seeds from it). */
  seed: string;
  faults: FaultRegistry;
  /** The platform's public base URL, e.g. http://127.0.0.1:4100/moltstation (for URLs it hands out). */
  baseUrl: () => string;
  /** Milliseconds clock; tests may inject a fake. */
  now: () => number;
  log: (line: string) => void;
  /** Platform-specific options from `startSimulator({ platformOptions: { <platform>: … } })`; the
   *  platform validates them (and documents them on its page). Empty when none were given. */
  options?: Record<string, unknown>;
}

/**
 * One platform behind a base path (`/moltstation`, `/spacemolt`, `/cloudplay`, `/rgs`). The host strips
 * the base path: `path` is what the real platform would see (starting with `/`, query string included).
 */
export interface PlatformSimulator {
  readonly platform: SimulatedPlatform;
  /** Answer an HTTP request. Return false to let the host answer 404 (the platform's own 404 is better). */
  handleHttp(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> | boolean;
  /** Take a WebSocket upgrade. Return false to let the host refuse it (404). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): boolean;
  /** Stop timers and close sockets. */
  close(): Promise<void>;
}

export type PlatformFactory = (ctx: PlatformContext) => PlatformSimulator;
