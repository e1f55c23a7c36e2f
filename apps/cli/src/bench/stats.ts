import * as os from 'node:os';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Busy and total CPU time of the whole machine (all cores), ms. */
export function machineCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, total };
}

/** A process's own view of a window (since the last reset): how late its event loop ran, and GC pauses. */
export interface LoopStats {
  /** Event-loop lateness (monitorEventLoopDelay, sampled by a 10 ms timer; the interval itself subtracted), ms. */
  delayP99: number;
  delayMax: number;
  /** Garbage collections (all kinds) and their pause times, ms. */
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
}

/** Watches this process's event loop and GC; `read(reset)` returns the window and optionally starts a new one. */
export function loopProbe(): { read(reset: boolean): LoopStats } {
  const resolutionMs = 10;
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  const gc = { count: 0, totalMs: 0, maxMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.totalMs += e.duration;
      if (e.duration > gc.maxMs) gc.maxMs = e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  return {
    read(reset) {
      // The histogram holds whole timer intervals (resolution + lateness): keep the lateness.
      const stats: LoopStats = {
        delayP99: Math.max(0, delay.percentile(99) / 1e6 - resolutionMs),
        delayMax: Math.max(0, delay.max / 1e6 - resolutionMs),
        gcCount: gc.count,
        gcTotalMs: gc.totalMs,
        gcMaxMs: gc.maxMs,
      };
      if (reset) {
        delay.reset();
        gc.count = gc.totalMs = gc.maxMs = 0;
      }
      return stats;
    },
  };
}
