import { hmacFloats } from '../hmac-floats';
import { diceMultiplierH, dicePayoutCents, diceRollH, diceWins, playDice } from './dice';

const serverSeed = 'f'.repeat(63) + '0';

describe('dice', () => {
  it('given a seed pair, when rolling, then roll = floor(first float × 10001) in hundredths', () => {
    const [f] = hmacFloats(serverSeed, 'seed', 3, 1);
    expect(diceRollH(serverSeed, 'seed', 3)).toBe(Math.floor(f! * 10001));
  });

  it('given many nonces, when rolling, then every roll is within 0.00 … 100.00 and repeats for the same inputs', () => {
    for (let n = 0; n < 500; n++) {
      const r = diceRollH(serverSeed, 'c', n);
      expect(Number.isInteger(r) && r >= 0 && r <= 10000).toBe(true);
      expect(diceRollH(serverSeed, 'c', n)).toBe(r);
    }
  });

  it('given over/under, when the roll equals the target, then it loses (strict comparison)', () => {
    expect(diceWins({ targetH: 5000, condition: 'over' }, 5000)).toBe(false);
    expect(diceWins({ targetH: 5000, condition: 'over' }, 5001)).toBe(true);
    expect(diceWins({ targetH: 5000, condition: 'under' }, 5000)).toBe(false);
    expect(diceWins({ targetH: 5000, condition: 'under' }, 4999)).toBe(true);
  });

  it('given an RTP, when pricing, then multiplier = RTP / win chance rounded half up to 0.01', () => {
    expect(diceMultiplierH(9500, { targetH: 5000, condition: 'over' })).toBe(Math.round((95 / 50) * 100));
    expect(diceMultiplierH(9900, { targetH: 2500, condition: 'under' })).toBe(Math.round((99 / 25) * 100));
    expect(diceMultiplierH(9500, { targetH: 200, condition: 'over' })).toBe(Math.round((95 / 98) * 100));
  });

  it('given a win chance outside 0.01 … 98 %, when pricing, then the bet is refused', () => {
    expect(diceMultiplierH(9500, { targetH: 150, condition: 'over' })).toBeUndefined();
    expect(diceMultiplierH(9500, { targetH: 9900, condition: 'under' })).toBeUndefined();
    expect(diceMultiplierH(9500, { targetH: 10000, condition: 'over' })).toBeUndefined();
    expect(() => playDice(serverSeed, 'c', 0, 9500, { targetH: 9900, condition: 'under' })).toThrow(RangeError);
  });

  it('given 20 000 bets at 50 % and RTP 95 %, when settled, then the return is close to 95 %', () => {
    let wagered = 0;
    let paid = 0;
    for (let n = 0; n < 20000; n++) {
      const outcome = playDice(serverSeed, 'rtp', n, 9500, { targetH: 5000, condition: 'over' });
      wagered += 100;
      paid += dicePayoutCents(100, outcome);
    }
    expect(paid / wagered).toBeGreaterThan(0.92);
    expect(paid / wagered).toBeLessThan(0.98);
  });
});
