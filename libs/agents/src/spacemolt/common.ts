import { createHash } from 'node:crypto';
import type { BotOptions } from '../traffic-log';

/** Options shared by the SpaceMolt miner bots. */
export interface SpaceMoltMinerOptions extends BotOptions {
  /** Mining cycles (undock → belt → mine until full → home → dock → sell → refuel). Default 1. */
  cycles?: number;
  /** Default: derived from the seed (same seed → same account name). */
  username?: string;
  empire?: 'solarian' | 'voidborn' | 'crimson' | 'nebula' | 'outerrim';
  registrationCode?: string;
  /** Log in with this password instead of registering. */
  password?: string;
  /** Give up waiting for one reply after this long (real clients use 10 min for mutations). Default 600 s. */
  timeoutMs?: number;
}

export interface SpaceMoltMinerSummary {
  username: string;
  password: string;
  playerId: string;
  cyclesCompleted: number;
  creditsStart: number;
  creditsEnd: number;
  creditsEarned: number;
  /** Units mined (sum of mining_yield quantities). */
  unitsMined: number;
  mineActions: number;
  unitsSold: number;
  /** Credits earned by sell actions (before refuel costs). */
  salesTotal: number;
  fuelBought: number;
  messagesSent: number;
  messagesReceived: number;
  pushesReceived: Record<string, number>;
  /** True when `signal` stopped the run early (the counts are partial). */
  aborted: boolean;
}

export function defaultUsername(prefix: string, seed: string | undefined): string {
  return `${prefix}_${createHash('sha256')
    .update(seed ?? 'rewind')
    .digest('hex')
    .slice(0, 10)}`;
}

export function emptySummary(username: string): SpaceMoltMinerSummary {
  return {
    username,
    password: '',
    playerId: '',
    cyclesCompleted: 0,
    creditsStart: 0,
    creditsEnd: 0,
    creditsEarned: 0,
    unitsMined: 0,
    mineActions: 0,
    unitsSold: 0,
    salesTotal: 0,
    fuelBought: 0,
    messagesSent: 0,
    messagesReceived: 0,
    pushesReceived: {},
    aborted: false,
  };
}

export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error('aborted');
}

/** The system layout the miners need: an asteroid belt and the POI with a base. */
export function pickPois(system: { pois?: { id: string; type: string; has_base?: boolean }[] }): { belt: string; home: string } {
  const pois = system.pois ?? [];
  const belt = pois.find((p) => p.type === 'asteroid_belt');
  const home = pois.find((p) => p.has_base);
  if (!belt || !home) throw new Error('no asteroid belt or base in this system');
  return { belt: belt.id, home: home.id };
}
