import { diceMultiplierH, diceRollH, diceWins, DiceCondition } from './games/dice';
import { parseGameCode } from './games/game-codes';
import { minePositions, minesMultiplierH, MINES_GRID_SIZE } from './games/mines';
import { sha256Hex } from './hmac-floats';
import { formatCents, parseCents, payoutCents } from './money';

export { hmacFloats, sha256Hex, bytesToFloat } from './hmac-floats';

/**
 * A pure verifier for one settled RGS round, as the audit sees it: the revealed server seed must hash to
 * the commitment shown before play, the outcome must recompute from HMAC-SHA256(serverSeed,
 * `${clientSeed}:${nonce}:${cursor}`), the multiplier must follow the game's rules for its RTP, and
 * payout = floor(wager × multiplier) to the cent. No I/O; same input → same verdict.
 */

/** `state` of a Dice round as served by GET /game/round/{id}. */
export interface DiceStateWire {
  target: number;
  condition: DiceCondition;
  roll: number;
  winChance?: number;
  multiplier?: string;
}

/** `state` of a settled Mines round as served by GET /game/round/{id}. */
export interface MinesStateWire {
  active: boolean;
  mineCount: number;
  rounds: { field: number; multiplier: string }[];
  mines?: number[];
  mineHit?: number;
}

export interface VerifyRoundInput {
  serverSeed: string;
  serverSeedHash: string;
  clientSeed: string;
  nonce: number;
  /** Full game code with RTP suffix, e.g. "dice-alpha". */
  gameId: string;
  /** Wager, payout and payout multiplier as recorded ("1.00", "1.90", "1.90"; a loss is "0.00" × "0.00"). */
  amount: string;
  payout: string;
  multiplier: string;
  state: DiceStateWire | MinesStateWire;
}

export type VerifyCheckName = 'commitment' | 'outcome' | 'multiplier' | 'payout';

export interface VerifyCheck {
  name: VerifyCheckName;
  ok: boolean;
  detail: string;
}

export interface VerifyResult {
  verified: boolean;
  checks: VerifyCheck[];
}

/** The GET /game/round/{id} body (only the fields the verifier needs). */
export interface RoundDetailsWire {
  round: { id: string; gameId: string; amount: string; payout: string | null; multiplier: string | null; active: boolean };
  seed: { serverSeedHash: string; clientSeed: string; nonce: number; serverSeed?: string };
  state: DiceStateWire | MinesStateWire;
}

export function verifyRound(input: VerifyRoundInput): VerifyResult {
  const checks: VerifyCheck[] = [];
  const hash = sha256Hex(input.serverSeed);
  checks.push({
    name: 'commitment',
    ok: hash === input.serverSeedHash.toLowerCase(),
    detail: `sha256(serverSeed) = ${hash}, committed ${input.serverSeedHash}`,
  });
  const game = parseGameCode(input.gameId);
  if (!game) {
    checks.push({ name: 'outcome', ok: false, detail: `unknown game code ${JSON.stringify(input.gameId)}` });
    return { verified: false, checks };
  }
  const expectedMultiplierH = game.slug === 'dice' ? verifyDice(input, game.rtpBp, checks) : verifyMines(input, game.rtpBp, checks);
  const recordedMultiplierH = parseCents(input.multiplier);
  checks.push({
    name: 'multiplier',
    ok: expectedMultiplierH !== undefined && recordedMultiplierH === expectedMultiplierH,
    detail: `expected ${expectedMultiplierH === undefined ? 'n/a' : formatCents(expectedMultiplierH)}, recorded ${input.multiplier}`,
  });
  const amount = parseCents(input.amount);
  const payout = parseCents(input.payout);
  const expectedPayout = amount !== undefined && recordedMultiplierH !== undefined ? payoutCents(amount, recordedMultiplierH) : undefined;
  checks.push({
    name: 'payout',
    ok: expectedPayout !== undefined && payout === expectedPayout,
    detail: `floor(${input.amount} × ${input.multiplier}) = ${expectedPayout === undefined ? 'n/a' : formatCents(expectedPayout)}, recorded ${input.payout}`,
  });
  return { verified: checks.every((c) => c.ok), checks };
}

/** Verifies a GET /game/round/{id} body; fails the commitment check when the server seed is not yet revealed. */
export function verifyRoundDetails(details: RoundDetailsWire): VerifyResult {
  if (details.seed.serverSeed === undefined || details.round.active || details.round.payout === null || details.round.multiplier === null) {
    return { verified: false, checks: [{ name: 'commitment', ok: false, detail: 'round still active or server seed not revealed yet (rotate the seed pair first)' }] };
  }
  return verifyRound({
    serverSeed: details.seed.serverSeed,
    serverSeedHash: details.seed.serverSeedHash,
    clientSeed: details.seed.clientSeed,
    nonce: details.seed.nonce,
    gameId: details.round.gameId,
    amount: details.round.amount,
    payout: details.round.payout,
    multiplier: details.round.multiplier,
    state: details.state,
  });
}

const hundredths = (n: unknown): number | undefined => (typeof n === 'number' && Number.isFinite(n) ? Math.round(n * 100) : undefined);

/** Pushes the outcome check; returns the expected payout multiplier (hundredths). */
function verifyDice(input: VerifyRoundInput, rtpBp: number, checks: VerifyCheck[]): number | undefined {
  const s = input.state as DiceStateWire;
  const targetH = hundredths(s.target);
  const recordedRollH = hundredths(s.roll);
  const condition = s.condition;
  if (targetH === undefined || (condition !== 'over' && condition !== 'under')) {
    checks.push({ name: 'outcome', ok: false, detail: 'dice state lacks target/condition' });
    return undefined;
  }
  const rollH = diceRollH(input.serverSeed, input.clientSeed, input.nonce);
  checks.push({ name: 'outcome', ok: rollH === recordedRollH, detail: `recomputed roll ${(rollH / 100).toFixed(2)}, recorded ${String(s.roll)}` });
  const betMultiplierH = diceMultiplierH(rtpBp, { targetH, condition });
  if (betMultiplierH === undefined) return undefined;
  return diceWins({ targetH, condition }, rollH) ? betMultiplierH : 0;
}

function verifyMines(input: VerifyRoundInput, rtpBp: number, checks: VerifyCheck[]): number | undefined {
  const s = input.state as MinesStateWire;
  if (!Number.isInteger(s.mineCount) || !Array.isArray(s.rounds) || s.active) {
    checks.push({ name: 'outcome', ok: false, detail: 'mines state is incomplete or still active' });
    return undefined;
  }
  const mines = minePositions(input.serverSeed, input.clientSeed, input.nonce, s.mineCount);
  const recorded = [...(s.mines ?? [])].sort((a, b) => a - b);
  const sameMines = recorded.length === mines.length && recorded.every((m, i) => m === mines[i]);
  const safeOk = s.rounds.every((r) => Number.isInteger(r.field) && r.field >= 0 && r.field < MINES_GRID_SIZE && !mines.includes(r.field));
  const hitOk = s.mineHit === undefined || mines.includes(s.mineHit);
  const stepsOk = s.rounds.every((r, i) => parseCents(r.multiplier) === minesMultiplierH(rtpBp, s.mineCount, i + 1));
  checks.push({
    name: 'outcome',
    ok: sameMines && safeOk && hitOk && stepsOk,
    detail: `recomputed mines [${mines.join(',')}], recorded [${recorded.join(',')}]; revealed safe fields ${safeOk ? 'ok' : 'include a mine'}; hit ${hitOk ? 'ok' : 'is not a mine'}; step multipliers ${stepsOk ? 'ok' : 'differ'}`,
  });
  if (s.mineHit !== undefined) return 0;
  return minesMultiplierH(rtpBp, s.mineCount, s.rounds.length);
}
