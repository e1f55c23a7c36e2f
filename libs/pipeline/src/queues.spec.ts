import { backoffDelay, jobOptions } from './queues';

describe('pipeline retry policy', () => {
  const retry = { attempts: 5, backoffMs: 1000, maxBackoffMs: 8000 };
  it('given attempts, when the delay is computed, then it doubles from the base, is capped, and jitters within ±50 %', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, retry, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(backoffDelay(2, retry, () => 0)).toBe(1000);
    expect(backoffDelay(2, retry, () => 0.999999)).toBe(3000);
  });
  it('keeps dead letters until an operator acts, and completed jobs a week (job-id dedupe)', () => {
    expect(jobOptions(retry)).toMatchObject({ attempts: 5, backoff: { type: 'rewind-jitter' }, removeOnFail: false, removeOnComplete: { age: 604800 } });
  });
});
