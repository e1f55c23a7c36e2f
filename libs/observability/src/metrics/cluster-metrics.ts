import cluster, { Worker } from 'node:cluster';
import { AggregatorRegistry, Registry } from 'prom-client';
import { metricsText, rewindRegistry } from './registry';

/** A worker asks its primary for the whole cluster's metrics; the primary answers that worker. Kept apart from other IPC by `rewindMetrics`. */
type ScrapeAsk = { rewindMetrics: 'scrape'; id: number };
type ScrapeAnswer = { rewindMetrics: 'scraped'; id: number; text?: string; error?: string };

/** How long a worker waits for its primary's aggregate before it answers with its own metrics alone. */
const ASK_TIMEOUT_MS = 5_000;

/**
 * In the primary of a node cluster (the API with REWIND_API_WORKERS > 1): a scrape that reaches any worker is
 * answered with every worker's metrics, aggregated by prom-client's `AggregatorRegistry` (counters and histograms
 * summed; each metric's own `aggregator` otherwise: the gauges that read shared state, such as the queue depths,
 * take one worker's reading instead of a sum). The primary itself opens no server: a worker forwards the scrape over
 * IPC. Returns the function that stops answering.
 */
export function serveClusterMetrics(): () => void {
  const aggregator = new AggregatorRegistry();
  const on = (worker: Worker, m: ScrapeAsk): void => {
    if (m?.rewindMetrics !== 'scrape') return;
    const answer = (a: Omit<ScrapeAnswer, 'rewindMetrics' | 'id'>): void => {
      if (worker.isConnected()) worker.send({ rewindMetrics: 'scraped', id: m.id, ...a } satisfies ScrapeAnswer);
    };
    aggregator.clusterMetrics().then(
      (text) => answer({ text }),
      (e: unknown) => answer({ error: e instanceof Error ? e.message : String(e) }),
    );
  };
  cluster.on('message', on);
  return () => void cluster.off('message', on);
}

/**
 * In a cluster worker: the registries the primary's aggregation reads from this process — Rewind's and the
 * application's own (`extra`) — set before any scrape can reach another worker. Nothing to do outside a cluster.
 */
export function shareWithCluster(...extra: Registry[]): void {
  if (!cluster.isWorker) return;
  AggregatorRegistry.setRegistries([rewindRegistry, ...extra]);
  // prom-client answers the primary's requests from a worker once an AggregatorRegistry exists in it.
  workerListener ??= new AggregatorRegistry();
}

let workerListener: AggregatorRegistry<'text/plain; version=0.0.4; charset=utf-8'> | undefined;

let nextAsk = 0;

/**
 * The Prometheus text `/metrics` answers: this process's registries, or — in a cluster worker — the whole
 * cluster's, from the primary (`serveClusterMetrics`; each worker shares its registries with `shareWithCluster`).
 * Without an answer from the primary in time (an embedder that runs workers without it), the worker's own metrics.
 */
export async function scrapeText(...extra: Registry[]): Promise<string> {
  if (!cluster.isWorker || !process.send || !process.connected) return metricsText(...extra);
  const id = ++nextAsk;
  const answer = await new Promise<ScrapeAnswer | null>((resolve) => {
    const on = (m: ScrapeAnswer): void => {
      if (m?.rewindMetrics !== 'scraped' || m.id !== id) return;
      done(m);
    };
    const timer = setTimeout(() => done(null), ASK_TIMEOUT_MS);
    const done = (m: ScrapeAnswer | null): void => {
      clearTimeout(timer);
      process.off('message', on);
      resolve(m);
    };
    process.on('message', on);
    process.send?.({ rewindMetrics: 'scrape', id } satisfies ScrapeAsk);
  });
  if (answer?.text !== undefined) return answer.text;
  return metricsText(...extra);
}
