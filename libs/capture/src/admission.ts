import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { platformOf } from '@rewind/platforms';
import type { AdmissionDecision, AdmissionRequest, ProxiedPlatform } from '@rewind/proxy';
import { captureAdmissionSources, rewindMetrics } from '@rewind/observability';
import type { CaptureTaskLogger } from '@rewind/capture-facts';

/**
 * What the admission control watches, sampled every `sampleMs`:
 * - `lagMs`: the age of the oldest event not yet in Postgres (the Ingest's lag) — the store falling behind what
 *   the proxy relays. Ignored while the Ingest is in an outage: the journal is the designed answer to a store that
 *   is away (nothing is lost, the recorder is not overloaded), and refusing captures then would turn a Postgres
 *   restart into lost runs.
 * - `buffered`: events in memory against the Ingest's bound (`maxBufferedEvents`): past the bound it spills to the
 *   journal and memory is the next thing to go.
 * - `loopDelayMs`: the event loop's delay (the median over the last sample window: a saturated loop is late all the
 *   time, a GC pause or a burst of start-up work is one sample). It predicts what failed at 200 sessions: every
 *   relayed frame waits behind it, and so did the capture locks' renewals (now on a thread of their own) and the
 *   streams' timers (a run ended `idle` while its messages waited in the socket).
 */
export interface AdmissionSample {
  lagMs: number;
  buffered: number;
  /** The Ingest's own bound on `buffered`. */
  bufferedBound: number;
  loopDelayMs: number;
  /** The Ingest cannot reach the store (its journal takes the events): `lagMs` is not a sign of overload then. */
  outage: boolean;
}

export interface AdmissionThresholds {
  /** Close when the Ingest's lag passes this (ms). */
  maxLagMs: number;
  /** Close when the buffered events pass this share of the Ingest's bound (0–1). */
  maxBufferedShare: number;
  /** Close when the event loop's median delay over a sample window passes this (ms). */
  maxLoopDelayMs: number;
  /** …for this long without a break (ms): a pause is not an overload. */
  closeAfterMs: number;
  /** Reopen once every signal is below this share of its threshold (hysteresis; 0–1)… */
  reopenShare: number;
  /** …and has stayed there this long (ms). Also the `Retry-After` given to a refused client (rounded up to s). */
  reopenAfterMs: number;
}

/** The Ingest's bound on buffered events (its `maxBufferedEvents` default, which the recorder keeps): past it, it spills to the journal. */
export const INGEST_BUFFER_BOUND = 50_000;

export const DEFAULT_ADMISSION_THRESHOLDS: AdmissionThresholds = { maxLagMs: 10_000, maxBufferedShare: 0.8, maxLoopDelayMs: 1000, closeAfterMs: 2000, reopenShare: 0.5, reopenAfterMs: 5000 };

export type AdmissionReason = 'ingest_lag' | 'ingest_buffer' | 'event_loop_delay';

export interface AdmissionState {
  open: boolean;
  /** Why it closed (the first signal over its threshold); null while open. */
  reason: AdmissionReason | null;
  /** When it closed, and since when every signal has been below its reopen level (null: not yet). */
  closedAtMs: number | null;
  calmSinceMs: number | null;
  /** While open: since when a signal has been over its threshold without a break (null: none is). */
  overSinceMs: number | null;
}

export const OPEN: AdmissionState = { open: true, reason: null, closedAtMs: null, calmSinceMs: null, overSinceMs: null };

/** The first signal over its threshold, or null (pure). */
export function overloadOf(s: AdmissionSample, t: AdmissionThresholds, share = 1): AdmissionReason | null {
  if (!s.outage && s.lagMs > t.maxLagMs * share) return 'ingest_lag';
  if (s.bufferedBound > 0 && s.buffered > s.bufferedBound * t.maxBufferedShare * share) return 'ingest_buffer';
  if (s.loopDelayMs > t.maxLoopDelayMs * share) return 'event_loop_delay';
  return null;
}

/**
 * One step of the hysteresis (pure; admission.spec.ts): open → closed once a signal has stayed over its threshold for
 * `closeAfterMs`; closed → open once every signal has stayed below `reopenShare` of its threshold for `reopenAfterMs`.
 * A signal between the two levels keeps the current state, so admission does not flap at the edge.
 */
export function nextAdmission(state: AdmissionState, s: AdmissionSample, t: AdmissionThresholds, nowMs: number): AdmissionState {
  if (state.open) {
    const reason = overloadOf(s, t);
    if (!reason) return state.overSinceMs === null ? state : OPEN;
    const overSinceMs = state.overSinceMs ?? nowMs;
    if (nowMs - overSinceMs >= t.closeAfterMs) return { open: false, reason, closedAtMs: nowMs, calmSinceMs: null, overSinceMs: null };
    return state.overSinceMs === overSinceMs ? state : { ...state, overSinceMs };
  }
  if (overloadOf(s, t, t.reopenShare) !== null) return state.calmSinceMs === null ? state : { ...state, calmSinceMs: null };
  const calmSinceMs = state.calmSinceMs ?? nowMs;
  if (nowMs - calmSinceMs >= t.reopenAfterMs) return OPEN;
  return state.calmSinceMs === calmSinceMs ? state : { ...state, calmSinceMs };
}

export interface CaptureAdmissionOptions {
  thresholds?: Partial<AdmissionThresholds>;
  /** The Ingest's figures (lag, buffered, bound, outage); the event-loop delay is measured here unless `sample` is given. */
  ingest: () => Omit<AdmissionSample, 'loopDelayMs'>;
  /** Replaces the whole measurement (tests drive the signal with it; the Ingest and the loop are not read then). */
  sample?: () => AdmissionSample;
  /** How often the signals are read (ms); default 500. */
  sampleMs?: number;
  log: CaptureTaskLogger;
  /** Told on each transition (the capture scheduler defers new capture tasks while closed). */
  onChange?: (open: boolean) => void;
  now?: () => number;
}

/**
 * The recorder's admission control of new captures (graceful overload). When the recorder cannot keep up, it
 * refuses new captures and keeps serving what it accepted: the recording proxy asks `admit` before it forwards a
 * new WebSocket upgrade or a run-opening HTTP request (a refused one gets `503` + `Retry-After` + a JSON body, and
 * the refusal is recorded as a proxy-error fact); requests and sockets of runs already recording pass; new capture
 * tasks wait in their queue (`onChange`). A line is logged once per transition; `rewind_capture_admission_open`
 * and `rewind_capture_refused_total{platform,reason}` say it to the operator.
 */
export class CaptureAdmission {
  private state: AdmissionState = OPEN;
  private readonly t: AdmissionThresholds;
  private readonly loop: IntervalHistogram | null;
  private timer: NodeJS.Timeout | undefined;
  private last: AdmissionSample | undefined;
  private readonly now: () => number;
  private readonly counters = { refused: 0, closings: 0 };
  private unregisterMetrics: (() => void) | undefined;

  constructor(private readonly o: CaptureAdmissionOptions) {
    this.t = { ...DEFAULT_ADMISSION_THRESHOLDS, ...(o.thresholds ?? {}) };
    this.now = o.now ?? Date.now;
    this.loop = o.sample ? null : monitorEventLoopDelay({ resolution: 20 });
  }

  start(): void {
    if (this.timer) return;
    this.unregisterMetrics = captureAdmissionSources.add(() => this.state.open);
    this.loop?.enable();
    this.timer = setInterval(() => this.tick(), this.o.sampleMs ?? 500);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.loop?.disable();
    this.unregisterMetrics?.();
    this.unregisterMetrics = undefined;
  }

  /** Reads the signals and moves the state (the timer calls it; tests may too). */
  tick(): AdmissionState {
    const sample = this.o.sample ? this.o.sample() : this.measure();
    this.last = sample;
    const before = this.state;
    this.state = nextAdmission(before, sample, this.t, this.now());
    if (before.open !== this.state.open) {
      const figures = `ingest lag ${Math.round(sample.lagMs)} ms${sample.outage ? ' (store away: journaling)' : ''}, ${sample.buffered} of ${sample.bufferedBound} events buffered, event loop delay ${Math.round(sample.loopDelayMs)} ms (median)`;
      if (this.state.open)
        this.o.log.warn(`capture admission: reopened after ${Math.round((this.now() - (before.closedAtMs ?? this.now())) / 1000)} s (${this.counters.refused} captures refused so far; ${figures})`);
      else {
        this.counters.closings++;
        this.o.log.warn(`capture admission: CLOSED (${this.state.reason}): new captures are refused with 503, new capture tasks wait; what is recording goes on (${figures})`);
      }
      this.o.onChange?.(this.state.open);
    }
    return this.state;
  }

  /** The decision for a new capture (cheap: reads the state the timer keeps). */
  decide(): AdmissionDecision {
    if (this.state.open) return { ok: true };
    return { ok: false, reason: this.state.reason ?? 'overloaded', retryAfterS: Math.max(1, Math.ceil(this.t.reopenAfterMs / 1000)) };
  }

  /** Counts a refusal the proxy made (the metric and the stats). */
  refused(platform: ProxiedPlatform, reason: string): void {
    this.counters.refused++;
    rewindMetrics.captureRefused.labels(platform, reason).inc();
  }

  get open(): boolean {
    return this.state.open;
  }

  stats(): { open: boolean; reason: AdmissionReason | null; refused: number; closings: number; sample: AdmissionSample | undefined } {
    return { open: this.state.open, reason: this.state.reason, refused: this.counters.refused, closings: this.counters.closings, sample: this.last };
  }

  private measure(): AdmissionSample {
    const ingest = this.o.ingest();
    let loopDelayMs = 0;
    if (this.loop) {
      // The median of the window since the last sample, in ms (the histogram counts ns; it includes the 20 ms
      // resolution of its own timer, taken off); reset for the next window.
      loopDelayMs = this.loop.count > 0 ? Math.max(0, this.loop.percentile(50) / 1e6 - 20) : 0;
      this.loop.reset();
    }
    return { ...ingest, loopDelayMs };
  }
}

/**
 * The proxy's `admit` hook for a recorder: while admission is open, everything passes; while closed, a new
 * capture is refused — a WebSocket upgrade or HTTP request that would open a run (the platform says which:
 * `attribution.opensRun`) — unless it names a run this recorder is recording already (`isRecording`: the socket of
 * an accepted MoltStation run, say). Everything else (the requests of accepted runs, account traffic) passes.
 */
export function admissionHook(admission: CaptureAdmission, isRecording: (platform: ProxiedPlatform, runKey: string) => boolean): (r: AdmissionRequest) => AdmissionDecision {
  return (r) => {
    if (admission.open) return { ok: true };
    const attribution = platformOf(r.platform).attribution;
    if (r.kind === 'http' && !attribution.opensRun(r.method, r.path)) return { ok: true };
    if (r.kind === 'ws') {
      const key = attribution.ws(r.path, 'admission').identity.key;
      if (isRecording(r.platform, key)) return { ok: true };
    }
    const decision = admission.decide();
    if (!decision.ok) admission.refused(r.platform, decision.reason);
    return decision;
  };
}
