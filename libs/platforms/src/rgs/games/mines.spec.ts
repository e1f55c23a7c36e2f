import { hmacFloats } from '../hmac-floats';
import { currentMinesMultiplierH, minePositions, minesMultiplierH, revealField, startMines } from './mines';

const serverSeed = '0123456789abcdef'.repeat(4);

describe('mines', () => {
  it('given a mine count, when placing, then that many distinct sorted fields in 0 … 24', () => {
    for (let m = 1; m <= 24; m++) {
      const mines = minePositions(serverSeed, 'c', m, m);
      expect(mines).toHaveLength(m);
      expect(new Set(mines).size).toBe(m);
      expect(mines.every((f) => f >= 0 && f <= 24)).toBe(true);
      expect([...mines].sort((a, b) => a - b)).toEqual(mines);
    }
  });

  it('given the floats, when placing, then each float removes index floor(f × remaining) from [0 … 24]', () => {
    const floats = hmacFloats(serverSeed, 'x', 4, 10);
    const remaining = Array.from({ length: 25 }, (_, i) => i);
    const expected = floats.map((f) => remaining.splice(Math.floor(f * remaining.length), 1)[0]!);
    expect(minePositions(serverSeed, 'x', 4, 10)).toEqual(expected.sort((a, b) => a - b));
  });

  it("given the document's example (mines-alpha, 3 mines, one safe tile), when pricing, then the multiplier is 1.08", () => {
    expect(minesMultiplierH(9500, 3, 1)).toBe(108);
  });

  it('given more safe reveals, when pricing, then the multiplier never drops', () => {
    for (const m of [1, 3, 10, 24]) {
      for (let k = 1; k <= 25 - m; k++) expect(minesMultiplierH(9900, m, k)).toBeGreaterThanOrEqual(minesMultiplierH(9900, m, k - 1));
    }
  });

  it('given an open round, when a safe field is revealed, then it is recorded with its multiplier and the round stays open', () => {
    const state = startMines(serverSeed, 'c', 0, 3);
    const safe = [...Array(25).keys()].find((f) => !state.mines.includes(f))!;
    const { state: next, result } = revealField(state, 9500, safe);
    expect(result).toBe('safe');
    expect(next.active).toBe(true);
    expect(next.reveals).toEqual([{ field: safe, multiplierH: minesMultiplierH(9500, 3, 1) }]);
    expect(currentMinesMultiplierH(next)).toBe(minesMultiplierH(9500, 3, 1));
    expect(state.reveals).toEqual([]);
  });

  it('given an open round, when a mine is revealed, then the round ends with the hit recorded', () => {
    const state = startMines(serverSeed, 'c', 1, 5);
    const { state: next, result } = revealField(state, 9500, state.mines[0]!);
    expect(result).toBe('mine');
    expect(next).toMatchObject({ active: false, hit: state.mines[0] });
  });

  it('given every safe field revealed, when the last one is opened, then the round is cleared', () => {
    let state = startMines(serverSeed, 'c', 2, 24);
    const safe = [...Array(25).keys()].find((f) => !state.mines.includes(f))!;
    const r = revealField(state, 9500, safe);
    state = r.state;
    expect(r.result).toBe('cleared');
    expect(state.active).toBe(false);
  });
});
