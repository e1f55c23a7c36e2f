import type { Registry } from 'prom-client';

/**
 * Metrics for per-message hot paths. prom-client's labelled children hash their labels on every `inc()` and
 * `observe()` (strings built per call); these keep one child object per label set, bound once by the caller
 * (`labels(...)` returns the same child every time), whose `inc`/`observe` only add to numbers. The registry
 * reads them at scrape time through prom-client's metric interface (`get()`), so they are served and formatted
 * like every other metric.
 */
abstract class FastMetric<C> {
  protected readonly children = new Map<string, { labels: Record<string, string>; child: C }>();
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registers: Registry[],
  ) {
    for (const r of registers) r.registerMetric(this as never);
  }

  protected abstract create(): C;

  /** The child of these label values (in `labelNames` order); bind it once, outside the hot path. */
  labels(...values: string[]): C {
    const key = values.join('\u0000');
    let entry = this.children.get(key);
    if (!entry) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      entry = { labels, child: this.create() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  reset(): void {
    this.children.clear();
  }

  abstract get(): { name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName?: string }[] };
}

export class FastCounterChild {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}

export class FastCounter extends FastMetric<FastCounterChild> {
  readonly type = 'counter';
  protected create(): FastCounterChild {
    return new FastCounterChild();
  }
  get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.children.values()].map(({ labels, child }) => ({ labels, value: child.value })) };
  }
}

export class FastGaugeChild {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

export class FastGauge extends FastMetric<FastGaugeChild> {
  readonly type = 'gauge';
  protected create(): FastGaugeChild {
    return new FastGaugeChild();
  }
  get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.children.values()].map(({ labels, child }) => ({ labels, value: child.value })) };
  }
}

export class FastHistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > (b[i] as number)) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

export class FastHistogram extends FastMetric<FastHistogramChild> {
  readonly type = 'histogram';
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
    registers: Registry[],
  ) {
    super(name, help, labelNames, registers);
  }
  protected create(): FastHistogramChild {
    return new FastHistogramChild(this.buckets);
  }
  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const { labels, child } of this.children.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += child.counts[i] as number;
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: child.count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: child.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: child.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
