/**
 * Money as integer minor units (cents) so balance continuity and payout = wager × multiplier are exact.
 * On the wire amounts, balances and multipliers are decimal strings with two places ("1.00", "1.08").
 */

const AMOUNT_RE = /^(0|[1-9]\d{0,11})(\.\d{1,2})?$/;

/**
 * "1.5" | "1.50" | 1.5 → 150; undefined when not a non-negative decimal with at most two places. JSON numbers
 * carry binary floating-point noise (10 + 35.13 = 45.13000000000001): a number within 1e-6 of a whole
 * number of hundredths counts as that many hundredths.
 */
export function parseCents(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || value >= 1e12) return undefined;
    const h = Math.round(value * 100);
    return Math.abs(value * 100 - h) < 1e-6 ? h : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const m = AMOUNT_RE.exec(value.trim());
  if (!m) return undefined;
  const whole = Number(m[1]);
  const frac = m[2] ? Number((m[2].slice(1) + '0').slice(0, 2)) : 0;
  return whole * 100 + frac;
}

/** 10400 → "104.00" */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Multipliers travel in hundredths ("1.08" = 108). */
export const parseMultiplier = parseCents;
export const formatMultiplier = formatCents;

/** payout = wager × multiplier, floored to the cent: floor(wagerCents × multiplierHundredths / 100). */
export function payoutCents(wagerCents: number, multiplierHundredths: number): number {
  return Math.floor((wagerCents * multiplierHundredths) / 100);
}

/** Integer division rounded half up (both operands positive). */
export function divRoundHalfUp(num: number, den: number): number {
  return Math.floor((2 * num + den) / (2 * den));
}
