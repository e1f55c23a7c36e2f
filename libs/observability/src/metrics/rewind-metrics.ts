import { Counter, Gauge, Histogram } from 'prom-client';
import { FastCounter, FastGauge, FastHistogram } from './fast-metrics';
import { rewindRegistry } from './registry';

const registers = [rewindRegistry];

/** A source a gauge reads when scraped: live objects register one and unregister it when they close. */
class Sources<T> {
  private readonly items = new Set<T>();
  add(item: T): () => void {
    this.items.add(item);
    return () => void this.items.delete(item);
  }
  values(): IterableIterator<T> {
    return this.items.values();
  }
}

/** What an Ingest reports at scrape time (read from its stats, nothing counted per event for these). */
export interface IngestGaugeSource {
  lagMs(): number;
  buffered(): number;
  journaled(): number;
  walBytes(): number;
}

export const ingestSources = new Sources<IngestGaugeSource>();
export const liveCaptureSources = new Sources<() => number>();
export const replayStreamSources = new Sources<() => number>();
/** Each recorder's capture admission (open: new captures are taken). */
export const captureAdmissionSources = new Sources<() => boolean>();

const sum = <T>(s: Sources<T>, f: (t: T) => number): number => {
  let n = 0;
  for (const t of s.values()) n += f(t);
  return n;
};

/** Latency buckets of an in-process relay: tens of µs to a tenth of a second. */
const RELAY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];
/** Replay lateness (how late a frame left against its recorded offset): 1 ms to 5 s. */
const LATENESS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Seek time: 1 ms to 10 s. */
const SEEK_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Rewind's own metrics, usable from any class (`import { rewindMetrics } from '@rewind/observability'`). Hot
 * paths bind their label children once (`rewindMetrics.proxyMessagesRelayed.labels(platform, channel)`) and
 * only `inc()`/`observe()` per message. Gauges of state another object holds are read at scrape time through
 * registered sources (`ingestSources`, `liveCaptureSources`, `replayStreamSources`).
 */
export const rewindMetrics = {
  /** WebSocket messages (both directions) and HTTP exchanges the recording proxy relayed. channel: `ws` or `http`. */
  proxyMessagesRelayed: new FastCounter(
    'rewind_proxy_messages_relayed_total',
    'Messages the recording proxy relayed (WebSocket messages both ways; HTTP exchanges), by platform and channel (ws, http).',
    ['platform', 'channel'],
    registers,
  ),
  /** Time the proxy spent between receiving a message and handing it to the other leg (recording included); for HTTP, request received → response headers forwarded (upstream time included). */
  proxyRelayLatency: new FastHistogram(
    'rewind_proxy_relay_latency_seconds',
    'Recording proxy: receive → forward, per WebSocket message (recording included); per HTTP exchange, request → response headers forwarded (upstream included).',
    ['platform', 'channel'],
    RELAY_BUCKETS,
    registers,
  ),
  proxyOpenConnections: new FastGauge(
    'rewind_proxy_open_connections',
    'Connections open through the recording proxy (WebSocket pairs, HTTP exchanges in flight), by platform and channel.',
    ['platform', 'channel'],
    registers,
  ),

  eventsStored: new FastCounter(
    'rewind_events_stored_total',
    'Events the ingest wrote to Postgres, by platform and channel (an idempotent re-append after an outage counts again; see rewind_ingest_duplicates_total).',
    ['platform', 'channel'],
    registers,
  ),
  ingestDuplicates: new Counter({ name: 'rewind_ingest_duplicates_total', help: 'Events found already stored when (re-)appended.', registers }),
  ingestLag: new Gauge({
    name: 'rewind_ingest_lag_seconds',
    help: 'Age of the oldest event not yet in Postgres (0 when everything is stored); the largest over the ingests of the process.',
    registers,
    collect() {
      let lag = 0;
      for (const s of ingestSources.values()) lag = Math.max(lag, s.lagMs());
      this.set(lag / 1000);
    },
  }),
  ingestBuffered: new Gauge({
    name: 'rewind_ingest_buffered_events',
    help: 'Events in memory, queued or being appended.',
    registers,
    collect() {
      this.set(sum(ingestSources, (s) => s.buffered()));
    },
  }),
  ingestJournaled: new Gauge({
    name: 'rewind_ingest_journaled_events',
    help: 'Events in the on-disk outage journal, waiting for Postgres.',
    registers,
    collect() {
      this.set(sum(ingestSources, (s) => s.journaled()));
    },
  }),
  walBytes: new Gauge({
    name: 'rewind_wal_bytes',
    help: 'Bytes in the recorder write-ahead log files not yet deleted.',
    registers,
    collect() {
      this.set(sum(ingestSources, (s) => s.walBytes()));
    },
  }),
  liveCaptures: new Gauge({
    name: 'rewind_live_captures',
    help: 'Live captures (spectators, pollers) running in this process.',
    registers,
    collect() {
      this.set(sum(liveCaptureSources, (f) => f()));
    },
  }),
  /** 1 while every recorder of the process takes new captures, 0 while one refuses them (graceful overload); absent without a recorder. */
  captureAdmissionOpen: new Gauge({
    name: 'rewind_capture_admission_open',
    help: 'Whether the recorder admits new captures (1) or refuses them because it cannot keep up (0).',
    registers,
    collect() {
      let any = false;
      let open = true;
      for (const f of captureAdmissionSources.values()) {
        any = true;
        open &&= f();
      }
      if (any) this.set(open ? 1 : 0);
    },
  }),
  /** New captures the recorder refused (503 capture_overloaded), by platform and the signal that closed admission. */
  captureRefused: new Counter({
    name: 'rewind_capture_refused_total',
    help: 'New captures (WebSocket upgrades, run-opening HTTP requests) refused with 503 while the recorder could not keep up, by platform and reason.',
    labelNames: ['platform', 'reason'] as const,
    registers,
  }),

  replayStreams: new Gauge({
    name: 'rewind_replay_streams',
    help: 'Replay streams open on the replay gateway.',
    registers,
    collect() {
      if (replayStreamSources.values().next().done !== true) this.set(sum(replayStreamSources, (f) => f()));
    },
  }),
  /** Observed once per replayed event (the gateway's send path): a fast histogram, bound once (`labels()`). */
  replayLateness: new FastHistogram('rewind_replay_lateness_seconds', 'How late a replayed frame was sent against its recorded offset (scaled by the speed).', [], LATENESS_BUCKETS, registers),
  replaySeek: new Histogram({ name: 'rewind_replay_seek_seconds', help: 'Time from a seek request to the first frame at the new position.', buckets: SEEK_BUCKETS, registers }),

  pipelineJobs: new Counter({
    name: 'rewind_pipeline_jobs_total',
    help: 'Outcome-pipeline jobs processed, by queue and outcome (completed, retried, failed).',
    labelNames: ['queue', 'outcome'] as const,
    registers,
  }),
  audits: new Counter({ name: 'rewind_audits_total', help: 'Audits stored, by status.', labelNames: ['status'] as const, registers }),
};
export type RewindMetrics = typeof rewindMetrics;
