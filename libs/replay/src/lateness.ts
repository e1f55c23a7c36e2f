/** How late an emission was: actual emit time − scheduled time, in ms (never negative in practice). */
export interface LatenessSample {
  seq: number;
  scheduledAtMs: number;
  emittedAtMs: number;
  latenessMs: number;
}

export interface LatenessStats {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sortedAsc: readonly number[], p: number): number {
  if (sortedAsc.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sortedAsc.length);
  return sortedAsc[Math.min(sortedAsc.length - 1, Math.max(0, rank - 1))] as number;
}

export function latenessStats(samples: readonly Pick<LatenessSample, 'latenessMs'>[]): LatenessStats {
  const values = samples.map((s) => s.latenessMs).sort((a, b) => a - b);
  const sum = values.reduce((a, b) => a + b, 0);
  return {
    count: values.length,
    meanMs: values.length ? sum / values.length : 0,
    p50Ms: percentile(values, 50),
    p95Ms: percentile(values, 95),
    p99Ms: percentile(values, 99),
    maxMs: values.length ? (values[values.length - 1] as number) : 0,
  };
}

/** Collects one sample per emission (attach with `replay.on('event', probe.record)`). */
export class LatenessProbe {
  readonly samples: LatenessSample[] = [];
  readonly record = (e: LatenessSample): void => {
    this.samples.push({ seq: e.seq, scheduledAtMs: e.scheduledAtMs, emittedAtMs: e.emittedAtMs, latenessMs: e.emittedAtMs - e.scheduledAtMs });
  };
  stats(): LatenessStats {
    return latenessStats(this.samples);
  }
}
