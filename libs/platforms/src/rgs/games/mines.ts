import { hmacFloats } from '../hmac-floats';
import { divRoundHalfUp } from '../money';

/**
 * Mines on a 5×5 grid (fields 0 … 24, row-major). Placement: start from [0, 1, …, 24]; for the i-th float
 * (i = 0 … mineCount − 1) remove and take the element at index floor(f × remaining.length). The taken fields
 * are the mines (reported sorted ascending). Multiplier after k safe reveals with m mines:
 *   RTP × C(25, k) / C(25 − m, k), in hundredths, rounded half up.
 */
export const MINES_GRID_SIZE = 25;
export const MINES_MIN = 1;
export const MINES_MAX = 24;

export function minePositions(serverSeed: string, clientSeed: string, nonce: number, mineCount: number): number[] {
  const remaining = Array.from({ length: MINES_GRID_SIZE }, (_, i) => i);
  const mines: number[] = [];
  for (const f of hmacFloats(serverSeed, clientSeed, nonce, mineCount)) {
    const [field] = remaining.splice(Math.floor(f * remaining.length), 1);
    mines.push(field as number);
  }
  return mines.sort((a, b) => a - b);
}

function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

export function minesMultiplierH(rtpBp: number, mineCount: number, safeReveals: number): number {
  if (safeReveals === 0) return 100;
  return divRoundHalfUp(rtpBp * choose(MINES_GRID_SIZE, safeReveals), 100 * choose(MINES_GRID_SIZE - mineCount, safeReveals));
}

export interface MinesReveal {
  field: number;
  /** Hundredths after this reveal. */
  multiplierH: number;
}

export interface MinesState {
  mineCount: number;
  mines: number[];
  reveals: MinesReveal[];
  /** The field that hit a mine, if any. */
  hit?: number;
  active: boolean;
}

export type MinesRevealResult = 'safe' | 'mine' | 'cleared';

export function startMines(serverSeed: string, clientSeed: string, nonce: number, mineCount: number): MinesState {
  return { mineCount, mines: minePositions(serverSeed, clientSeed, nonce, mineCount), reveals: [], active: true };
}

/** Pure: the next state after revealing `field` (must be an unrevealed field 0 … 24 of an active round). */
export function revealField(state: MinesState, rtpBp: number, field: number): { state: MinesState; result: MinesRevealResult } {
  if (state.mines.includes(field)) return { state: { ...state, hit: field, active: false }, result: 'mine' };
  const reveals = [...state.reveals, { field, multiplierH: minesMultiplierH(rtpBp, state.mineCount, state.reveals.length + 1) }];
  const cleared = reveals.length === MINES_GRID_SIZE - state.mineCount;
  return { state: { ...state, reveals, active: !cleared }, result: cleared ? 'cleared' : 'safe' };
}

export function currentMinesMultiplierH(state: MinesState): number {
  const last = state.reveals[state.reveals.length - 1];
  return last ? last.multiplierH : 100;
}
