import { waitFor, waitForFailure } from './wait';

describe('waitFor', () => {
  it('returns the first value that is not undefined, null or false (0 and "" count as values)', async () => {
    let n = 0;
    expect(await waitFor('the third check', () => (++n >= 3 ? `check ${n}` : n === 1 ? null : false), { intervalMs: 1 })).toBe('check 3');
    expect(await waitFor('zero', () => 0)).toBe(0);
  });

  it('with `until`, waits for the value to satisfy it and returns that value', async () => {
    let n = 0;
    expect(await waitFor('a count of 3', () => ++n, { until: (v) => v >= 3, intervalMs: 1 })).toBe(3);
  });

  it('treats a throwing check as not yet done', async () => {
    let n = 0;
    const v = await waitFor(
      'an expectation to hold',
      () => {
        n++;
        expect(n).toBeGreaterThanOrEqual(3);
        return n;
      },
      { intervalMs: 1 },
    );
    expect(v).toBe(3);
  });

  it('fails after the timeout naming what it waited for, how long, and the last value', async () => {
    let n = 0;
    await expect(waitFor('5 failed jobs', () => ++n, { until: (v) => v >= 1_000_000, timeoutMs: 60, intervalMs: 5 })).rejects.toThrow(
      /^waitFor: timed out after \d+ ms \(\d+ checks\) waiting for 5 failed jobs; last value: \d+$/,
    );
  });

  it('fails with the last error when the check kept throwing', async () => {
    await expect(
      waitFor(
        'the server',
        () => {
          throw new Error('connect ECONNREFUSED 127.0.0.1:1');
        },
        40,
        5,
      ),
    ).rejects.toThrow(/waiting for the server; last error: connect ECONNREFUSED 127\.0\.0\.1:1$/);
  });

  it('says so when no check completed, and shortens a long last value', () => {
    expect(waitForFailure('x', 10, 0, undefined)).toBe('waitFor: timed out after 10 ms (0 checks) waiting for x; no check completed');
    expect(waitForFailure('x', 10, 1, { value: 'y'.repeat(2000) }).length).toBeLessThan(600);
  });
});
