import { deliveryProblems, firstSeqAtOrAfter, percentiles, prng, streamLateness } from './replay';
import { mergeStats } from './replay-worker';

describe('bench replay helpers', () => {
  it('anchors lateness at the earliest arrival the schedule allows', () => {
    // 50 ms schedule; the second event is the best placed (arrived exactly 50 ms after a 2 ms-late first).
    const late = streamLateness([102, 150, 210, 251], [50_000, 100_000, 150_000, 200_000], 1);
    expect(Array.from(late)).toEqual([2, 0, 10, 1]);
  });

  it('scales the schedule by speed', () => {
    const late = streamLateness([0, 25, 50], [0, 50_000, 100_000], 2);
    expect(Array.from(late)).toEqual([0, 0, 0]);
  });

  it('gives nearest-rank percentiles', () => {
    const p = percentiles(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(p).toEqual({ count: 100, p50: 50, p99: 99, max: 100 });
    expect(percentiles([]).count).toBe(0);
  });

  it('finds the first event at/after a seek offset', () => {
    expect(firstSeqAtOrAfter(0, 50_000)).toBe(1);
    expect(firstSeqAtOrAfter(50_000, 50_000)).toBe(1);
    expect(firstSeqAtOrAfter(50_001, 50_000)).toBe(2);
    expect(firstSeqAtOrAfter(3_600_000_000, 50_000)).toBe(72_000);
  });

  it('reports missing, duplicated and out-of-order deliveries', () => {
    expect(deliveryProblems([1, 2, 3], 3)).toEqual([]);
    expect(deliveryProblems([1, 3, 3, 2], 4)).toEqual(['1 missing', '1 duplicated', '2 out of order']);
    expect(deliveryProblems([1, 2, 5], 2)).toEqual(['1 outside 1..2']);
  });

  it('has a reproducible PRNG in [0, 1)', () => {
    const a = prng(42);
    const b = prng(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(xs).toEqual(Array.from({ length: 5 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it("sums the API processes' CPU and GC, and keeps the worst event loop", () => {
    const one = { type: 'stats' as const, cpuUs: 1_000, loop: { delayP99: 4, delayMax: 9, gcCount: 10, gcTotalMs: 50, gcMaxMs: 7 } };
    const two = { type: 'stats' as const, cpuUs: 3_000, loop: { delayP99: 6, delayMax: 8, gcCount: 5, gcTotalMs: 20, gcMaxMs: 12 } };
    expect(mergeStats([one, two])).toEqual({ type: 'stats', cpuUs: 4_000, loop: { delayP99: 6, delayMax: 9, gcCount: 15, gcTotalMs: 70, gcMaxMs: 12 } });
  });
});
