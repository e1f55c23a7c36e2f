import { LatenessProbe, latenessStats, percentile } from './lateness';

describe('lateness', () => {
  it('computes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([], 99)).toBe(0);
  });

  it('measures emit − scheduled per event', () => {
    const probe = new LatenessProbe();
    probe.record({ seq: 1, scheduledAtMs: 10, emittedAtMs: 10, latenessMs: 0 });
    probe.record({ seq: 2, scheduledAtMs: 20, emittedAtMs: 23, latenessMs: 999 }); // recomputed, not trusted
    expect(probe.samples.map((s) => s.latenessMs)).toEqual([0, 3]);
    expect(probe.stats()).toEqual({ count: 2, meanMs: 1.5, p50Ms: 0, p95Ms: 3, p99Ms: 3, maxMs: 3 });
    expect(latenessStats([])).toMatchObject({ count: 0, p99Ms: 0 });
  });
});
