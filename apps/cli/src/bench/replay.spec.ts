import { busiestPhase, deliveryProblems, firstSeqAtOrAfter, percentiles, prng, splitLateness, streamAnchor, streamLateness } from './replay';
import { mergeSentLogs } from './replay-probe';
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

  it("splits a stream's lateness into the gateway's and the delivery's", () => {
    // Written at 100, 150 (best placed), 205, 250; each arrives 1 ms later, the third 4 ms later (the client was busy).
    const written = [NaN, 100, 150, 205, 250];
    const split = splitLateness([101, 151, 209, 251], [50_000, 100_000, 150_000, 200_000], [1, 2, 3, 4], written, 1);
    expect(split).not.toBeNull();
    expect(Array.from(split?.gateway ?? [])).toEqual([0, 0, 5, 0]);
    expect(Array.from(split?.delivery ?? [])).toEqual([1, 1, 4, 1]);
    expect(split?.anchorMs).toBe(100);
    expect(streamAnchor([101, 151, 209, 251], [50_000, 100_000, 150_000, 200_000], 1)).toBe(101);
    // An event the gateway's log does not have: no split for that stream.
    expect(splitLateness([101, 151], [50_000, 100_000], [1, 2], [NaN, 100, NaN], 1)).toBeNull();
  });

  it('counts the streams whose schedules fall due together, across the period boundary', () => {
    expect(busiestPhase([0, 10, 20, 30, 40], 50, 1)).toBe(1);
    expect(busiestPhase([1000.2, 2000.5, 3000.9, 25, 30], 50, 1)).toBe(3);
    // 49.5 and 0.2 are 0.7 ms apart across the wrap.
    expect(busiestPhase([49.5, 100.2, 20], 50, 1)).toBe(2);
    expect(busiestPhase([], 50, 1)).toBe(0);
  });

  it("merges the API processes' send logs by session", () => {
    expect(mergeSentLogs([{ a: { seqs: [1, 2], at: [10, 20] } }, { a: { seqs: [3], at: [30] }, b: { seqs: [1], at: [5] } }])).toEqual({
      a: { seqs: [1, 2, 3], at: [10, 20, 30] },
      b: { seqs: [1], at: [5] },
    });
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
