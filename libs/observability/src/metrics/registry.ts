import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The process's registry of Rewind's metrics. Process-wide on purpose: the recording proxy, the ingest and the
 * pipeline are plain classes that count into it (`rewindMetrics`) without knowing whether anything serves it —
 * the API's `/metrics` or a `MetricsServer` on a recorder or pipeline process.
 */
export const rewindRegistry = new Registry();

let defaults = false;

/** Node's process metrics (CPU, memory, event-loop lag, GC, handles) with the `rewind_` prefix off; once. */
export function enableDefaultMetrics(): void {
  if (defaults) return;
  defaults = true;
  collectDefaultMetrics({ register: rewindRegistry });
}

/** The Prometheus text of the process registry and of `extra` registries (an application's own gauges). */
export async function metricsText(...extra: Registry[]): Promise<string> {
  const parts = await Promise.all([rewindRegistry, ...extra].map((r) => r.metrics()));
  return parts.filter((p) => p.length > 0).join('\n');
}

export const METRICS_CONTENT_TYPE = rewindRegistry.contentType;
