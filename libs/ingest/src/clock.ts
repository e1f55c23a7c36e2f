import { performance } from 'node:perf_hooks';

/** Wall clock in integer µs since the epoch (sub-millisecond resolution). */
export function wallClockUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** Monotonic ns (process.hrtime). */
export function monotonicNs(): bigint {
  return process.hrtime.bigint();
}
