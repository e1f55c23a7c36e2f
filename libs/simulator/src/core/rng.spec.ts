import { createRng } from './rng';

describe('createRng', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const take = (seed: string) => {
      const r = createRng(seed);
      return Array.from({ length: 50 }, () => r.next());
    };
    expect(take('seed-1')).toEqual(take('seed-1'));
    expect(take('seed-2')).not.toEqual(take('seed-1'));
  });

  it('stays in range and covers it', () => {
    const sut = createRng('range');
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const x = sut.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      const n = sut.int(3, 7);
      expect(Number.isInteger(n) && n >= 3 && n <= 7).toBe(true);
      seen.add(n);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7]);
  });

  it('forks independent, reproducible streams', () => {
    const one = createRng('root').fork('spectators');
    const two = createRng('root').fork('spectators');
    const other = createRng('root').fork('frames');
    const take = (r: ReturnType<typeof createRng>) => Array.from({ length: 10 }, () => r.int(0, 1_000_000));
    const first = take(one);
    expect(take(two)).toEqual(first);
    expect(take(other)).not.toEqual(first);
  });
});
