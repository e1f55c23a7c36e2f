import { backoff, redisRetryStrategy, REDIS_RECONNECT } from './backoff';

/** A random source that plays back the given values, in a loop. */
const values = (...v: number[]) => {
  let i = 0;
  return () => v[i++ % v.length] as number;
};

describe('backoff', () => {
  it('given no jitter, when attempts grow, then the delay doubles from the base and stays at the cap', () => {
    const delay = backoff({ baseMs: 100, maxMs: 1000 });
    expect([1, 2, 3, 4, 5, 6, 40].map(delay)).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('counts attempts from 1: attempt 0, a negative attempt and NaN wait the base delay', () => {
    const delay = backoff({ baseMs: 250, maxMs: 5000 });
    expect([0, -3, Number.NaN, 1].map(delay)).toEqual([250, 250, 250, 250]);
    expect(delay(2)).toBe(500);
  });

  it('gives the cap, not Infinity or NaN, for a huge attempt; a zero base stays 0', () => {
    expect(backoff({ baseMs: 1, maxMs: 60_000 })(1e6)).toBe(60_000);
    expect(backoff({ baseMs: 1000, maxMs: Infinity })(10)).toBe(512_000);
    expect(backoff({ baseMs: 0, maxMs: 5000 })(1e6)).toBe(0);
  });

  it('grows by the given factor (1: a constant delay)', () => {
    expect([1, 2, 3, 4].map(backoff({ baseMs: 10, maxMs: 1000, factor: 3 }))).toEqual([10, 30, 90, 270]);
    expect([1, 2, 9].map(backoff({ baseMs: 500, maxMs: 1000, factor: 1 }))).toEqual([500, 500, 500]);
  });

  it('a base above the cap waits the cap', () => {
    expect([1, 2].map(backoff({ baseMs: 60_000, maxMs: 30_000 }))).toEqual([30_000, 30_000]);
  });

  it('full jitter: uniform in [0, d]', () => {
    expect([1, 2, 3, 4, 5].map(backoff({ baseMs: 100, maxMs: 1000, jitter: 'full', random: () => 1 }))).toEqual([100, 200, 400, 800, 1000]);
    expect([1, 5].map(backoff({ baseMs: 100, maxMs: 1000, jitter: 'full', random: () => 0 }))).toEqual([0, 0]);
    expect(backoff({ baseMs: 100, maxMs: 1000, jitter: 'full', random: () => 0.5 })(3)).toBe(200);
  });

  it('equal jitter: uniform in [d/2, d], never above the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map(backoff({ baseMs: 100, maxMs: 1000, jitter: 'equal', random: () => 1 }))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 3, 4, 5, 6].map(backoff({ baseMs: 100, maxMs: 1000, jitter: 'equal', random: () => 0 }))).toEqual([50, 100, 200, 400, 500, 500]);
    expect(backoff({ baseMs: 100, maxMs: 1000, jitter: 'equal', random: () => 0.5 })(1000)).toBe(750);
  });

  it('spread jitter: uniform in [d·(1−s), d·(1+s)] around the capped delay', () => {
    const at = (r: number) => backoff({ baseMs: 1000, maxMs: 8000, jitter: { spread: 0.5 }, random: () => r });
    expect([1, 2, 3, 4, 5].map(at(0.5))).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(at(0)(2)).toBe(1000);
    expect(at(0.999999)(2)).toBe(3000);
    expect(at(0.999999)(9)).toBe(12_000);
    const tight = (r: number) => backoff({ baseMs: 1000, maxMs: 60_000, jitter: { spread: 0.2 }, random: () => r });
    expect([tight(0)(1), tight(0.5)(1), tight(1)(1)]).toEqual([800, 1000, 1200]);
  });

  it('clamps a random source that strays outside [0, 1]', () => {
    const delay = backoff({ baseMs: 100, maxMs: 1000, jitter: 'equal', random: values(-5, 7) });
    expect([delay(1), delay(1)]).toEqual([50, 100]);
  });

  it('given Math.random, then every delay stays in its jitter range and is an integer', () => {
    const equal = backoff({ baseMs: 100, maxMs: 1000, jitter: 'equal' });
    const full = backoff({ baseMs: 100, maxMs: 1000, jitter: 'full' });
    const spread = backoff({ baseMs: 100, maxMs: 1000, jitter: { spread: 0.5 } });
    for (let i = 0; i < 500; i++) {
      const attempt = 1 + (i % 8);
      const d = Math.min(1000, 100 * 2 ** (attempt - 1));
      const e = equal(attempt);
      const f = full(attempt);
      const s = spread(attempt);
      expect(Number.isInteger(e) && Number.isInteger(f) && Number.isInteger(s)).toBe(true);
      expect(e).toBeGreaterThanOrEqual(d / 2);
      expect(e).toBeLessThanOrEqual(d);
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThanOrEqual(d);
      expect(s).toBeGreaterThanOrEqual(d / 2);
      expect(s).toBeLessThanOrEqual(1.5 * d);
    }
  });

  it('refuses options that cannot make a delay', () => {
    expect(() => backoff({ baseMs: -1, maxMs: 10 })).toThrow(RangeError);
    expect(() => backoff({ baseMs: Number.NaN, maxMs: 10 })).toThrow(/baseMs/);
    expect(() => backoff({ baseMs: 1, maxMs: -1 })).toThrow(/maxMs/);
    expect(() => backoff({ baseMs: 1, maxMs: 10, factor: 0.5 })).toThrow(/factor/);
    expect(() => backoff({ baseMs: 1, maxMs: 10, jitter: { spread: 1.5 } })).toThrow(/spread/);
  });
});

describe('redisRetryStrategy', () => {
  it('reconnects from 200 ms, doubling, capped at 2 s, forever by default', () => {
    const strategy = redisRetryStrategy();
    expect([1, 2, 3, 4, 5, 6, 1000].map(strategy)).toEqual([200, 400, 800, 1600, 2000, 2000, 2000]);
    expect(REDIS_RECONNECT).toEqual({ baseMs: 200, maxMs: 2000 });
  });

  it('stops (null) once the connection is being closed', () => {
    let closing = false;
    const strategy = redisRetryStrategy(REDIS_RECONNECT, () => closing);
    expect(strategy(3)).toBe(800);
    closing = true;
    expect(strategy(4)).toBeNull();
  });
});
