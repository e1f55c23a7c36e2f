import { hmacFloats } from '../hmac-floats';
import { divRoundHalfUp, payoutCents } from '../money';

/**
 * Dice: one float → roll = floor(f × 10001) / 100, i.e. 0.00 … 100.00 (held in hundredths, 0 … 10000).
 * "over": wins when roll > target, win chance = 100 − target. "under": wins when roll < target, win
 * chance = target. Win chance must be 0.01 … 98.00 %. Multiplier = RTP / win chance, in hundredths,
 * rounded half up: round(rtpBp × 100 / winChanceHundredths).
 */
export type DiceCondition = 'over' | 'under';

export interface DiceBet {
  /** Target in hundredths (50.5 → 5050). */
  targetH: number;
  condition: DiceCondition;
}

export interface DiceOutcome {
  rollH: number;
  win: boolean;
  /** Hundredths of a percent. */
  winChanceH: number;
  /** Hundredths ("1.90" = 190). */
  multiplierH: number;
}

export const DICE_MIN_WIN_CHANCE_H = 1;
export const DICE_MAX_WIN_CHANCE_H = 9800;

export function diceRollH(serverSeed: string, clientSeed: string, nonce: number): number {
  const [f] = hmacFloats(serverSeed, clientSeed, nonce, 1);
  return Math.floor((f as number) * 10001);
}

export function diceWinChanceH(bet: DiceBet): number {
  return bet.condition === 'over' ? 10000 - bet.targetH : bet.targetH;
}

/** Undefined when the bet is outside the allowed win-chance range. */
export function diceMultiplierH(rtpBp: number, bet: DiceBet): number | undefined {
  const chance = diceWinChanceH(bet);
  if (!Number.isInteger(chance) || chance < DICE_MIN_WIN_CHANCE_H || chance > DICE_MAX_WIN_CHANCE_H) return undefined;
  return divRoundHalfUp(rtpBp * 100, chance);
}

export function diceWins(bet: DiceBet, rollH: number): boolean {
  return bet.condition === 'over' ? rollH > bet.targetH : rollH < bet.targetH;
}

export function playDice(serverSeed: string, clientSeed: string, nonce: number, rtpBp: number, bet: DiceBet): DiceOutcome {
  const multiplierH = diceMultiplierH(rtpBp, bet);
  if (multiplierH === undefined) throw new RangeError('dice bet outside the allowed win chance');
  const rollH = diceRollH(serverSeed, clientSeed, nonce);
  return { rollH, win: diceWins(bet, rollH), winChanceH: diceWinChanceH(bet), multiplierH };
}

/** Payout in cents for a settled dice bet (0 on a loss). */
export function dicePayoutCents(wagerCents: number, outcome: DiceOutcome): number {
  return outcome.win ? payoutCents(wagerCents, outcome.multiplierH) : 0;
}
