import { ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { EventStore, NewEvent } from '@rewind/event-store';
import { makeEvents } from './ingest';
import { benchDatabase } from './scratch-db';
import { nextMessage } from './child-message';
import { progress } from '../progress';
import { fmt, LoopStats, machineCpu, median } from './stats';
import type { ApiCommand, ApiReport } from './replay-worker';
import { monotonicOffsetMs, type SentLog } from './replay-probe';
import { rawReplaySocket } from './replay-raw-client';

/**
 * The API child's node flags (REWIND_BENCH_API_NODE_ARGS, default none, as apps/api runs). The recorder's larger
 * young generation (node-flags.ts) made the gateway's tail worse here (fewer, longer pauses): not the API's.
 */
const API_NODE_ARGS = (process.env.REWIND_BENCH_API_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

/**
 * rewind bench replay: the replay gateway's timing under load (issue 6).
 *
 * Setup: a scratch database (created, migrated, dropped at the end) holding `sessions` recorded sessions of
 * 20 Hz frames (~400-byte JSON bodies, offsets 50 ms apart), each `seconds` + 5 s long, and one one-hour
 * session (72,000 frames), all written with `EventStore.append` in batches of 2,000.
 *
 * Two processes: the API (`startApi`, replay gateway included) in a child process on the scratch database, and
 * the clients in this process.
 *   - Lateness: `sessions` WebSockets open `/replay/{id}?speed=1` at once. Per stream, each event's lateness is
 *     its arrival (this process's clock) against the recorded schedule anchored at the earliest arrival that
 *     schedule allows: anchor = min over the stream's events of (arrival − (offset − offset₀)/speed), lateness =
 *     arrival − anchor − (offset − offset₀)/speed. So a stream's best-placed event has lateness 0 and every figure
 *     is end-to-end (gateway timer + store reads + serialization + loopback + client wake-up), on one clock.
 *     The goal figure is taken over the window in which all streams play at once (from the last stream's first
 *     event to the first stream's last); the start-up (500 streams opening in the same instant) is reported too.
 *   - Seek: on one open `/replay/{hour}?speed=1` socket, `seeks` times: a random offset in the hour, the time from
 *     sending `{type:'seek', offsetUs}` until the first event at/after it (known seq) arrives — measured over the
 *     WebSocket, end to end; the goal figure (issue 18) is that time minus the recorded time from the target to the
 *     event (which the replay plays as recorded, 0–50 ms at 20 Hz): what the seek itself adds.
 * The API runs as `workers` processes sharing its port (as REWIND_API_WORKERS); its CPU and GC are summed over them.
 * Every stream is checked: every event of its session arrived once, in seq order, followed by `end`.
 */
export interface ReplayBenchOptions {
  serverUrl: string;
  redisUrl: string;
  sessions: number;
  seconds: number;
  seeks: number;
  runs: number;
  /** API processes (`runApiProcesses`, as REWIND_API_WORKERS): 1 is the API alone in its process. */
  workers: number;
  /** The streams' clients: `ws` (default) or the lighter raw-socket reader (replay-raw-client.ts). */
  client?: BenchClient;
  /** Also measure the floor (replay-floor.ts: a bare Node server on raw sockets, every event a pre-built frame in memory, one timer) with the same clients; default true. */
  floor?: boolean;
  out: (line: string) => void;
}

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface ReplayBenchRun {
  run: number;
  streams: number;
  eventsExpected: number;
  eventsReceived: number;
  eventsPerSec: number;
  /** Seconds from the first socket's open request to the last stream's first event. */
  startSpreadS: number;
  /** Seconds during which all streams played at once. */
  windowS: number;
  /** Lateness (ms) of the events in the all-streams window (the goal figure) and of all events. */
  window: Percentiles;
  all: Percentiles;
  /**
   * The window's lateness split (replay-probe.ts): the gateway's (when each event left it, against the schedule) and
   * the delivery (arrival − written: loopback and the clients' own loop); null when the probe's log was incomplete.
   */
  split: { gateway: Percentiles; delivery: Percentiles; deliveryMin: number; streams: number } | null;
  /** The most streams due within 1 ms and within 5 ms of each other, every 50 ms (their schedules' phases). */
  phase: { within1ms: number; within5ms: number };
  seek: Percentiles;
  /** Seek minus the recorded time from the target to its first event (the goal figure). */
  seekAdded: Percentiles;
  seekFailures: number;
  /** The API's CPU (all its processes) per event delivered, µs. */
  apiCpuUsPerEvent: number;
  problems: string[];
  cpu: { client: number; api: number; machine: number };
  apiLoop: LoopStats;
}

/** One run of the floor (replay-floor.ts): the same streams, clients and lateness arithmetic, no gateway. */
export interface ReplayFloorRun extends Pick<ReplayBenchRun, 'run' | 'eventsReceived' | 'window' | 'all' | 'split' | 'phase' | 'problems' | 'cpu'> {
  /** The floor server's CPU per event delivered, µs. */
  cpuUsPerEvent: number;
  loop: LoopStats;
}

export interface ReplayBenchResult {
  runs: ReplayBenchRun[];
  /** The floor's runs and the median of their window p99 (ms); absent when not measured. */
  floor?: { runs: ReplayFloorRun[]; latenessP99: number };
  /** Median over runs of the window p99 (ms). */
  latenessP99: number;
  /** All seeks of all runs (ms): end to end, and what the seek added (the goal figure). */
  seek: Percentiles;
  seekAdded: Percentiles;
  complete: boolean;
  problems: string[];
  goals: { lateness: boolean; seek: boolean };
  goalMet: boolean;
}

const REPO_ROOT = path.resolve(__dirname, '../../../..');
const REGISTER = path.join(REPO_ROOT, 'scripts/register.js');
const WORKER = path.join(__dirname, 'replay-worker.ts');
const FLOOR = path.join(__dirname, 'replay-floor.ts');
const HZ = 20;
const STEP_US = 1_000_000 / HZ;
const BODY_BYTES = 400;
const HOUR_EVENTS = 3600 * HZ;
const LEAD_S = 5;
const BATCH = 2000;
const GOAL_LATENESS_P99_MS = 5;
/** Issue 18: what a seek adds, p99 (the end-to-end figure also holds the recorded 0–50 ms from the target to its first event). */
const GOAL_SEEK_P99_MS = 25;
const SEEK_TIMEOUT_MS = 5_000;

// ---- pure helpers (replay.spec.ts) -------------------------------------------------------------------------

/** Nearest-rank percentiles of values (ms). */
export function percentiles(values: ArrayLike<number>): Percentiles {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  const at = (q: number): number => (n ? (s[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] as number) : NaN);
  return { count: n, p50: at(0.5), p99: at(0.99), max: n ? (s[n - 1] as number) : NaN };
}

/**
 * Lateness (ms) of each event of one stream: arrival against the recorded schedule anchored at the earliest
 * arrival that schedule allows (anchor = min(arrival − (offset − offset₀)/speed)), so the best-placed event is 0.
 */
export function streamLateness(arrivalsMs: ArrayLike<number>, offsetsUs: ArrayLike<number>, speed: number): Float64Array {
  const n = Math.min(arrivalsMs.length, offsetsUs.length);
  const out = new Float64Array(n);
  if (!n) return out;
  const o0 = offsetsUs[0] as number;
  const anchor = streamAnchor(arrivalsMs, offsetsUs, speed);
  for (let i = 0; i < n; i++) out[i] = (arrivalsMs[i] as number) - anchor - ((offsetsUs[i] as number) - o0) / 1000 / speed;
  return out;
}

/** When a stream's first event is due on its best-fitting schedule: min over its events of (time − (offset − offset₀)/speed). */
export function streamAnchor(timesMs: ArrayLike<number>, offsetsUs: ArrayLike<number>, speed: number): number {
  const n = Math.min(timesMs.length, offsetsUs.length);
  const o0 = offsetsUs[0] as number;
  let anchor = Infinity;
  for (let i = 0; i < n; i++) anchor = Math.min(anchor, (timesMs[i] as number) - ((offsetsUs[i] as number) - o0) / 1000 / speed);
  return anchor;
}

/**
 * Splits one stream's end-to-end lateness: `gateway` is the lateness of the times the events left the gateway
 * (`writtenMs`, indexed by seq, on the same clock as the arrivals) against the recorded schedule, anchored as the
 * end-to-end figure is; `delivery` is arrival − written per event (the kernel's loopback and the client's own event
 * loop). Null when an event's write time is missing.
 */
export function splitLateness(
  arrivalsMs: ArrayLike<number>,
  offsetsUs: ArrayLike<number>,
  seqs: ArrayLike<number>,
  writtenMs: ArrayLike<number>,
  speed: number,
): { gateway: Float64Array; delivery: Float64Array; anchorMs: number } | null {
  const n = Math.min(arrivalsMs.length, offsetsUs.length, seqs.length);
  const written = new Float64Array(n);
  const delivery = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const w = writtenMs[seqs[i] as number];
    if (w === undefined || Number.isNaN(w)) return null;
    written[i] = w;
    delivery[i] = (arrivalsMs[i] as number) - w;
  }
  return { gateway: streamLateness(written, offsetsUs, speed), delivery, anchorMs: streamAnchor(written, offsetsUs, speed) };
}

/**
 * How bunched the streams' schedules are: each stream plays an event every `periodMs` from its anchor, so its phase
 * is anchor mod period; the most streams whose phases fall within any `windowMs` (circular) are due together every period.
 */
export function busiestPhase(anchorsMs: ArrayLike<number>, periodMs: number, windowMs: number): number {
  const phases = Array.from(anchorsMs, (a) => ((a % periodMs) + periodMs) % periodMs).sort((a, b) => a - b);
  const n = phases.length;
  const ext = [...phases, ...phases.map((p) => p + periodMs)];
  let best = 0;
  for (let i = 0, j = 0; i < n; i++) {
    if (j < i) j = i;
    while (j + 1 < i + n && (ext[j + 1] as number) - (ext[i] as number) < windowMs) j++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

/** Seq of the first event at/after `offsetUs` in a session whose event k (from 1) is at k × stepUs. */
export function firstSeqAtOrAfter(offsetUs: number, stepUs: number): number {
  return Math.max(1, Math.ceil(offsetUs / stepUs));
}

/** What is wrong with a received seq sequence that should be exactly 1..expected (empty: nothing). */
export function deliveryProblems(seqs: ArrayLike<number>, expected: number): string[] {
  const problems: string[] = [];
  const seen = new Uint8Array(expected + 1);
  let dup = 0;
  let outOfOrder = 0;
  let foreign = 0;
  for (let i = 0; i < seqs.length; i++) {
    const s = seqs[i] as number;
    if (i > 0 && s <= (seqs[i - 1] as number)) outOfOrder++;
    if (s < 1 || s > expected) foreign++;
    else if (seen[s]) dup++;
    else seen[s] = 1;
  }
  let missing = 0;
  for (let s = 1; s <= expected; s++) if (!seen[s]) missing++;
  if (missing) problems.push(`${missing} missing`);
  if (dup) problems.push(`${dup} duplicated`);
  if (outOfOrder) problems.push(`${outOfOrder} out of order`);
  if (foreign) problems.push(`${foreign} outside 1..${expected}`);
  return problems;
}

/** Small seeded PRNG (mulberry32), so a run's seek targets can be reproduced. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- process plumbing --------------------------------------------------------------------------------------

interface ApiChild {
  child: ChildProcess;
  port: number;
  workers: number;
  pids: number[];
  stats(reset?: boolean): Promise<Extract<ApiReport, { type: 'stats' }>>;
  /** When each event left the gateway since the last call (replay-probe.ts). */
  sends(): Promise<SentLog>;
  stop(): Promise<void>;
}

async function startApiChild(databaseUrl: string, redisUrl: string, apiKey: string, secret: Buffer, workers: number): Promise<ApiChild> {
  return startChild(WORKER, [databaseUrl, redisUrl, apiKey, secret.toString('hex'), String(workers)], API_NODE_ARGS, 'API child', null);
}

/** The floor (replay-floor.ts) on the scratch database: it reads `ids` whole, then answers as the API child does. */
async function startFloorChild(databaseUrl: string, ids: string[]): Promise<ApiChild> {
  return startChild(FLOOR, [databaseUrl], [], 'floor child', { type: 'load', ids });
}

async function startChild(script: string, args: string[], nodeArgs: string[], label: string, first: unknown): Promise<ApiChild> {
  const child = fork(script, args, {
    cwd: REPO_ROOT,
    execArgv: [...nodeArgs, '-r', REGISTER],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const send = (m: ApiCommand): void => void (child.connected && child.send(m));
  const readyP = nextMessage(child, label, (m: ApiReport): m is Extract<ApiReport, { type: 'ready' }> => m.type === 'ready', 180_000, 'ready');
  if (first !== null) child.send(first as ApiCommand);
  const ready = await readyP;
  return {
    child,
    port: ready.port,
    workers: ready.workers,
    pids: ready.pids,
    stats: (reset) => {
      const p = nextMessage(child, label, (m: ApiReport): m is Extract<ApiReport, { type: 'stats' }> => m.type === 'stats', 10_000, 'stats');
      send({ type: 'stats', reset });
      return p;
    },
    sends: async () => {
      const p = nextMessage(child, label, (m: ApiReport): m is Extract<ApiReport, { type: 'sends' }> => m.type === 'sends', 30_000, 'send log');
      send({ type: 'sends' });
      return (await p).log;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      send({ type: 'exit' });
      const t = setTimeout(() => child.kill('SIGKILL'), 8_000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** Writes `count` sessions of `perSession` 20 Hz frames (round-robin batches, as live traffic); returns their ids. */
async function writeSessions(store: EventStore, count: number, perSession: number, label: string): Promise<string[]> {
  const { events } = makeEvents(count, count * perSession, BODY_BYTES);
  const ids = events.slice(0, count).map((e) => e.sessionId);
  const startedAt = new Date();
  for (const id of ids) await store.openSession({ id, platform: 'moltstation', game: 'shellrunners', startedAt, metadata: { bench: label } });
  for (let i = 0; i < events.length; i += BATCH) await store.append(events.slice(i, i + BATCH) as NewEvent[]);
  return ids;
}

// ---- clients -----------------------------------------------------------------------------------------------

const EVENT_RE = /^\{"type":"event","seq":(\d+),"offsetUs":(\d+)/;

interface Stream {
  seqs: Int32Array;
  offsets: Float64Array;
  arrivals: Float64Array;
  count: number;
  /** Events beyond the expected count (kept out of the arrays, counted as a problem). */
  extra: number;
  helloAt: number;
  end: { emitted: number; lastSeq: number | null; stopped: boolean } | null;
  errors: string[];
  closeCode: number | null;
}

const auth = (apiKey: string) => ({ perMessageDeflate: false, headers: { authorization: `Bearer ${apiKey}` } });

/** The bench's stream clients: `ws` (the library a viewer would use) or the lighter raw-socket client (replay-raw-client.ts). */
export type BenchClient = 'ws' | 'raw';

/** One stream's message: an event (seq, offset and arrival noted; parsed from its first bytes only), hello, end or error. */
function onStreamMessage(st: Stream, data: Buffer, now: number, expected: number): void {
  const m = EVENT_RE.exec(data.toString('latin1', 0, Math.min(data.length, 64)));
  if (m) {
    if (st.count >= expected) return void st.extra++;
    st.seqs[st.count] = Number(m[1]);
    st.offsets[st.count] = Number(m[2]);
    st.arrivals[st.count] = now;
    st.count++;
    return;
  }
  let msg: { type?: string; emitted?: number; lastSeq?: number | null; stopped?: boolean; message?: string };
  try {
    msg = JSON.parse(data.toString('utf8')) as typeof msg;
  } catch {
    return void st.errors.push('unparsable message');
  }
  if (msg.type === 'hello') st.helloAt = now;
  else if (msg.type === 'end') st.end = { emitted: msg.emitted ?? -1, lastSeq: msg.lastSeq ?? null, stopped: !!msg.stopped };
  else if (msg.type === 'error') st.errors.push(String(msg.message));
}

/** Opens one replay socket per id at once and waits for every stream to end (or the deadline). */
async function playStreams(
  port: number,
  apiKey: string,
  ids: string[],
  expected: number,
  query: string,
  deadlineMs: number,
  client: BenchClient = 'ws',
): Promise<{ streams: Stream[]; t0: number; timedOut: boolean }> {
  const t0 = performance.now();
  const streams: Stream[] = [];
  const sockets: { terminate(): void }[] = [];
  const closed = ids.map((id) => {
    const st: Stream = {
      seqs: new Int32Array(expected),
      offsets: new Float64Array(expected),
      arrivals: new Float64Array(expected),
      count: 0,
      extra: 0,
      helloAt: NaN,
      end: null,
      errors: [],
      closeCode: null,
    };
    streams.push(st);
    if (client === 'raw') {
      return new Promise<void>((r) => {
        sockets.push(
          rawReplaySocket(
            port,
            `/replay/${id}?${query}`,
            { authorization: `Bearer ${apiKey}` },
            {
              message: (data, now) => onStreamMessage(st, data, now, expected),
              error: (e) => st.errors.push(e),
              close: (code) => {
                st.closeCode = code;
                r();
              },
            },
          ),
        );
      });
    }
    const ws = new WebSocket(`ws://127.0.0.1:${port}/replay/${id}?${query}`, auth(apiKey));
    sockets.push(ws);
    ws.on('message', (data: Buffer) => onStreamMessage(st, data, performance.now(), expected));
    ws.on('error', (e) => st.errors.push(e.message));
    return new Promise<void>((r) =>
      ws.once('close', (code) => {
        st.closeCode = code;
        r();
      }),
    );
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([Promise.all(closed).then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), deadlineMs)))]);
  clearTimeout(timer);
  if (timedOut) {
    for (const ws of sockets) ws.terminate();
    await Promise.all(closed);
  }
  return { streams, t0, timedOut };
}

/** `seeks` seeks to random offsets on one open socket of the hour session; ms from sending to the target's first event. */
async function runSeeks(port: number, apiKey: string, hourId: string, seeks: number, rnd: () => number): Promise<{ ms: number[]; addedMs: number[]; failures: string[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/replay/${hourId}?speed=1`, auth(apiKey));
  let waiting: { seq: number; resolve: (at: number) => void } | null = null;
  const failures: string[] = [];
  let firstEvent!: () => void;
  const playing = new Promise<void>((r) => (firstEvent = r));
  ws.on('message', (data: Buffer) => {
    const now = performance.now();
    const m = EVENT_RE.exec(data.toString('latin1', 0, Math.min(data.length, 64)));
    if (m) {
      firstEvent();
      if (waiting && Number(m[1]) === waiting.seq) {
        const w = waiting;
        waiting = null;
        w.resolve(now);
      }
      return;
    }
    const msg = JSON.parse(data.toString('utf8')) as { type?: string; message?: string; state?: string };
    if (msg.type === 'error') failures.push(`gateway error: ${String(msg.message)}`);
    else if (msg.type === 'state' && msg.state !== 'playing') failures.push(`state after seek: ${String(msg.state)}`);
  });
  ws.on('error', (e) => failures.push(e.message));
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  const ms: number[] = [];
  const addedMs: number[] = [];
  try {
    await Promise.race([
      playing,
      closed.then(() => Promise.reject(new Error('seek socket closed before playing'))),
      sleep(30_000).then(() => Promise.reject(new Error('seek socket: no event within 30 s'))),
    ]);
    for (let i = 0; i < seeks; i++) {
      await sleep(50 + rnd() * 100); // let it play a little between seeks, as a viewer scrubbing would
      const offsetUs = Math.floor(rnd() * HOUR_EVENTS * STEP_US);
      const seq = firstSeqAtOrAfter(offsetUs, STEP_US);
      let timer: NodeJS.Timeout | undefined;
      const sentAt = performance.now();
      const arrived = new Promise<number>((resolve) => {
        waiting = { seq, resolve };
        timer = setTimeout(() => resolve(NaN), SEEK_TIMEOUT_MS);
      });
      ws.send(JSON.stringify({ type: 'seek', offsetUs }));
      const at = await arrived;
      clearTimeout(timer);
      waiting = null;
      if (Number.isNaN(at)) failures.push(`seek to ${(offsetUs / 1e6).toFixed(3)} s: seq ${seq} not received within ${SEEK_TIMEOUT_MS} ms`);
      else {
        ms.push(at - sentAt);
        // The replay plays the recorded time from the target to that event (0–50 ms at 20 Hz, speed 1) before it:
        // what the seek itself added is the rest.
        addedMs.push(at - sentAt - (seq * STEP_US - offsetUs) / 1000);
      }
    }
  } finally {
    ws.close(1000, 'bench over');
    const t = setTimeout(() => ws.terminate(), 3_000);
    await closed;
    clearTimeout(t);
  }
  return { ms, addedMs, failures };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ms2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const pct3 = (p: Percentiles): string => `${ms2(p.p50)} / ${ms2(p.p99)} / ${ms2(p.max)}`;

/** What one line's play of every stream measured (the gateway's or the floor's): lateness, its split, CPU, problems. */
interface LinePlay extends Pick<ReplayBenchRun, 'eventsExpected' | 'eventsPerSec' | 'startSpreadS' | 'windowS'>, Omit<ReplayFloorRun, 'run' | 'eventsReceived'> {
  received: number;
}

/** Every stream played once against `target` (the API child or the floor), measured and checked. */
async function playLine(target: ApiChild, apiKey: string, ids: string[], perSession: number, client: BenchClient): Promise<LinePlay> {
  const sessions = ids.length;
  await target.stats(true);
  const m0 = machineCpu();
  const c0 = process.cpuUsage();
  const a0 = (await target.stats()).cpuUs;
  await target.sends(); // the warm-up's and the previous run's seeks
  const w0 = performance.now();
  const played = await playStreams(target.port, apiKey, ids, perSession, 'speed=1', (perSession / HZ) * 1000 + 60_000, client);
  const wallUs = (performance.now() - w0) * 1000;
  const apiAfter = await target.stats(true);
  const sent = await target.sends();
  const c1 = process.cpuUsage(c0);
  const m1 = machineCpu();
  const cpu = { client: (100 * (c1.user + c1.system)) / wallUs, api: (100 * (apiAfter.cpuUs - a0)) / wallUs, machine: (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total) };

  const problems: string[] = [];
  if (played.timedOut) problems.push('timed out');
  let firstAll = Infinity;
  let lastAll = -Infinity;
  let windowStart = -Infinity;
  let windowEnd = Infinity;
  let received = 0;
  const lateAll: number[] = [];
  const lateWindow: number[] = [];
  const perStream = played.streams.map((st, i) => {
    received += st.count;
    const bad = deliveryProblems(st.seqs.subarray(0, st.count), perSession);
    if (st.extra) bad.push(`${st.extra} extra`);
    if (!st.end) bad.push(`no end (closed ${st.closeCode ?? 'never'})`);
    else if (st.end.emitted !== perSession || st.end.stopped) bad.push(`end says emitted ${st.end.emitted}${st.end.stopped ? ', stopped' : ''}`);
    if (st.errors.length) bad.push(`errors: ${st.errors.slice(0, 2).join('; ')}`);
    if (bad.length) problems.push(`stream ${i + 1}: ${bad.join(', ')}`);
    if (st.count) {
      firstAll = Math.min(firstAll, st.arrivals[0] as number);
      lastAll = Math.max(lastAll, st.arrivals[st.count - 1] as number);
      windowStart = Math.max(windowStart, st.arrivals[0] as number);
      windowEnd = Math.min(windowEnd, st.arrivals[st.count - 1] as number);
    }
    return streamLateness(st.arrivals.subarray(0, st.count), st.offsets.subarray(0, st.count), 1);
  });
  // The gateway's side (replay-probe.ts): write times on the machine's monotonic clock, moved to this process's.
  const mono = monotonicOffsetMs();
  const lateGateway: number[] = [];
  const delivery: number[] = [];
  const anchors: number[] = [];
  let splitStreams = 0;
  played.streams.forEach((st, i) => {
    const late = perStream[i] as Float64Array;
    const log = sent[ids[i] as string];
    let split: ReturnType<typeof splitLateness> = null;
    if (log && st.count) {
      const writtenBySeq = new Float64Array(perSession + 1).fill(NaN);
      for (let k = 0; k < log.seqs.length; k++) {
        const seq = log.seqs[k] as number;
        if (seq >= 1 && seq <= perSession) writtenBySeq[seq] = (log.at[k] as number) - mono;
      }
      split = splitLateness(st.arrivals.subarray(0, st.count), st.offsets.subarray(0, st.count), st.seqs.subarray(0, st.count), writtenBySeq, 1);
    }
    if (split) {
      splitStreams++;
      anchors.push(split.anchorMs);
    } else if (st.count) anchors.push(streamAnchor(st.arrivals.subarray(0, st.count), st.offsets.subarray(0, st.count), 1));
    for (let k = 0; k < st.count; k++) {
      const v = late[k] as number;
      lateAll.push(v);
      const at = st.arrivals[k] as number;
      if (at >= windowStart && at <= windowEnd) {
        lateWindow.push(v);
        if (split) {
          lateGateway.push(split.gateway[k] as number);
          delivery.push(split.delivery[k] as number);
        }
      }
    }
  });
  const eventsExpected = sessions * perSession;
  if (received !== eventsExpected && !problems.some((p) => p.startsWith('stream'))) problems.push(`${received} of ${eventsExpected} events received`);

  return {
    received,
    eventsExpected,
    eventsPerSec: lastAll > firstAll ? received / ((lastAll - firstAll) / 1000) : NaN,
    startSpreadS: (windowStart - played.t0) / 1000,
    windowS: Math.max(0, windowEnd - windowStart) / 1000,
    window: percentiles(lateWindow),
    all: percentiles(lateAll),
    split: splitStreams ? { gateway: percentiles(lateGateway), delivery: percentiles(delivery), deliveryMin: delivery.reduce((x, y) => Math.min(x, y), Infinity), streams: splitStreams } : null,
    phase: { within1ms: busiestPhase(anchors, 1000 / HZ, 1), within5ms: busiestPhase(anchors, 1000 / HZ, 5) },
    cpuUsPerEvent: received ? (apiAfter.cpuUs - a0) / received : NaN,
    problems,
    cpu,
    loop: apiAfter.loop,
  };
}

// ---- the benchmark -----------------------------------------------------------------------------------------

export async function runReplayBench(o: ReplayBenchOptions): Promise<ReplayBenchResult> {
  const { sessions, seconds, seeks, runs, workers, out } = o;
  const client = o.client ?? 'ws';
  const withFloor = o.floor ?? true;
  for (const [k, v] of Object.entries({ sessions, seconds, seeks, runs, workers })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`runReplayBench: ${k} must be a positive integer (got ${v})`);
  }
  const perSession = (seconds + LEAD_S) * HZ;
  const cpus = os.cpus();
  const seed = randomBytes(4).readUInt32LE(0);
  out('# rewind bench replay');
  out('');
  out(
    `${sessions} concurrent streams at speed 1 of recorded 20 Hz sessions (${fmt(perSession)} frames each = ${seconds + LEAD_S} s, ~${BODY_BYTES}-byte JSON bodies; ${fmt(sessions * HZ)} events/s in all), ${runs} run(s) after a 2 s warm-up; ${seeks} seek(s) per run in a one-hour session (${fmt(HOUR_EVENTS)} frames), seed ${seed}.`,
  );
  out(
    `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, node ${process.version}, ${os.platform()} ${os.release()}; loopback only. Processes: API + replay gateway (child, startApi) in ${workers === 1 ? '1 process' : `${workers} worker processes sharing its port (node cluster, as REWIND_API_WORKERS=${workers}; CPU and GC summed over them, loop delay the worst one's)`} → clients (this process, ${client === 'raw' ? 'raw-socket readers' : '`ws`'}); Postgres local.`,
  );
  out(
    `Lateness = arrival − (stream anchor + (offset − offset₀)/speed), anchor = the earliest arrival the schedule allows (so ≥ 0; end to end, client clock). Goal figure: events arriving while all ${sessions} streams play (last stream's first event → first stream's last). Seek = send {type:'seek',offsetUs} on an open /replay socket → first event at/after the target arrives; the goal figure subtracts the recorded time from the target to that event, which the replay plays as recorded.`,
  );
  out('');

  const db = await benchDatabase(o.serverUrl, 'replay');
  let api: ApiChild | undefined;
  let floor: ApiChild | undefined;
  const killApi = (): void => {
    for (const c of [api, floor]) if (c && c.child.exitCode === null) c.child.kill('SIGKILL');
  };
  process.once('exit', killApi);
  const results: ReplayBenchRun[] = [];
  const floorRuns: ReplayFloorRun[] = [];
  const allSeeks: number[] = [];
  const allSeeksAdded: number[] = [];
  try {
    const store = new EventStore(db.pool);
    const setupStart = performance.now();
    const ids = await writeSessions(store, sessions, perSession, 'replay-streams');
    const [hourId] = await writeSessions(store, 1, HOUR_EVENTS, 'replay-seek-hour');
    await db.pool.query('ANALYZE events');
    out(`Setup: ${fmt(sessions * perSession + HOUR_EVENTS)} events appended in ${fmt((performance.now() - setupStart) / 1000, 1)} s into a scratch database.`);

    const apiKey = `bench-${randomBytes(12).toString('hex')}`;
    api = await startApiChild(db.url, o.redisUrl, apiKey, randomBytes(32), workers);
    out(`API: ${api.workers} process(es) (pids ${api.pids.join(', ')}) on port ${api.port}.`);
    const rnd = prng(seed);

    // Warm-up: every stream plays its last 2 s (JIT, connection pool, page cache); not counted.
    const warm = await playStreams(api.port, apiKey, ids, 2 * HZ, `speed=1&fromSeq=${perSession - 2 * HZ + 1}`, 60_000, client);
    const warmBad = warm.streams.filter((s) => s.count !== 2 * HZ || !s.end).length;
    out(`Warm-up: ${sessions} streams × 2 s${warmBad ? ` (${warmBad} incomplete)` : ''}.`);
    if (withFloor) {
      const loadStart = performance.now();
      floor = await startFloorChild(db.url, ids);
      const fw = await playStreams(floor.port, apiKey, ids, 2 * HZ, `speed=1&fromSeq=${perSession - 2 * HZ + 1}`, 60_000, client);
      const fwBad = fw.streams.filter((s) => s.count !== 2 * HZ || !s.end).length;
      out(
        `Floor: a bare Node server on raw sockets (pid ${floor.pids.join(', ')}, port ${floor.port}) holding the ${sessions} sessions' events in memory as complete frames of the envelope (loaded in ${fmt((performance.now() - loadStart) / 1000, 1)} s), one shared timer; warmed up the same way${fwBad ? ` (${fwBad} incomplete)` : ''}. Each run plays the gateway's line, its seeks, then the floor's line.`,
      );
    }
    out('');
    out(
      `| run | events recv / expected | events/s | start spread (s) | all-streams window (s) | lateness in window p50 / p99 / max (ms) | lateness all events p50 / p99 / max (ms) | seek p50 / p99 / max (ms) | seek added p50 / p99 / max (ms) | CPU % of 1 core: clients / API | API CPU per event (µs) | machine busy (% of ${cpus.length} cores) | API loop delay p99 / max (ms) | API GC: pauses, total / max (ms) | problems |`,
    );
    out('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    // The measured runs behind a cli-progress bar on stderr (a terminal only), cleared around each result row.
    const bar = progress('[{bar}] {value}/{total} runs', 1);
    bar.update(0, runs);
    for (let run = 1; run <= runs; run++) {
      const line = await playLine(api, apiKey, ids, perSession, client);
      const { problems, cpu } = line;
      const seek = await runSeeks(api.port, apiKey, hourId as string, seeks, rnd);
      problems.push(...seek.failures);
      allSeeks.push(...seek.ms);
      allSeeksAdded.push(...seek.addedMs);
      const r: ReplayBenchRun = {
        run,
        streams: sessions,
        eventsExpected: line.eventsExpected,
        eventsReceived: line.received,
        eventsPerSec: line.eventsPerSec,
        startSpreadS: line.startSpreadS,
        windowS: line.windowS,
        window: line.window,
        all: line.all,
        split: line.split,
        phase: line.phase,
        seek: percentiles(seek.ms),
        seekAdded: percentiles(seek.addedMs),
        seekFailures: seek.failures.length,
        apiCpuUsPerEvent: line.cpuUsPerEvent,
        problems,
        cpu,
        apiLoop: line.loop,
      };
      results.push(r);
      if (floor) {
        const f = await playLine(floor, apiKey, ids, perSession, client);
        floorRuns.push({
          run,
          eventsReceived: f.received,
          window: f.window,
          all: f.all,
          split: f.split,
          phase: f.phase,
          cpuUsPerEvent: f.cpuUsPerEvent,
          problems: f.problems,
          cpu: f.cpu,
          loop: f.loop,
        });
      }
      const shown = problems.length ? `${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; … ${problems.length - 3} more` : ''}` : 'none';
      bar.clear();
      out(
        `| ${run} | ${fmt(r.eventsReceived)} / ${fmt(r.eventsExpected)} | ${fmt(r.eventsPerSec)} | ${r.startSpreadS.toFixed(2)} | ${r.windowS.toFixed(1)} | ${pct3(r.window)} | ${pct3(r.all)} | ${pct3(r.seek)} | ${pct3(r.seekAdded)} | ${cpu.client.toFixed(0)} / ${cpu.api.toFixed(0)} | ${r.apiCpuUsPerEvent.toFixed(1)} | ${cpu.machine.toFixed(0)}% | ${r.apiLoop.delayP99.toFixed(1)} / ${r.apiLoop.delayMax.toFixed(1)} | ${r.apiLoop.gcCount}, ${r.apiLoop.gcTotalMs.toFixed(0)} / ${r.apiLoop.gcMaxMs.toFixed(1)} | ${shown} |`,
      );
      bar.update(run, runs);
    }
    bar.clear();
  } finally {
    await floor?.stop();
    await api?.stop();
    process.off('exit', killApi);
    await db.drop();
  }

  const problems = results.flatMap((r) => r.problems.map((p) => `run ${r.run}: ${p}`));
  const complete = problems.length === 0;
  const latenessP99 = median(results.map((r) => r.window.p99));
  const floorP99 = floorRuns.length ? median(floorRuns.map((f) => f.window.p99)) : undefined;
  const seek = percentiles(allSeeks);
  const seekAdded = percentiles(allSeeksAdded);
  const goals = { lateness: complete && latenessP99 <= GOAL_LATENESS_P99_MS, seek: complete && seekAdded.p99 <= GOAL_SEEK_P99_MS };
  out('');
  out(
    `Where the lateness is (events in the all-streams window): the gateway's (when the gateway handed each event to its socket, \`send\` called, against the recorded schedule anchored as the end-to-end figure) and the delivery (arrival − written: loopback and the clients' own event loop; one monotonic clock for both processes). Phase: of the ${sessions} streams, the most whose events fall due within 1 ms / 5 ms of each other, every ${1000 / HZ} ms.`,
  );
  out('');
  out('| run | end to end p50 / p99 / max (ms) | gateway p50 / p99 / max (ms) | delivery p50 / p99 / max (ms) | delivery min (ms) | streams split | streams due within 1 / 5 ms |');
  out('|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    out(
      `| ${r.run} | ${pct3(r.window)} | ${r.split ? pct3(r.split.gateway) : 'n/a'} | ${r.split ? pct3(r.split.delivery) : 'n/a'} | ${r.split ? ms2(r.split.deliveryMin) : 'n/a'} | ${r.split?.streams ?? 0} | ${r.phase.within1ms} / ${r.phase.within5ms} |`,
    );
  }
  if (floorRuns.length) {
    out('');
    out(
      `The floor (the same ${sessions} clients against a bare Node server on raw sockets with every event in memory as a pre-built WebSocket frame, one write each on one shared timer at the recorded schedule: no Postgres, no Nest, no \`ws\`, no replay engine): what any Node server achieves here with these clients; the gateway's line minus this is what the gateway's own code adds.`,
    );
    out('');
    out(
      '| run | events recv | lateness in window p50 / p99 / max (ms) | lateness all events p50 / p99 / max (ms) | server part p50 / p99 / max (ms) | delivery p50 / p99 / max (ms) | CPU % of 1 core: clients / server | server CPU per event (µs) | machine busy | server loop delay p99 / max (ms) | server GC: pauses, total / max (ms) | problems |',
    );
    out('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const f of floorRuns) {
      const shown = f.problems.length ? `${f.problems.slice(0, 3).join('; ')}${f.problems.length > 3 ? `; … ${f.problems.length - 3} more` : ''}` : 'none';
      out(
        `| ${f.run} | ${fmt(f.eventsReceived)} | ${pct3(f.window)} | ${pct3(f.all)} | ${f.split ? pct3(f.split.gateway) : 'n/a'} | ${f.split ? pct3(f.split.delivery) : 'n/a'} | ${f.cpu.client.toFixed(0)} / ${f.cpu.api.toFixed(0)} | ${f.cpuUsPerEvent.toFixed(1)} | ${f.cpu.machine.toFixed(0)}% | ${f.loop.delayP99.toFixed(1)} / ${f.loop.delayMax.toFixed(1)} | ${f.loop.gcCount}, ${f.loop.gcTotalMs.toFixed(0)} / ${f.loop.gcMaxMs.toFixed(1)} | ${shown} |`,
      );
    }
  }
  out('');
  out(`Summary (medians over ${runs} run(s)):`);
  out('');
  out('| figure | p50 (ms) | p99 (ms) | max (ms) | goal |');
  out('|---|---:|---:|---:|---|');
  out(
    `| lateness, all ${sessions} streams playing | ${ms2(median(results.map((r) => r.window.p50)))} | ${ms2(latenessP99)} | ${ms2(median(results.map((r) => r.window.max)))} | p99 ≤ ${GOAL_LATENESS_P99_MS} ms: ${goals.lateness ? 'met' : 'NOT met'} |`,
  );
  out(
    `| lateness, all events (start-up included) | ${ms2(median(results.map((r) => r.all.p50)))} | ${ms2(median(results.map((r) => r.all.p99)))} | ${ms2(median(results.map((r) => r.all.max)))} | (not a goal) |`,
  );
  out(
    `| seek to a random point of one hour (all ${fmt(seek.count)} seeks of all runs): what the seek adds (arrival − send − recorded time from the target to its first event) | ${ms2(seekAdded.p50)} | ${ms2(seekAdded.p99)} | ${ms2(seekAdded.max)} | p99 ≤ ${GOAL_SEEK_P99_MS} ms: ${goals.seek ? 'met' : 'NOT met'} |`,
  );
  out(
    `| the same seeks end to end (send → first event at/after the target arrives; the recorded 0–50 ms before that event included) | ${ms2(seek.p50)} | ${ms2(seek.p99)} | ${ms2(seek.max)} | (not a goal) |`,
  );
  if (floorP99 !== undefined)
    out(
      `| the floor: lateness, all ${sessions} streams playing, against a bare Node server (raw sockets, pre-built frames in memory, one timer) | ${ms2(median(floorRuns.map((f) => f.window.p50)))} | ${ms2(floorP99)} | ${ms2(median(floorRuns.map((f) => f.window.max)))} | ${floorP99 <= GOAL_LATENESS_P99_MS ? 'within the goal: 5 ms is reachable here' : 'NOT within the goal: 5 ms is out of reach of any Node server with these clients on this machine'} |`,
    );
  out(`| API CPU per event delivered, all ${workers} process(es) (µs) | ${ms2(median(results.map((r) => r.apiCpuUsPerEvent)))} | | | (not a goal) |`);
  out('');
  out(
    complete
      ? `Delivery: complete — every stream got every event of its session exactly once, in seq order, then \`end\`; every seek landed on the first event at/after its target.`
      : `Delivery: INCOMPLETE —\n${problems
          .slice(0, 20)
          .map((p) => `  - ${p}`)
          .join('\n')}${problems.length > 20 ? `\n  - … ${problems.length - 20} more` : ''}`,
  );
  const missed = [
    ...(goals.lateness ? [] : [`lateness p99 ${ms2(latenessP99)} ms (goal ≤ ${GOAL_LATENESS_P99_MS} ms)`]),
    ...(goals.seek ? [] : [`seek p99 ${ms2(seekAdded.p99)} ms (goal ≤ ${GOAL_SEEK_P99_MS} ms)`]),
  ];
  out(`goals: ${missed.length === 0 ? 'met' : `NOT met (${complete ? '' : 'delivery incomplete; '}${missed.join('; ')})`}`);
  return {
    runs: results,
    ...(floorP99 !== undefined ? { floor: { runs: floorRuns, latenessP99: floorP99 } } : {}),
    latenessP99,
    seek,
    seekAdded,
    complete,
    problems,
    goals,
    goalMet: goals.lateness && goals.seek,
  };
}
