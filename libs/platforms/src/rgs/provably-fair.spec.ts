import { playDice } from './games/dice';
import { minesMultiplierH, revealField, startMines } from './games/mines';
import { formatCents, payoutCents } from './money';
import { sha256Hex, verifyRound, verifyRoundDetails, VerifyRoundInput } from './provably-fair';

const serverSeed = '5'.repeat(32) + 'a'.repeat(32);
const serverSeedHash = sha256Hex(serverSeed);

function honestDice(nonce = 4): VerifyRoundInput {
  const bet = { targetH: 4000, condition: 'over' as const };
  const o = playDice(serverSeed, 'player-seed', nonce, 9500, bet);
  const mult = o.win ? o.multiplierH : 0;
  return {
    serverSeed,
    serverSeedHash,
    clientSeed: 'player-seed',
    nonce,
    gameId: 'dice-alpha',
    amount: '2.50',
    payout: formatCents(payoutCents(250, mult)),
    multiplier: formatCents(mult),
    state: { target: 40, condition: 'over', roll: o.rollH / 100 },
  };
}

function honestMines(cashOutAfter: number): VerifyRoundInput {
  let state = startMines(serverSeed, 'player-seed', 9, 3);
  const safe = [...Array(25).keys()].filter((f) => !state.mines.includes(f));
  for (const f of safe.slice(0, cashOutAfter)) state = revealField(state, 9500, f).state;
  const mult = minesMultiplierH(9500, 3, cashOutAfter);
  return {
    serverSeed,
    serverSeedHash,
    clientSeed: 'player-seed',
    nonce: 9,
    gameId: 'mines-alpha',
    amount: '1.00',
    payout: formatCents(payoutCents(100, mult)),
    multiplier: formatCents(mult),
    state: { active: false, mineCount: 3, rounds: state.reveals.map((r) => ({ field: r.field, multiplier: formatCents(r.multiplierH) })), mines: state.mines },
  };
}

describe('provably-fair verifier', () => {
  it('given an honest dice round, when verified, then every check passes', () => {
    for (let n = 0; n < 20; n++) {
      const result = verifyRound(honestDice(n));
      expect(result.checks.map((c) => c.name)).toEqual(['commitment', 'outcome', 'multiplier', 'payout']);
      expect(result.verified).toBe(true);
    }
  });

  it('given a revealed seed that does not hash to the commitment, when verified, then the commitment check fails', () => {
    const result = verifyRound({ ...honestDice(), serverSeed: 'b'.repeat(64) });
    expect(result.verified).toBe(false);
    expect(result.checks.find((c) => c.name === 'commitment')?.ok).toBe(false);
  });

  it('given a recorded roll that differs from the recomputed one, when verified, then the outcome check fails', () => {
    const input = honestDice();
    const state = input.state as { roll: number };
    const result = verifyRound({ ...input, state: { ...input.state, roll: state.roll === 50 ? 51 : 50 } as VerifyRoundInput['state'] });
    expect(result.verified).toBe(false);
    expect(result.checks.find((c) => c.name === 'outcome')?.ok).toBe(false);
  });

  it('given a payout other than wager × multiplier, when verified, then the payout check fails', () => {
    const input = honestDice();
    const result = verifyRound({ ...input, payout: '999.00' });
    expect(result.checks.find((c) => c.name === 'payout')?.ok).toBe(false);
    expect(result.verified).toBe(false);
  });

  it('given an honest mines cash-out, when verified, then it passes; with swapped mines it fails', () => {
    const honest = honestMines(4);
    expect(verifyRound(honest).verified).toBe(true);
    const mines = (honest.state as { mines: number[] }).mines;
    const other = [...Array(25).keys()].filter((f) => !mines.includes(f)).slice(-3);
    const forged = verifyRound({ ...honest, state: { ...honest.state, mines: other } as VerifyRoundInput['state'] });
    expect(forged.verified).toBe(false);
    expect(forged.checks.find((c) => c.name === 'outcome')?.ok).toBe(false);
  });

  it('given a lost mines round, when verified, then the hit must be a mine and the payout zero', () => {
    const start = startMines(serverSeed, 'player-seed', 9, 3);
    const hit = start.mines[1]!;
    const lost: VerifyRoundInput = { ...honestMines(0), payout: '0.00', multiplier: '0.00', state: { active: false, mineCount: 3, rounds: [], mines: start.mines, mineHit: hit } };
    expect(verifyRound(lost).verified).toBe(true);
    const notAMine = [...Array(25).keys()].find((f) => !start.mines.includes(f))!;
    expect(verifyRound({ ...lost, state: { ...lost.state, mineHit: notAMine } as VerifyRoundInput['state'] }).verified).toBe(false);
  });

  it('given an unknown game code, when verified, then it does not verify', () => {
    expect(verifyRound({ ...honestDice(), gameId: 'plinko-alpha' }).verified).toBe(false);
  });

  it('given round details without a revealed seed, when verified, then it does not verify', () => {
    const input = honestDice();
    const result = verifyRoundDetails({
      round: { id: 'r1', gameId: input.gameId, amount: input.amount, payout: input.payout, multiplier: input.multiplier, active: false },
      seed: { serverSeedHash, clientSeed: input.clientSeed, nonce: input.nonce },
      state: input.state,
    });
    expect(result.verified).toBe(false);
    const revealed = verifyRoundDetails({
      round: { id: 'r1', gameId: input.gameId, amount: input.amount, payout: input.payout, multiplier: input.multiplier, active: false },
      seed: { serverSeedHash, clientSeed: input.clientSeed, nonce: input.nonce, serverSeed },
      state: input.state,
    });
    expect(revealed.verified).toBe(true);
  });
});
