import { ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Pool } from 'pg';
import { Queue } from 'bullmq';
import WebSocket from 'ws';
import { benchDatabase } from './scratch-db';
import { namedIn, nextMessage } from './child-message';
import { RECORDER_NODE_ARGS } from './node-flags';
import { fmt } from './stats';
import { cpuPerEvent, CpuLedger, cpuSeconds, postgresReadings } from './cpu-account';
import type { CpuPerEvent, CpuReading } from './cpu-account';
import { TcpForwarder } from '@rewind/local-services';
import type { ApiCommand, ApiReport } from './replay-worker';
import type { BotsConfig, BotsStats, PipelineConfig, Reconciliation, RecorderConfig, ServiceStats, SimConfig, SoakRole, WorkerCommand, WorkerReport } from './soak-worker';

/**
 * rewind bench soak: Rewind end to end under sustained mixed traffic, with scripted faults.
 *
 * Processes (each its own): the simulator (platforms), a second simulator holding the rewards endpoint, two
 * recorders (proxy + spectators + pollers sharing captures through BullMQ), the pipeline, the API (replay
 * gateway), the bots; this process scripts faults, samples every 5 s and runs `replays` replay clients.
 * Recorders and pipeline reach Postgres and Redis through forwarders in this process (TcpForwarder of @rewind/local-services), so a
 * "restart" or a stall is scripted on the link, never on the shared servers. Everything goes to a scratch
 * database (dropped at the end) and unique BullMQ queue names/prefixes (obliterated at the end).
 */
export const SOAK_FAULTS = ['postgres-restart', 'redis-restart', 'recorder-kill', 'pipeline-kill', 'upstream-restart', 'network-stall'] as const;
export type SoakFault = (typeof SOAK_FAULTS)[number];

export interface SoakOptions {
  serverUrl: string;
  redisUrl: string;
  sessions: number;
  seconds: number;
  faults: SoakFault[];
  replays: number;
  out: (line: string) => void;
  /** How long a scripted outage/stall lasts (ms). Default 3000. */
  outageMs?: number;
}

export interface FaultObservation {
  fault: SoakFault;
  /** When the fault was scheduled (s from the start), and when it actually began: later when the wait for a storing ingest (the first) or the previous fault's recovery outlasted the gap. */
  atS: number;
  startedS?: number;
  notes: string[];
  /** What was measured around the fault, and whether that shows it happened and took effect ({@link faultEffect}). */
  evidence: FaultEvidence;
  effect: FaultEffect;
}

/**
 * What the soak measured around one scripted fault. A fault that had no observable effect proves nothing about
 * recovery (a forwarder that did not cut, a kill that hit nothing), so the soak fails on it ({@link faultEffect}).
 */
export interface FaultEvidence {
  /** Connections the forwarder cut when the link went down, plus those it refused while down. */
  linkCut?: number;
  /** Connections the forwarder accepted once the link was back: the clients reconnected. */
  linkReconnects?: number;
  /** The recorders' ingest reported the event store unreachable during the fault (its `outage` flag). */
  ingestOutage?: boolean;
  /** The most events the recorders held in their outage journals during the fault. */
  journaledMax?: number;
  /** Ingest lag just before the fault, and the most during it (ms). */
  lagBeforeMs?: number;
  lagMaxMs?: number;
  /** How long the link was stalled (ms). */
  stallMs?: number;
  /** The signal the killed process exited with (`SIGKILL`), or null if it exited otherwise. */
  killSignal?: string | null;
  /** Captures (spectators, pollers) the killed recorder was running. */
  victimCaptures?: number;
  /** The victim's capture jobs still in the queue after the kill (active, not run by the survivor): what a take-over must pick up. */
  victimJobs?: number;
  /** Captures the surviving recorder took over from the killed one. */
  takeovers?: number;
  /** Bot runs that failed while the fault lasted (connections cut by it). */
  botRunsFailed?: number;
  /** Reward handoffs delivered after the pipeline was killed (by its replacement), and how many were re-deliveries. */
  handoffsAfter?: number;
  redelivered?: number;
  /**
   * How long the system took to recover once the fault was lifted (ms; NaN when recovery was looked for and not
   * seen within its wait): the ingest drained, handoffs flowed again, the captures were taken over, bot runs
   * completed again. A fault the system did not recover from fails the soak ({@link faultRecoveryProblems}).
   */
  recoveredMs?: number;
  /** What recovery means for this fault, for the report. */
  recovery?: string;
}

export interface FaultEffect {
  seen: boolean;
  /** What shows the effect, or what was looked for and not seen. */
  evidence: string;
}

export interface SoakResult {
  ok: boolean;
  problems: string[];
  faults: FaultObservation[];
  reconciliation: Reconciliation | null;
  handoffs: { outboxRows: number; listed: number; duplicates: number; missing: number; extra: number; maxDeliveries: number; redelivered: number };
  rows: SoakRow[];
  /** Rewind's own CPU per stored event over the soak (bots started → handoffs delivered after the drain), by process kind. */
  cpu: CpuPerEvent;
}

export interface SoakRow {
  t: number;
  eventsPerSec: number;
  added: { p50: number; p99: number };
  proxied: { p50: number; p99: number };
  lagMs: number;
  buffered: number;
  journaled: number;
  runs: { ok: number; failed: number; inFlight: number };
  replayEventsPerSec: number;
  rssMb: Record<string, number>;
  /** CPU used in the window, % of one core, per process (and `postgres`: every server process together). */
  cpuPct: Record<string, number>;
  note: string;
}

// ---- pure helpers (soak.spec.ts) ---------------------------------------------------------------------------

/** `--faults` value → the faults, in the order given (`all`: every one; empty: none). */
export function parseFaults(spec: string | undefined): SoakFault[] {
  if (!spec || spec === 'none') return [];
  if (spec === 'all') return [...SOAK_FAULTS];
  const out: SoakFault[] = [];
  for (const f of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!(SOAK_FAULTS as readonly string[]).includes(f)) throw new Error(`unknown fault "${f}" (known: ${SOAK_FAULTS.join(', ')}, all)`);
    if (!out.includes(f as SoakFault)) out.push(f as SoakFault);
  }
  return out;
}

/** When (s from the start) each fault is scripted: spread evenly over the run, none in its first or last tenth. */
export function faultSchedule(faults: readonly SoakFault[], seconds: number): { fault: SoakFault; atS: number }[] {
  const n = faults.length;
  return faults.map((fault, i) => ({ fault, atS: Math.round(seconds * (0.1 + (0.8 * (i + 0.5)) / n) * 10) / 10 }));
}

/**
 * Did a scripted fault happen and take effect? Each fault has an effect the rest of the system must show:
 * - postgres-restart: the forwarder cut the recorders' connections and the ingest noticed (outage flag or journal);
 * - network-stall: the ingest's lag grew by at least half the stall (or it journaled);
 * - redis-restart: the forwarder cut the BullMQ/ioredis connections and they reconnected after it;
 * - recorder-kill: the recorder died of SIGKILL and its captures were taken over (or, if it held none, bot runs
 *   through its proxy were cut);
 * - pipeline-kill: the pipeline died of SIGKILL and its replacement delivered handoffs;
 * - upstream-restart: the simulator died of SIGKILL and the bots' live runs failed with it.
 */
export function faultEffect(fault: SoakFault, e: FaultEvidence): FaultEffect {
  const n = (v: number | undefined): number => v ?? 0;
  const yes = (b: boolean | undefined): string => (b ? 'yes' : 'no');
  const killed = e.killSignal === 'SIGKILL';
  switch (fault) {
    case 'postgres-restart':
      return {
        seen: n(e.linkCut) > 0 && (e.ingestOutage === true || n(e.journaledMax) > 0),
        evidence: `${n(e.linkCut)} Postgres connections cut or refused; ingest outage seen: ${yes(e.ingestOutage)}, up to ${n(e.journaledMax)} events journaled; ${n(e.linkReconnects)} reconnects after`,
      };
    case 'network-stall':
      return {
        seen: (n(e.stallMs) > 0 && n(e.lagMaxMs) - n(e.lagBeforeMs) >= n(e.stallMs) / 2) || e.ingestOutage === true || n(e.journaledMax) > 0,
        evidence: `ingest lag ${n(e.lagBeforeMs)} ms before → up to ${n(e.lagMaxMs)} ms during the ${n(e.stallMs)} ms stall (an effect is a rise of ≥ ${n(e.stallMs) / 2} ms); outage seen: ${yes(e.ingestOutage)}, up to ${n(e.journaledMax)} journaled`,
      };
    case 'redis-restart':
      return {
        seen: n(e.linkCut) > 0 && n(e.linkReconnects) > 0,
        evidence: `${n(e.linkCut)} Redis connections cut or refused; ${n(e.linkReconnects)} reconnects after the link came back`,
      };
    case 'recorder-kill':
      return {
        seen: killed && (n(e.victimJobs ?? e.victimCaptures) > 0 ? n(e.takeovers) > 0 : n(e.takeovers) > 0 || n(e.botRunsFailed) > 0),
        evidence: `recorder exited by ${e.killSignal ?? 'no signal'}; it ran ${n(e.victimCaptures)} captures (${e.victimJobs === undefined ? 'jobs in the queue not counted' : `${n(e.victimJobs)} of its jobs left in the queue`}), the survivor took over ${n(e.takeovers)}; ${n(e.botRunsFailed)} bot runs failed`,
      };
    case 'pipeline-kill':
      return {
        seen: killed && n(e.handoffsAfter) > 0,
        evidence: `pipeline exited by ${e.killSignal ?? 'no signal'}; its replacement delivered ${n(e.handoffsAfter)} handoffs (${n(e.redelivered)} re-deliveries)`,
      };
    case 'upstream-restart':
      return {
        seen: killed && n(e.botRunsFailed) > 0,
        evidence: `simulator exited by ${e.killSignal ?? 'no signal'}; ${n(e.botRunsFailed)} live bot runs failed with it`,
      };
  }
}

/** One problem per scripted fault that had no observed effect, naming the fault and what was looked for. */
export function faultEffectProblems(observations: readonly Pick<FaultObservation, 'fault' | 'atS' | 'effect'>[]): string[] {
  return observations.filter((o) => !o.effect.seen).map((o) => `fault ${o.fault} at ${o.atS} s had no observed effect: ${o.effect.evidence}`);
}

/** One problem per scripted fault whose recovery was looked for and not seen (`recoveredMs` NaN). */
export function faultRecoveryProblems(observations: readonly Pick<FaultObservation, 'fault' | 'atS' | 'evidence'>[]): string[] {
  return observations
    .filter((o) => o.evidence.recoveredMs !== undefined && !Number.isFinite(o.evidence.recoveredMs))
    .map((o) => `fault ${o.fault} at ${o.atS} s: no recovery seen (${o.evidence.recovery ?? 'recovery'} did not happen within the wait)`);
}

/**
 * Runs that must complete after the platform came back before the soak counts it recovered: 5, or half the
 * slots on a small soak (a 6-slot soak plays runs of 5–20 s: 5 completions could take most of a short soak).
 */
export function runsToRecover(sessions: number): number {
  return Math.max(1, Math.min(5, Math.ceil(sessions / 2)));
}

/** Reward handoffs vs the outbox: each reward-handoff row's run listed exactly once (pure). */
export function reconcileHandoffs(outboxSessions: string[], listed: { runSessionId: string; deliveries: number }[]): SoakResult['handoffs'] {
  const byRun = new Map<string, number>();
  for (const h of listed) byRun.set(h.runSessionId, (byRun.get(h.runSessionId) ?? 0) + 1);
  const want = new Set(outboxSessions);
  let missing = 0;
  for (const s of want) if (!byRun.has(s)) missing++;
  let extra = 0;
  let duplicates = 0;
  for (const [s, n] of byRun) {
    if (!want.has(s)) extra++;
    if (n > 1) duplicates += n - 1;
  }
  return {
    outboxRows: outboxSessions.length,
    listed: listed.length,
    duplicates,
    missing,
    extra,
    maxDeliveries: listed.reduce((m, h) => Math.max(m, h.deliveries), 0),
    redelivered: listed.filter((h) => h.deliveries > 1).length,
  };
}

/** The bots' transport errors for the HTTP reconciliation line: `; bots' transport errors: 2× fetch failed (ECONNRESET)` ('' when none). */
export function transportErrors(errors: Record<string, number>): string {
  const list = Object.entries(errors).sort((x, y) => y[1] - x[1]);
  return list.length
    ? `; bots' transport errors: ${list
        .slice(0, 4)
        .map(([k, v]) => `${v}× ${k}`)
        .join(', ')}`
    : '';
}

/** Resident set size of a process in MB (Linux /proc; NaN elsewhere or when gone). */
export function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export { cpuSeconds };

/** CPU seconds of each `postgres` process on this machine (the server and its backends), by pid. */
export function postgresCpuSeconds(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== 'postgres') continue;
        const v = cpuSeconds(Number(d));
        if (Number.isFinite(v)) out.set(Number(d), v);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return out;
}

/** CPU seconds the postgres processes used between two samples (backends that exited meanwhile are not counted; new ones count whole). */
export function postgresCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, s] of after) total += s - (before.get(pid) ?? 0);
  return total;
}

// ---- process plumbing --------------------------------------------------------------------------------------

const REPO_ROOT = path.resolve(__dirname, '../../../..');
const REGISTER = path.join(REPO_ROOT, 'scripts/register.js');
const WORKER = path.join(__dirname, 'soak-worker.ts');
const API_WORKER = path.join(__dirname, 'replay-worker.ts');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Child<R> {
  name: string;
  child: ChildProcess;
  send(m: WorkerCommand | ApiCommand): void;
  next<T extends R>(pred: (m: R) => m is T, timeoutMs: number, what: string): Promise<T>;
  alive(): boolean;
}

/**
 * Diagnosis: `REWIND_SOAK_VERBOSE=recorder,pipeline` (prefixes of the children's roles, or `all`) also prints
 * those children's info lines (capture take-overs, runs ended, streams sealed), not only warnings and errors.
 *
 * Diagnosis: `REWIND_SOAK_PROFILE=recorder,api` (a prefix of child names, or `all`) writes a V8 CPU profile of
 * those children to test-output/soak-profiles/<child>/ when they exit normally (not for a SIGKILLed one).
 */
export function profileArgs(name: string, setting = process.env['REWIND_SOAK_PROFILE'] ?? ''): string[] {
  if (!namedIn(name, setting)) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${path.join(REPO_ROOT, 'test-output/soak-profiles', name.replace(/\W+/g, '-'))}`];
}

function forkChild<R>(name: string, file: string, args: string[], env: Record<string, string>): Child<R> {
  const child = fork(file, args, {
    cwd: REPO_ROOT,
    execArgv: ['-r', REGISTER, ...(name.startsWith('recorder') ? RECORDER_NODE_ARGS : []), ...profileArgs(name)],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return {
    name,
    child,
    alive: () => child.exitCode === null && child.signalCode === null,
    send: (m) => void (child.connected && child.send(m)),
    next: (pred, timeoutMs, what) => nextMessage(child, name, pred, timeoutMs, what),
  };
}

function startRole<C>(role: SoakRole, name: string, c: C): Child<WorkerReport> {
  return forkChild<WorkerReport>(name, WORKER, [role], { REWIND_SOAK_WORKER: JSON.stringify(c) });
}
const isReady = (m: WorkerReport): m is Extract<WorkerReport, { type: 'ready' }> => m.type === 'ready';
const isStats = (m: WorkerReport): m is ServiceStats => m.type === 'stats';

async function stopChild(c: Child<unknown> | undefined, graceMs = 20_000): Promise<void> {
  if (!c || !c.alive()) return;
  const gone = new Promise<void>((r) => c.child.once('exit', () => r()));
  c.send({ type: 'exit' });
  const t = setTimeout(() => c.child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(t);
}

/** SIGKILLs a child; the signal it exited with (null if it had already exited, or exited otherwise). */
async function killChild(c: Child<unknown>): Promise<string | null> {
  if (!c.alive()) return null;
  const gone = new Promise<string | null>((r) => c.child.once('exit', (_code, signal) => r(signal)));
  c.child.kill('SIGKILL');
  return gone;
}

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as import('node:net').AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

// ---- replay clients ----------------------------------------------------------------------------------------

interface Replays {
  events: number;
  completed: number;
  errors: number;
  stop(): Promise<void>;
}

/** `n` replay clients, each playing random sealed sessions (speed 4) from the gateway, one after another. */
function startReplays(n: number, port: number, apiKey: string, pool: Pool): Replays {
  const state: Replays = { events: 0, completed: 0, errors: 0, stop: async () => undefined };
  let stopped = false;
  let ids: string[] = [];
  const open = new Set<WebSocket>();
  const refresh = async (): Promise<void> => {
    const { rows } = await pool
      .query<{ id: string }>(`SELECT id FROM sessions WHERE status = 'sealed' AND metadata->>'stream' = 'run' ORDER BY random() LIMIT 500`)
      .catch(() => ({ rows: [] as { id: string }[] }));
    if (rows.length) ids = rows.map((r) => r.id);
  };
  const refresher = setInterval(() => void refresh(), 5000);
  void refresh();
  const client = async (): Promise<void> => {
    while (!stopped) {
      const id = ids[Math.floor(Math.random() * ids.length)];
      if (!id) {
        await sleep(1000);
        continue;
      }
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/replay/${id}?speed=4`, { perMessageDeflate: false, headers: { authorization: `Bearer ${apiKey}` } });
        open.add(ws);
        ws.on('message', (data: Buffer) => {
          if (data.toString('latin1', 0, 16).startsWith('{"type":"event"')) state.events++;
          else if (data.includes('"type":"end"')) state.completed++;
          else if (data.includes('"type":"error"')) state.errors++;
        });
        ws.on('error', () => state.errors++);
        ws.once('close', () => {
          open.delete(ws);
          resolve();
        });
      });
    }
  };
  const clients = Array.from({ length: n }, () => client());
  state.stop = async () => {
    stopped = true;
    clearInterval(refresher);
    for (const ws of open) ws.terminate();
    await Promise.all(clients);
  };
  return state;
}

// ---- the soak ----------------------------------------------------------------------------------------------

const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const { sessions, seconds, replays, out } = o;
  const outageMs = o.outageMs ?? 3000;
  const cpus = os.cpus();
  const seed = `soak-${randomBytes(3).toString('hex')}`;
  const probes = Math.max(2, Math.round(sessions * 0.02));
  out('# rewind bench soak');
  out('');
  out(
    `${sessions} concurrent bot sessions (80% MoltStation Flappy Bots/ShellRunners at 20 frames/s, 8% SpaceMolt WS/HTTP, 6% cloud-play, 6% RGS; runs back to back) for ${seconds} s through two recorders' proxies, spectators on every MoltStation agent_api run, ${replays} concurrent replays (speed 4) from the gateway, ${probes} unrecorded probe sessions straight to the simulator (latency baseline). Faults: ${o.faults.length ? o.faults.join(', ') : 'none'}. Seed ${seed}.`,
  );
  out(`Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB, node ${process.version}, ${os.platform()} ${os.release()}.`);
  out('');

  const db = await benchDatabase(o.serverUrl, 'soak');
  const pgFwd = await TcpForwarder.startFor(o.serverUrl);
  const redisFwd = await TcpForwarder.startFor(o.redisUrl);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rewind-soak-'));
  const keyHex = randomBytes(32).toString('hex');
  const queueName = `soak-capture-${process.pid}-${randomBytes(4).toString('hex')}`;
  const prefix = `soak-${process.pid}-${randomBytes(4).toString('hex')}`;
  const apiKey = `soak-${randomBytes(12).toString('hex')}`;
  const simPort = await freePort();
  const children: Child<unknown>[] = [];
  const killAll = (): void => {
    for (const c of children) if (c.alive()) c.child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const problems: string[] = [];
  const observations: FaultObservation[] = [];
  const rows: SoakRow[] = [];
  let reconciliation: Reconciliation | null;
  let handoffs: SoakResult['handoffs'];
  let replayState: Replays | undefined;
  let cpu: CpuPerEvent;

  const simBase = `http://127.0.0.1:${simPort}`;
  const upstreams = { moltstation: `${simBase}/moltstation`, spacemolt: `${simBase}/spacemolt`, cloudplay: `${simBase}/cloudplay`, rgs: `${simBase}/rgs` };
  let simStarts = 0;
  // Each start gets its own seed: a simulator restarted with the same seed would hand out the same platform
  // session ids again, which no real platform does (and Rewind keys runs and capture tasks by them).
  const startSim = async (): Promise<Child<WorkerReport>> => {
    const c = startRole<SimConfig>('sim', 'simulator', { port: simPort, seed: simStarts++ === 0 ? seed : `${seed}-restart${simStarts}` });
    children.push(c);
    await c.next(isReady, 60_000, 'simulator ready');
    return c;
  };
  const recorderConfig = (instance: string): RecorderConfig => ({
    databaseUrl: pgFwd.urlFor(db.url),
    redisUrl: redisFwd.urlFor(o.redisUrl),
    upstreams,
    dataDir,
    instance,
    keyHex,
    queueName,
    concurrency: Math.max(50, sessions),
    // Admission control (graceful overload) runs with the recorder's defaults; REWIND_SOAK_ADMISSION=0 turns it off (the runs before it).
    ...(process.env['REWIND_SOAK_ADMISSION'] === '0' ? { admission: { enabled: false } } : {}),
  });
  const startRecorder = async (instance: string): Promise<{ c: Child<WorkerReport>; url: string }> => {
    const c = startRole<RecorderConfig>('recorder', `recorder ${instance}`, recorderConfig(instance));
    children.push(c);
    const ready = await c.next(isReady, 60_000, 'recorder ready');
    return { c, url: `http://127.0.0.1:${ready.port}` };
  };
  const pipelineConfig: PipelineConfig = { databaseUrl: pgFwd.urlFor(db.url), redisUrl: redisFwd.urlFor(o.redisUrl), prefix, keyHex, rewardsUrl: '', moltstationUrl: upstreams.moltstation };
  const startPipe = async (): Promise<Child<WorkerReport>> => {
    const c = startRole<PipelineConfig>('pipeline', 'pipeline', pipelineConfig);
    children.push(c);
    await c.next(isReady, 60_000, 'pipeline ready');
    return c;
  };

  try {
    let sim = await startSim();
    const rewards = startRole<SimConfig>('rewards', 'rewards', { port: 0, seed: `${seed}-rewards` });
    children.push(rewards);
    const rewardsPort = (await rewards.next(isReady, 60_000, 'rewards ready')).port as number;
    const rewardsUrl = `http://127.0.0.1:${rewardsPort}/rewards/handoffs`;
    pipelineConfig.rewardsUrl = rewardsUrl;
    const recs: { name: string; c: Child<WorkerReport>; url: string }[] = [];
    for (const name of ['A', 'B']) recs.push({ name, ...(await startRecorder(name)) });
    let pipeline = await startPipe();
    const api = forkChild<ApiReport>('api', API_WORKER, [db.url, o.redisUrl, apiKey, randomBytes(32).toString('hex')], {});
    children.push(api);
    const apiPort = (await api.next((m): m is Extract<ApiReport, { type: 'ready' }> => m.type === 'ready', 60_000, 'API ready')).port;
    const botsConfig: BotsConfig = { simUrl: simBase, proxies: recs.map((r) => r.url), sessions, probes, seed, keyHex, databaseUrl: db.url };
    out(
      `Processes: simulator (pid ${sim.child.pid}), rewards endpoint (${rewards.child.pid}), recorders A (${recs[0]?.c.child.pid}) and B (${recs[1]?.c.child.pid}), pipeline (${pipeline.child.pid}), API (${api.child.pid}), bots (below), this process (${process.pid}: forwarders, replays, fault script). Postgres/Redis of recorders and pipeline through forwarders :${pgFwd.port}/:${redisFwd.port}.`,
    );
    const bots = startRole<BotsConfig>('bots', 'bots', botsConfig);
    children.push(bots);
    await bots.next(isReady, 60_000, 'bots ready');
    // Rewind's own CPU over the soak: every child by kind, this process (the harness: forwarders, replay clients,
    // fault script) and the Postgres processes working for the scratch database, from bots started to drain done.
    const kindOf = (name: string): string => (name === 'simulator' || name === 'rewards' ? 'simulator' : name.startsWith('recorder') ? 'recorder' : name);
    const readCpu = async (): Promise<CpuReading[]> => [
      ...children.filter((c) => c.alive() && c.child.pid).map((c) => ({ kind: kindOf(c.name), pid: c.child.pid as number, seconds: cpuSeconds(c.child.pid) })),
      { kind: 'harness', pid: process.pid, seconds: cpuSeconds(process.pid) },
      ...(await postgresReadings(db.pool).catch(() => [])),
    ];
    const ledger = new CpuLedger(await readCpu());
    /** A reading for the ledger: every 5 s, and just before a process is killed (what it spent since is lost). */
    const observeCpu = async (): Promise<void> => ledger.observe(await readCpu());
    const t0 = Date.now();
    replayState = startReplays(replays, apiPort, apiKey, db.pool);

    // ---- sampling ----
    const latest = new Map<string, ServiceStats>();
    const appendedBase = new Map<string, number>(); // appended by killed recorders, kept in the totals
    const appendedTotal = (): number => [...latest.entries()].reduce((a, [, s]) => a + (s.ingest?.appended ?? 0), 0) + [...appendedBase.values()].reduce((a, b) => a + b, 0);
    const sampleRecorders = async (): Promise<void> => {
      await Promise.all(
        recs.map(async (r) => {
          if (!r.c.alive()) return;
          const p = r.c.next(isStats, 5000, 'stats').catch(() => undefined);
          r.c.send({ type: 'stats' });
          const s = await p;
          if (s) latest.set(r.name, s);
        }),
      );
    };
    /** Active jobs of the capture queue that the survivor does not run (right after a recorder's kill: the victim's). */
    const victimJobsInQueue = async (running: (s: ServiceStats | undefined) => number): Promise<number> => {
      const queue = new Queue(queueName, { connection: { url: o.redisUrl, maxRetriesPerRequest: 1 }, prefix: 'rewind' });
      try {
        const active = await queue.getActiveCount();
        await sampleRecorders();
        const survivors = recs.filter((r) => r.c.alive()).reduce((a, r) => a + running(latest.get(r.name)), 0);
        return Math.max(0, active - survivors);
      } catch {
        return 1; // unknown: expect a take-over, as before
      } finally {
        await queue.close().catch(() => undefined);
      }
    };
    /** Capture-lock losses and admission figures of the recorders (a killed recorder's last figures are kept). */
    type CaptureFigures = { lost: number; stale: number; refused: number; closings: number };
    const captureBase = new Map<string, CaptureFigures>();
    const captureOf = (st: ServiceStats | undefined): CaptureFigures => ({
      lost: Number((st?.tasks as Record<string, unknown> | undefined)?.['lost'] ?? 0),
      stale: Number((st?.tasks as Record<string, unknown> | undefined)?.['staleFetches'] ?? 0),
      refused: st?.admission?.refused ?? 0,
      closings: st?.admission?.closings ?? 0,
    });
    const captureTotals = (): CaptureFigures => {
      const all = [...[...latest.values()].map(captureOf), ...captureBase.values()];
      return all.reduce((a, x) => ({ lost: a.lost + x.lost, stale: a.stale + x.stale, refused: a.refused + x.refused, closings: a.closings + x.closings }), {
        lost: 0,
        stale: 0,
        refused: 0,
        closings: 0,
      });
    };
    const admissionWasOpen = new Map<string, boolean>();
    const ingestNow = (): { lagMs: number; buffered: number; journaled: number; outage: boolean } => {
      let lagMs = 0;
      let buffered = 0;
      let journaled = 0;
      let outage = false;
      for (const r of recs) {
        const s = latest.get(r.name)?.ingest;
        if (!s || !r.c.alive()) continue;
        lagMs = Math.max(lagMs, s.lagMs);
        buffered += s.buffered;
        journaled += s.journaled;
        outage ||= s.outage;
      }
      return { lagMs, buffered, journaled, outage };
    };
    const handoffList = async (): Promise<{ runSessionId: string; deliveries: number }[]> => {
      const r = await fetch(rewardsUrl, { signal: AbortSignal.timeout(10_000) });
      const j = (await r.json()) as { handoffs: { body: { runSessionId: string }; deliveries: number }[] };
      return j.handoffs.map((h) => ({ runSessionId: h.body.runSessionId, deliveries: h.deliveries }));
    };
    let lastBots: BotsStats | undefined;
    const sampleBots = async (reset = false): Promise<BotsStats | undefined> => {
      const p = bots.next((m): m is BotsStats => m.type === 'stats', 10_000, 'bots stats').catch(() => undefined);
      bots.send({ type: 'stats', reset });
      const s = await p;
      if (s) lastBots = s;
      return s;
    };

    out('');
    out(
      `| t (s) | events/s stored | proxy added p50 / p99 (ms) | frame lateness via proxy p50 / p99 (ms) | ingest lag max (ms) / buffered / journaled | runs ok / failed / playing | replay events/s | RSS MB: sim / rec A / rec B / pipeline / API / bots / this | CPU % of a core: sim / rec A / rec B / pipeline / API / bots / this / postgres | note |`,
    );
    out('|---:|---:|---:|---:|---:|---:|---:|---|---|---|');
    let notes: string[] = [];
    const prevCpu = new Map<string, { pid: number; s: number }>();
    let prevPg: Map<number, number> | null = null;
    let prevCpuAt = Date.now();
    /** % of one core each process used since the previous window (a restarted process starts a new count). */
    /** The pid of each process the table reports (a killed recorder: none). */
    const processes = (): Record<string, number | undefined> => ({
      sim: sim.child.pid,
      recA: recs[0]?.c.alive() ? recs[0].c.child.pid : undefined,
      recB: recs[1]?.c.alive() ? recs[1].c.child.pid : undefined,
      pipeline: pipeline.child.pid,
      api: api.child.pid,
      bots: bots.child.pid,
      self: process.pid,
    });
    const cpuWindow = (pids: Record<string, number | undefined>): Record<string, number> => {
      const now = Date.now();
      const dt = (now - prevCpuAt) / 1000;
      prevCpuAt = now;
      const out: Record<string, number> = {};
      for (const [k, pid] of Object.entries(pids)) {
        const s = cpuSeconds(pid);
        const before = prevCpu.get(k);
        out[k] = before && before.pid === pid && Number.isFinite(s) ? ((s - before.s) / dt) * 100 : NaN;
        if (pid !== undefined && Number.isFinite(s)) prevCpu.set(k, { pid, s });
      }
      const pg = postgresCpuSeconds();
      out['postgres'] = prevPg && pg.size > 0 ? (postgresCpuDelta(prevPg, pg) / dt) * 100 : NaN;
      prevPg = pg;
      return out;
    };
    cpuWindow(processes());
    let prevAppended = 0;
    let prevReplay = 0;
    let prevAt = Date.now();
    const sampler = async (): Promise<void> => {
      await observeCpu();
      await sampleRecorders();
      const b = await sampleBots(true);
      const now = Date.now();
      const dt = (now - prevAt) / 1000;
      const appended = appendedTotal();
      const ing = ingestNow();
      const lat = b?.latency;
      for (const r of recs) {
        const adm = latest.get(r.name)?.admission;
        if (!adm || !r.c.alive()) continue;
        const was = admissionWasOpen.get(r.name) ?? true;
        if (was !== adm.open) notes.push(adm.open ? `admission ${r.name} reopened` : `admission ${r.name} CLOSED (${adm.reason}; loop delay ${fmt(adm.loopDelayMs)} ms)`);
        admissionWasOpen.set(r.name, adm.open);
      }
      const row: SoakRow = {
        t: Math.round((now - t0) / 1000),
        eventsPerSec: (appended - prevAppended) / dt,
        added: { p50: lat ? lat.proxied.p50 - lat.direct.p50 : NaN, p99: lat ? lat.proxied.p99 - lat.direct.p99 : NaN },
        proxied: { p50: lat?.proxied.p50 ?? NaN, p99: lat?.proxied.p99 ?? NaN },
        lagMs: ing.lagMs,
        buffered: ing.buffered,
        journaled: ing.journaled,
        runs: { ok: b?.runsOk ?? 0, failed: b?.runsFailed ?? 0, inFlight: b?.inFlight ?? 0 },
        replayEventsPerSec: ((replayState?.events ?? 0) - prevReplay) / dt,
        rssMb: Object.fromEntries(Object.entries(processes()).map(([k, pid]) => [k, rssMb(pid)])),
        cpuPct: cpuWindow(processes()),
        note: notes.join('; '),
      };
      notes = [];
      prevAppended = appended;
      prevReplay = replayState?.events ?? 0;
      prevAt = now;
      rows.push(row);
      const r = row.rssMb;
      const c = row.cpuPct;
      out(
        `| ${row.t} | ${fmt(row.eventsPerSec)} | ${f2(row.added.p50)} / ${f2(row.added.p99)} | ${f2(row.proxied.p50)} / ${f2(row.proxied.p99)} | ${fmt(row.lagMs)} / ${fmt(row.buffered)} / ${fmt(row.journaled)} | ${row.runs.ok} / ${row.runs.failed} / ${row.runs.inFlight} | ${fmt(row.replayEventsPerSec)} | ${[r['sim'], r['recA'], r['recB'], r['pipeline'], r['api'], r['bots'], r['self']].map((x) => (Number.isFinite(x) ? fmt(x as number) : '–')).join(' / ')} | ${[c['sim'], c['recA'], c['recB'], c['pipeline'], c['api'], c['bots'], c['self'], c['postgres']].map((x) => (Number.isFinite(x) ? fmt(x as number) : '–')).join(' / ')} | ${row.note} |`,
      );
    };
    let sampling = true;
    const samplerLoop = (async () => {
      let next = t0 + 5000;
      while (sampling) {
        await sleep(Math.max(0, next - Date.now()));
        next += 5000;
        if (!sampling) break;
        await sampler().catch((e: Error) => problems.push(`sampler: ${e.message}`));
      }
    })();

    // ---- faults ----
    /** Polls `f` every 200 ms until true; ms waited, or NaN after `timeoutMs`. */
    const until = async (f: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> => {
      const s = Date.now();
      while (Date.now() - s < timeoutMs) {
        if (await f()) return Date.now() - s;
        await sleep(200);
      }
      return NaN;
    };
    const runFault = async (fault: SoakFault, atS: number): Promise<void> => {
      const startedS = Math.round((Date.now() - t0) / 100) / 10;
      const obs: FaultObservation = { fault, atS, startedS, notes: [], evidence: {}, effect: { seen: false, evidence: 'not measured (the fault script failed)' } };
      const ev = obs.evidence;
      observations.push(obs);
      notes.push(`▶ ${fault}`);
      const note = (s: string): void => void obs.notes.push(s);
      // Faults run one after the other, each waiting for its recovery: on a loaded machine one may begin after its slot.
      if (startedS - atS >= 1) note(`began at ${startedS} s, ${fmt((startedS - atS) * 1000)} ms late (the wait for a storing ingest, or for the previous fault's recovery, outlasted the gap)`);
      const watchIngest = async (ms: number): Promise<{ maxJournaled: number; maxLag: number; sawOutage: boolean }> => {
        let maxJournaled = 0;
        let maxLag = 0;
        let sawOutage = false;
        const end = Date.now() + ms;
        while (Date.now() < end) {
          await sampleRecorders();
          const i = ingestNow();
          maxJournaled = Math.max(maxJournaled, i.journaled);
          maxLag = Math.max(maxLag, i.lagMs);
          sawOutage ||= i.outage;
          await sleep(200);
        }
        return { maxJournaled, maxLag, sawOutage };
      };
      const drained = async (): Promise<boolean> => {
        await sampleRecorders();
        const i = ingestNow();
        return !i.outage && i.journaled === 0 && i.lagMs < 1000;
      };
      switch (fault) {
        case 'postgres-restart':
        case 'network-stall': {
          await sampleRecorders();
          ev.lagBeforeMs = ingestNow().lagMs;
          const s0 = Date.now();
          const cut0 = pgFwd.counts.dropped + pgFwd.counts.refused;
          if (fault === 'postgres-restart') pgFwd.pause();
          else pgFwd.stall(outageMs);
          const w = await watchIngest(outageMs);
          const accepted0 = pgFwd.counts.accepted;
          if (fault === 'postgres-restart') {
            ev.linkCut = pgFwd.counts.dropped + pgFwd.counts.refused - cut0;
            pgFwd.resume();
          } else ev.stallMs = outageMs;
          Object.assign(ev, { ingestOutage: w.sawOutage, journaledMax: w.maxJournaled, lagMaxMs: w.maxLag });
          const recovered = await until(drained, 60_000);
          Object.assign(ev, { recoveredMs: recovered, recovery: 'the ingest back to lag < 1 s with nothing journaled' });
          if (fault === 'postgres-restart') ev.linkReconnects = pgFwd.counts.accepted - accepted0;
          note(
            `${fault === 'postgres-restart' ? 'Postgres link down (connections dropped, new ones refused)' : 'Postgres link stalled (no byte either way)'} for ${Date.now() - s0 - (Number.isFinite(recovered) ? recovered : 60_000)} ms; ingest outage seen: ${w.sawOutage ? 'yes' : 'no'}, up to ${fmt(w.maxJournaled)} events journaled, ingest lag up to ${fmt(w.maxLag)} ms; back to lag < 1 s with nothing journaled ${Number.isFinite(recovered) ? `${fmt(recovered)} ms after the link came back` : 'NOT within 60 s'}`,
          );
          break;
        }
        case 'redis-restart': {
          const before = (await handoffList().catch(() => [])).length;
          const cut0 = redisFwd.counts.dropped + redisFwd.counts.refused;
          redisFwd.pause();
          await sleep(outageMs); // the outage itself: how long the link stays down is the fault under test
          ev.linkCut = redisFwd.counts.dropped + redisFwd.counts.refused - cut0;
          const accepted0 = redisFwd.counts.accepted;
          redisFwd.resume();
          // The clients reconnect with a backoff: wait for the first reconnect (a handoff in flight may arrive before).
          const reconnected = await until(() => redisFwd.counts.accepted > accepted0, 60_000);
          const resumed = await until(async () => (await handoffList().catch(() => [])).length > before, 60_000);
          ev.linkReconnects = redisFwd.counts.accepted - accepted0;
          Object.assign(ev, { recoveredMs: reconnected + resumed, recovery: 'the clients reconnected and new handoffs arrived' });
          note(
            `Redis link down ${outageMs} ms (recorders' BullMQ/vault and pipeline connections dropped, refused); ${fmt(redisFwd.counts.dropped)} connections dropped so far; first reconnect ${Number.isFinite(reconnected) ? `${fmt(reconnected)} ms after the link came back` : 'NOT within 60 s'}; new handoffs ${Number.isFinite(resumed) ? `arrived ${fmt(resumed)} ms after that` : 'did NOT arrive within 60 s after'}`,
          );
          break;
        }
        case 'recorder-kill': {
          const victim = recs[0] as { name: string; c: Child<WorkerReport>; url: string };
          const survivor = recs[1] as { name: string; c: Child<WorkerReport>; url: string };
          await sampleRecorders();
          const vStats = latest.get(victim.name);
          const sTasks = (s: ServiceStats | undefined): number => Number((s?.tasks as Record<string, unknown> | undefined)?.['running'] ?? 0);
          const survivorBefore = sTasks(latest.get(survivor.name));
          const takeovers = (s: ServiceStats | undefined): number => Number((s?.tasks as Record<string, unknown> | undefined)?.['takeovers'] ?? 0);
          const takeoversBefore = takeovers(latest.get(survivor.name));
          const victimTasks = sTasks(vStats);
          const failedBefore = (await sampleBots())?.runsFailed ?? 0;
          bots.send({ type: 'proxies', urls: [survivor.url] });
          await observeCpu();
          const killedAt = Date.now();
          ev.killSignal = await killChild(victim.c);
          ev.victimCaptures = victimTasks;
          appendedBase.set(`${victim.name}@${killedAt}`, vStats?.ingest?.appended ?? 0);
          captureBase.set(`${victim.name}@${killedAt}`, captureOf(vStats));
          latest.delete(victim.name);
          note(
            `SIGKILLed recorder ${victim.name} (held ${victimTasks} running captures, ${fmt(vStats?.ingest?.buffered ?? 0)} events buffered in memory at the last sample); bots moved to ${survivor.name}'s proxy`,
          );
          // What is left to take over: the capture queue's active jobs that the survivor does not run. A capture that
          // ended just before the kill, or whose job a Redis restart without persistence dropped, leaves none.
          const victimJobs = await victimJobsInQueue(sTasks);
          ev.victimJobs = victimJobs;
          // Wait for the take-over itself (the survivor's take-over counter): its running captures also grow with
          // new runs' captures, and a take-over only comes once the victim's locks expire, so a rise of the running
          // count can come first and end the wait before any take-over.
          const took = await until(async () => {
            await sampleRecorders();
            return takeovers(latest.get(survivor.name)) > takeoversBefore || victimJobs === 0;
          }, 60_000);
          ev.takeovers = takeovers(latest.get(survivor.name)) - takeoversBefore;
          if (victimJobs) Object.assign(ev, { recoveredMs: took, recovery: "the survivor took over the killed recorder's captures" });
          ev.botRunsFailed = ((await sampleBots())?.runsFailed ?? failedBefore) - failedBefore;
          note(
            victimTasks
              ? `survivor ${survivor.name} running captures ${survivorBefore} → ${sTasks(latest.get(survivor.name))}, ${ev.takeovers} taken over: take-over ${Number.isFinite(took) ? `within ${fmt(took)} ms` : 'NOT seen within 60 s'}`
              : 'the victim held no captures',
          );
          // A replacement process (as a supervisor would restart it) adopts the dead one's journal.
          const name = `${victim.name}2`;
          const started = Date.now();
          const repl = await startRecorder(name);
          recs[0] = { name, ...repl };
          bots.send({ type: 'proxies', urls: recs.map((r) => r.url) });
          note(`replacement recorder ${name} up ${fmt(Date.now() - started)} ms later (${fmt(Date.now() - killedAt)} ms after the kill); bots use both proxies again`);
          break;
        }
        case 'pipeline-kill': {
          const listedBefore = await handoffList().catch(() => []);
          const before = listedBefore.length;
          await observeCpu();
          const killedAt = Date.now();
          ev.killSignal = await killChild(pipeline);
          pipeline = await startPipe();
          const up = Date.now() - killedAt;
          const resumed = await until(async () => (await handoffList().catch(() => [])).length > before, 60_000);
          Object.assign(ev, { recoveredMs: up + resumed, recovery: 'the replacement pipeline delivered a handoff' });
          const listedAfter = await handoffList().catch(() => []);
          ev.handoffsAfter = listedAfter.length - before;
          ev.redelivered = listedAfter.reduce((a, h) => a + Math.max(0, h.deliveries - 1), 0) - listedBefore.reduce((a, h) => a + Math.max(0, h.deliveries - 1), 0);
          note(
            `SIGKILLed the pipeline (${before} handoffs listed); a new one up after ${fmt(up)} ms; the next handoff ${Number.isFinite(resumed) ? `arrived ${fmt(up + resumed)} ms after the kill` : 'did NOT arrive within 60 s'}`,
          );
          break;
        }
        case 'upstream-restart': {
          const failedBefore = (await sampleBots())?.runsFailed ?? lastBots?.runsFailed ?? 0;
          await observeCpu();
          const killedAt = Date.now();
          ev.killSignal = await killChild(sim);
          await sleep(1000); // the platform stays down a moment (the fault under test), as a restart would
          sim = await startSim();
          const up = Date.now() - killedAt;
          const okBefore = (await sampleBots())?.runsOk ?? 0;
          const need = runsToRecover(sessions);
          const recovered = await until(async () => ((await sampleBots())?.runsOk ?? 0) >= okBefore + need, 60_000);
          ev.botRunsFailed = (lastBots?.runsFailed ?? failedBefore) - failedBefore;
          Object.assign(ev, { recoveredMs: up + recovered, recovery: `${need} bot runs completed after the restart` });
          note(
            `SIGKILLed the simulator, restarted on the same port after ${fmt(up)} ms (every live run lost server-side); bot runs failed meanwhile: ${ev.botRunsFailed}; ${need} runs completed again ${Number.isFinite(recovered) ? `${fmt(up + recovered)} ms after the kill` : 'NOT within 60 s'}`,
          );
          break;
        }
      }
      obs.effect = faultEffect(fault, ev);
      note(`effect ${obs.effect.seen ? 'observed' : 'NOT observed'}: ${obs.effect.evidence}`);
      out(`fault ${fault} at ${atS} s: ${obs.notes.join('; ')}`);
    };
    const faultsDone = (async () => {
      if (o.faults.length) {
        // A fault must hit a working system: the first one waits until the recorders' ingest stores what arrives
        // (something appended, lag < 1 s). On a loaded machine it sometimes stored nothing for its first 5–10 s,
        // and a Postgres cut at 4 s then met an ingest that was not writing yet: no outage to see.
        const storing = await until(async () => {
          await sampleRecorders();
          return appendedTotal() > 0 && ingestNow().lagMs < 1000;
        }, 60_000);
        const atS = Math.round((Date.now() - t0) / 100) / 10;
        if (!Number.isFinite(storing)) problems.push(`the ingest was not storing (nothing appended, or lag ≥ 1 s) within 60 s of the start: the faults hit a system not yet working`);
        else if (atS >= 1) out(`(faults wait for the ingest to store: it did from ${atS} s)`);
      }
      for (const { fault, atS } of faultSchedule(o.faults, seconds)) {
        await sleep(Math.max(0, t0 + atS * 1000 - Date.now()));
        await runFault(fault, atS).catch((e: Error) => problems.push(`fault ${fault}: ${e.message}`));
      }
    })();

    await sleep(Math.max(0, t0 + seconds * 1000 - Date.now()));
    await faultsDone;
    // A fault with no observed effect proves nothing about recovery: the soak fails on it.
    problems.push(...faultEffectProblems(observations));
    // So does a fault the system did not recover from.
    problems.push(...faultRecoveryProblems(observations));
    bots.send({ type: 'stop' });
    await bots.next((m): m is { type: 'stopped' } => m.type === 'stopped', 90_000, 'bots to finish their runs').catch((e: Error) => problems.push(e.message));
    await replayState.stop();
    sampling = false;
    await samplerLoop;
    const playedS = (Date.now() - t0) / 1000;

    // ---- drain ----
    const drainStart = Date.now();
    const settled = await until(async () => {
      await sampleRecorders();
      const i = ingestNow();
      const open = recs.reduce((a, r) => a + (r.c.alive() ? (latest.get(r.name)?.recorder?.openStreams ?? 0) : 0), 0);
      return open === 0 && i.buffered === 0 && i.journaled === 0 && !i.outage;
    }, 120_000);
    if (!Number.isFinite(settled)) problems.push('recorders did not settle (streams open or events unstored) within 120 s after the bots stopped');
    const outboxRows = async (): Promise<string[]> => (await db.pool.query<{ session_id: string }>(`SELECT session_id FROM outbox WHERE queue = 'reward-handoff'`)).rows.map((r) => r.session_id);
    const delivered = await until(async () => {
      const want = await outboxRows();
      const got = await handoffList().catch(() => []);
      return new Set(got.map((h) => h.runSessionId)).size >= new Set(want).size;
    }, 120_000);
    if (!Number.isFinite(delivered)) problems.push('not every reward handoff was delivered within 120 s');
    // A pipeline job still retrying (a snapshot asked of a platform session not ended yet, its back-off growing) has
    // its stream open until its last attempt ends it: the reconciliation reads the streams once they are all ended.
    const jobsDone = await until(
      async () => Number((await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM sessions WHERE metadata->>'capturedBy' = 'pipeline' AND status = 'open'`)).rows[0]?.n ?? 0) === 0,
      120_000,
    );
    if (!Number.isFinite(jobsDone)) problems.push('pipeline jobs still open (their streams not ended) 120 s after the handoffs were delivered');
    await sleep(2000); // late duplicates, if any, get their chance to show
    await observeCpu();
    const cpuWindowS = (Date.now() - t0) / 1000;
    const stored = await db.pool.query<{ n: string; kinds: string }>(`SELECT count(*) AS n FROM events`);
    handoffs = reconcileHandoffs(await outboxRows(), await handoffList());
    out('');
    out(
      `Drain: ${fmt((Date.now() - drainStart) / 1000, 1)} s after the bots stopped (${fmt(playedS, 1)} s of play) until every stream was sealed, every event stored, every handoff listed and every pipeline job's stream ended. ${fmt(Number(stored.rows[0]?.n ?? 0))} events in the store.`,
    );
    cpu = cpuPerEvent(ledger.totals(), Number(stored.rows[0]?.n ?? 0));
    printCpuPerEvent(cpu, cpuWindowS, out);
    if (handoffs.duplicates || handoffs.missing || handoffs.extra)
      problems.push(`handoffs: ${handoffs.missing} runs not handed off, ${handoffs.duplicates} handed off twice, ${handoffs.extra} unknown`);

    // ---- reconciliation ----
    bots.send({ type: 'reconcile' });
    reconciliation = await bots.next((m): m is Reconciliation => m.type === 'reconciled', 30 * 60_000, 'reconciliation');
    problems.push(...reconciliation.problems);
    const r = reconciliation;
    const b = lastBots;
    out(
      `Bots: ${fmt(r.runs)} runs (${fmt(b?.runsOk ?? 0)} completed, ${fmt(b?.runsFailed ?? 0)} failed, of which ${fmt(b?.runsRefused ?? 0)} refused by the recorder; ${fmt(b?.abandonedEnded ?? 0)} MoltStation sessions of failed runs ended by their bot${
        b && Object.keys(b.errors).length
          ? `: ${Object.entries(b.errors)
              .sort((x, y) => y[1] - x[1])
              .slice(0, 6)
              .map(([k, v]) => `${v}× ${k}`)
              .join('; ')}`
          : ''
      }).`,
    );
    out('');
    out('| reconciliation | result |');
    out('|---|---|');
    out(
      `| WebSocket traffic of each bot run stored exactly once, each direction in order, byte for byte (compare.ts) | ${fmt(r.wsMatched)} of ${fmt(r.wsRuns)} runs${r.wsCut ? ` (+ ${r.wsCut} cut under the bot with the last ${r.wsUnread} messages it sent unread by anyone${r.wsUnseen ? ` and the platform's last ${r.wsUnseen} stored messages never read by the bot` : ''})` : ''}; ${fmt(r.wsMessagesMatched)} of ${fmt(r.wsMessagesBot - r.wsUnread)} messages${r.wsStoreOnly ? `; ${r.wsStoreOnly} stored streams unmatched` : ''}; ${fmt(r.interleaved)} runs interleave the two directions differently (not an error)${r.wsUndeliveredToBot ? `; ${fmt(r.wsUndeliveredToBot)} platform messages recorded as undelivered (they crossed the bot's close) set aside` : ''} |`,
    );
    out(
      `| HTTP exchanges of every bot stored exactly once | ${fmt(r.httpMatched)} of ${fmt(r.httpBot)} (store holds ${fmt(r.httpStored)}); ${fmt(r.httpNoAnswer)} the bot got no answer to (${fmt(r.httpNoAnswer - r.httpNeverReached)} stored as unanswered), ${fmt(r.httpNeverReached)} that never reached the proxy (refused or reset at the connection: counted apart)${transportErrors(r.httpTransportErrors)} |`,
    );
    out(`| hash chains verified | ${fmt(r.chainsOk)} of ${fmt(r.streams)} streams${r.unsealed ? `; ${r.unsealed} not sealed` : ''} |`);
    out(
      `| reward handoffs (one per ended run, rewards endpoint's list) | ${fmt(handoffs.listed)} listed for ${fmt(handoffs.outboxRows)} outbox rows; ${handoffs.missing} missing, ${handoffs.duplicates} duplicated, ${handoffs.extra} unknown; ${handoffs.redelivered} absorbed re-deliveries (max deliveries ${handoffs.maxDeliveries}) |`,
    );
    out(`| events lost | ${fmt(r.wsMessagesBot - r.wsUnread - r.wsMessagesMatched + (r.httpBot - r.httpMatched - r.httpNeverReached))} |`);
    const cap = captureTotals();
    out(`| bot runs split over more than one stored stream | ${fmt(r.runsSplit)} |`);
    out(
      `| capture locks lost (a capture stopped because its lock was no longer its recorder's) | ${fmt(cap.lost)}${cap.stale ? ` (+ ${fmt(cap.stale)} fetched jobs whose lock had expired before their run started: not run, left to their holder)` : ''} |`,
    );
    out(
      `| new captures refused (503 capture_overloaded: graceful overload) | ${fmt(cap.refused)} refused by the recorders (admission closed ${fmt(cap.closings)} times); ${fmt(b?.runsRefused ?? 0)} bot runs refused, each retried after its Retry-After as a new run |`,
    );
    for (const x of r.splitRuns) out(`  - split: ${x}`);
    // Overload must not lose a capture's lock (a re-run beside the one still writing); a scripted fault (Redis restart, a recorder killed) may.
    if (cap.lost > 0 && o.faults.length === 0) problems.push(`${cap.lost} capture locks lost`);
    const audits = await db.pool.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM audits GROUP BY status`).catch(() => ({ rows: [] as { status: string; n: string }[] }));
    out(`| pipeline audits (libs/audit, run by the pipeline; informational) | ${audits.rows.map((a) => `${a.n} ${a.status}`).join(', ') || 'none'} |`);
    out(`(reconciliation took ${fmt(r.ms / 1000, 1)} s)`);
    for (const d of r.diffs) out(`  - ${d}`);
    for (const c of r.chainFailures) out(`  - chain: ${c}`);
  } finally {
    await replayState?.stop().catch(() => undefined);
    for (const c of [...children].reverse()) await stopChild(c, 20_000).catch(() => undefined);
    killAll();
    process.off('exit', killAll);
    await pgFwd.close().catch(() => undefined);
    await redisFwd.close().catch(() => undefined);
    await cleanupRedis(o.redisUrl, queueName, prefix).catch((e: Error) => out(`(could not clear Redis keys: ${e.message})`));
    if (process.env['REWIND_SOAK_KEEP_DB'] === '1') out(`(scratch database kept for inspection: ${db.url.replace(/:[^:@/]*@/, ':***@')})`);
    else await db.drop().catch((e: Error) => out(`(could not drop the scratch database: ${e.message})`));
    rmSync(dataDir, { recursive: true, force: true });
  }
  const ok = problems.length === 0;
  out('');
  out(
    ok
      ? 'Reconciliation: HELD — nothing lost, duplicated or reordered; every chain verifies; every ended run handed off once.'
      : `Reconciliation: FAILED —\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  return { ok, problems, faults: observations, reconciliation, handoffs, rows, cpu };
}

/** The summary's CPU-per-event paragraph and table. */
export function printCpuPerEvent(c: CpuPerEvent, windowS: number, out: (line: string) => void): void {
  const us = (n: number): string => (Number.isFinite(n) ? fmt(n, 1) : 'n/a');
  out('');
  out(
    `Rewind's own CPU per stored event: **${us(c.rewindUsPerEvent)} µs** (${us(c.rewindUsPerEventWithoutServer)} µs without the Postgres server's background processes, which serve every database of that server) — the CPU of recorders, pipeline, API (replay gateway) and the Postgres processes working for this soak's database, from the bots' start to the end of the drain (${fmt(windowS, 1)} s), over the ${fmt(c.events)} events stored. Bots, simulator and this process (forwarders, replay clients, fault script) are reported apart, not counted.`,
  );
  out('');
  out('| process kind | processes seen | CPU (s) | µs per stored event | share of Rewind |');
  out('|---|---:|---:|---:|---:|');
  for (const r of c.rows) {
    out(
      `| ${r.rewind ? r.kind : `(not Rewind) ${r.kind}`} | ${r.processes} | ${fmt(r.seconds, 2)} | ${us(r.usPerEvent)} | ${Number.isFinite(r.shareOfRewind) ? `${fmt(r.shareOfRewind * 100)}%` : ''} |`,
    );
  }
  out(`| **Rewind** | | ${fmt(c.rewindSeconds, 2)} | **${us(c.rewindUsPerEvent)}** | 100% |`);
}

/** Removes this soak's BullMQ keys (capture queue under `rewind:`, pipeline queues under its prefix). */
async function cleanupRedis(redisUrl: string, queueName: string, prefix: string): Promise<void> {
  const { default: Redis } = await import('ioredis');
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  await r.connect();
  try {
    for (const pattern of [`rewind:${queueName}:*`, `${prefix}:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await r.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    r.disconnect();
  }
}
