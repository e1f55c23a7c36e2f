import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Where a recorder process's CPU goes, by stage, from V8 CPU profiles (`node --cpu-prof`, one .cpuprofile per
 * thread: the main thread and the Ingest's writer thread).
 *
 * Each sample's time is attributed to a stage by the source location of the frames on its stack: the innermost
 * frame that lies in one of Rewind's libraries decides (libs/redaction → redaction, libs/ingest write-ahead →
 * write-ahead log, …), so the native and Node-internal code a stage calls (JSON.stringify, Buffer#toString,
 * writeSync, crypto) counts for that stage. A stack with no frame of Rewind's own falls back to the innermost
 * library it runs in: ws and Node's net/stream internals → the relay, pg → COPY / pg (on the writer thread every
 * Node internal is the Postgres connection's), crypto → hashing. GC, native work V8 cannot place (`(program)`)
 * and everything else are their own rows; `(idle)` (the thread waited in epoll) is excluded.
 *
 * What the profile cannot tell (say it with the figures):
 *  - samples are wall time of a running thread, not CPU: a thread descheduled by a busier machine keeps being
 *    sampled in the frame it was in. The table therefore gives each stage's *share* of the sampled time and
 *    scales it to the CPU the process really used (process.cpuUsage, all threads) per relayed message;
 *  - kernel time of a syscall (socket writes, writeSync to the write-ahead log, epoll) is in the process's CPU
 *    but appears as the JS/native frame that made the call; waiting inside a blocking syscall looks the same;
 *  - the sampling interval (1 ms by default) makes stages below ~1 % of the samples noisy.
 */

export const STAGES = ['relay', 'facts', 'recorder', 'encoding', 'redaction', 'lifecycle', 'wal', 'ingest', 'handoff', 'hashing', 'copy', 'metrics', 'gc', 'program', 'other'] as const;
export type Stage = (typeof STAGES)[number];

export const STAGE_LABEL: Record<Stage, string> = {
  relay: 'proxy relay (libs/proxy, ws, net/stream internals)',
  facts: 'fact emission (libs/proxy facts.ts, capture-facts)',
  recorder: 'Recorder adapter (libs/recorder recorder.ts)',
  encoding: 'encoding (libs/recorder encoder)',
  redaction: 'redaction (libs/redaction)',
  lifecycle: 'lifecycle decider + platform inspection (libs/recorder lifecycle, libs/platforms)',
  wal: 'write-ahead log / journal (libs/ingest write-ahead, journal)',
  ingest: 'ingest batching (libs/ingest: seqs, batcher, write cycle)',
  handoff: 'hand-off to the writer thread (postMessage, structured clone)',
  hashing: 'hashing (crypto in libs/event-store append)',
  copy: 'COPY / pg (libs/event-store append, pg)',
  metrics: 'metrics (libs/observability, prom-client)',
  gc: 'GC',
  program: 'native, not attributable ((program): V8, libuv, kernel)',
  other: 'other',
};

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber?: number; columnNumber?: number; scriptId?: string };
  children?: number[];
  hitCount?: number;
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  /** µs, the same monotonic clock as process.hrtime (CLOCK_MONOTONIC on Linux). */
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** A time window of the profiled process, in µs of its monotonic clock (process.hrtime.bigint() / 1000). */
export interface Window {
  fromUs: number;
  toUs: number;
}

export interface StageTimes {
  /** Sampled µs per stage (idle excluded). */
  us: Record<Stage, number>;
  /** Sampled µs of (idle), kept to show how busy the thread was. */
  idleUs: number;
  /** Samples counted (idle included). */
  samples: number;
}

/** A frame's own stage: `strong` for Rewind's own libraries (the innermost one decides), else a fallback hint. */
type Own = { strong: Stage } | { weak: Stage | 'crypto' | 'node' } | null;

const has = (url: string, part: string): boolean => url.includes(part);

function ownStage(url: string, functionName: string): Own {
  if (!url) return null; // native (JSON.parse, Buffer bindings, writeSync…): its caller decides
  if (has(url, '/libs/')) {
    if (has(url, '/libs/proxy/src/facts') || has(url, '/libs/capture-facts/')) return { strong: 'facts' };
    if (has(url, '/libs/proxy/')) return { strong: 'relay' };
    // frameView is the encoder's read of a message (it replaced the encoder's JSON.parse); packed-batch is the hand-off's.
    if (has(url, '/libs/recorder/src/encoder/') || has(url, '/libs/platforms/src/frame-view')) return { strong: 'encoding' };
    if (has(url, '/libs/recorder/src/lifecycle/') || has(url, '/libs/platforms/')) return { strong: 'lifecycle' };
    if (has(url, '/libs/recorder/')) return { strong: 'recorder' };
    if (has(url, '/libs/redaction/')) return { strong: 'redaction' };
    if (has(url, '/libs/ingest/src/write-ahead') || has(url, '/libs/ingest/src/journal') || has(url, '/libs/ingest/src/outage-journal')) return { strong: 'wal' };
    if (has(url, '/libs/ingest/src/writer-thread') || has(url, '/libs/ingest/src/packed-batch')) return { strong: 'handoff' };
    if (has(url, '/libs/ingest/')) return { strong: 'ingest' };
    if (has(url, '/libs/event-store/')) return { strong: 'copy' };
    if (has(url, '/libs/observability/')) return { strong: 'metrics' };
    return { strong: 'other' };
  }
  if (has(url, '/node_modules/ws/')) return { weak: 'relay' };
  if (/\/node_modules\/pg[^/]*\//.test(url)) return { weak: 'copy' };
  if (has(url, '/node_modules/prom-client/')) return { weak: 'metrics' };
  if (url.startsWith('node:internal/crypto') || url === 'node:crypto') return { weak: 'crypto' };
  if (url.startsWith('node:internal/worker') || url === 'node:worker_threads' || url.startsWith('node:internal/per_context/messageport')) return { weak: 'handoff' };
  if (url.startsWith('node:') || functionName === 'processTicksAndRejections') return { weak: 'node' };
  return { weak: 'other' };
}

/**
 * Attributes one thread's samples (inside `windows`, or all of them when none is given) to stages. `thread`:
 * on the writer thread, Node internals with nothing of Rewind's above them are its Postgres connection's.
 */
export function stageTimes(profile: CpuProfile, windows: readonly Window[] = [], thread: 'main' | 'writer' = 'main'): StageTimes {
  const byId = new Map<number, CpuProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) byId.set(n.id, n);
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const nodeFallback: Stage = thread === 'writer' ? 'copy' : 'relay';
  const memo = new Map<number, Stage | 'idle'>();
  const stageOf = (id: number): Stage | 'idle' => {
    const known = memo.get(id);
    if (known) return known;
    const leaf = byId.get(id);
    let result: Stage | 'idle';
    const fn = leaf?.callFrame.functionName ?? '';
    if (fn === '(idle)') result = 'idle';
    else if (fn === '(garbage collector)') result = 'gc';
    else if (fn === '(program)') result = 'program';
    else {
      let weak: Stage | 'crypto' | 'node' | undefined;
      let crypto = false;
      let strong: Stage | undefined;
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const n = byId.get(cur);
        if (!n) break;
        const own = ownStage(n.callFrame.url, n.callFrame.functionName);
        if (!own) continue;
        if ('strong' in own) {
          strong = own.strong;
          break;
        }
        if (own.weak === 'crypto') crypto = true;
        // The innermost library decides, but Node internals give way to a library that called them (ws, pg).
        if (weak === undefined || weak === 'node') weak = own.weak;
      }
      if (strong) result = strong === 'copy' && crypto ? 'hashing' : strong;
      else if (weak === 'crypto') result = 'hashing';
      else if (weak === 'node') result = nodeFallback;
      else if (weak) result = thread === 'writer' && weak === 'relay' ? 'copy' : weak;
      else result = 'other';
    }
    memo.set(id, result);
    return result;
  };

  const us = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  let idleUs = 0;
  let samples = 0;
  const ids = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const inWindow = (t: number): boolean => windows.length === 0 || windows.some((w) => t >= w.fromUs && t < w.toUs);
  let t = profile.startTime;
  for (let i = 0; i < ids.length; i++) {
    t += deltas[i] ?? 0;
    // A sample stands for the time until the next one (as DevTools counts it); the last for the mean interval.
    const dur = i + 1 < ids.length ? (deltas[i + 1] ?? 0) : ids.length > 1 ? (profile.endTime - profile.startTime) / ids.length : 0;
    if (dur <= 0 || !inWindow(t)) continue;
    samples++;
    const s = stageOf(ids[i] as number);
    if (s === 'idle') idleUs += dur;
    else us[s] += dur;
  }
  return { us, idleUs, samples };
}

/** Is this the profile of the Ingest's writer thread (its main module appears in it)? */
export function isWriterThread(profile: CpuProfile): boolean {
  return profile.nodes.some((n) => n.callFrame.url.includes('/libs/ingest/src/writer-thread-main'));
}

export interface StageBreakdown {
  /** Per stage: µs of the process's CPU per relayed message (its share of the sampled time × the measured CPU). */
  usPerMessage: Record<Stage, number>;
  /** Per stage: share of the sampled non-idle time, 0–1. */
  share: Record<Stage, number>;
  /** Sampled non-idle µs per thread kind, and the profiles read. */
  sampledUs: { main: number; writer: number };
  profiles: number;
  messages: number;
  cpuUs: number;
}

/**
 * Combines the threads' stage times into µs per relayed message: `cpuUs` is the process's measured CPU (all
 * threads) over the same windows, `messages` the messages relayed in them.
 */
export function breakdown(threads: { times: StageTimes; thread: 'main' | 'writer' }[], cpuUs: number, messages: number): StageBreakdown {
  const total = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  const sampledUs = { main: 0, writer: 0 };
  for (const { times, thread } of threads) {
    for (const s of STAGES) {
      total[s] += times.us[s];
      sampledUs[thread] += times.us[s];
    }
  }
  const sum = sampledUs.main + sampledUs.writer;
  const share = Object.fromEntries(STAGES.map((s) => [s, sum > 0 ? total[s] / sum : 0])) as Record<Stage, number>;
  const usPerMessage = Object.fromEntries(STAGES.map((s) => [s, messages > 0 ? (share[s] * cpuUs) / messages : NaN])) as Record<Stage, number>;
  return { usPerMessage, share, sampledUs, profiles: threads.length, messages, cpuUs };
}

/** Reads the .cpuprofile files of process `pid` in `dir` (named CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile). */
export function readProfiles(dir: string, pid: number): { file: string; profile: CpuProfile }[] {
  const re = new RegExp(`^CPU\\.\\d+\\.\\d+\\.${pid}\\.\\d+\\.\\d+\\.cpuprofile$`);
  return fs
    .readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => ({ file: f, profile: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CpuProfile }));
}

/** The process's stage breakdown over `windows`, from its profiles in `dir`. */
export function profileBreakdown(dir: string, pid: number, windows: readonly Window[], cpuUs: number, messages: number): StageBreakdown {
  const threads = readProfiles(dir, pid).map(({ profile }) => {
    const thread: 'main' | 'writer' = isWriterThread(profile) ? 'writer' : 'main';
    return { thread, times: stageTimes(profile, windows, thread) };
  });
  return breakdown(threads, cpuUs, messages);
}

/** The breakdown as a Markdown table (µs per relayed message and share, largest first). */
export function formatBreakdown(b: StageBreakdown): string[] {
  const rows = [...STAGES].filter((s) => b.share[s] > 0).sort((x, y) => b.share[y] - b.share[x]);
  const lines = ['| stage | µs per relayed message | share of sampled time |', '|---|---:|---:|'];
  for (const s of rows) lines.push(`| ${STAGE_LABEL[s]} | ${b.usPerMessage[s].toFixed(1)} | ${(100 * b.share[s]).toFixed(1)}% |`);
  lines.push(`| **total** (process CPU, all threads) | **${b.messages > 0 ? (b.cpuUs / b.messages).toFixed(1) : 'n/a'}** | 100% |`);
  return lines;
}
