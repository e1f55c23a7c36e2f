/**
 * Child processes of `rewind bench soak` (forked by ./soak.ts with the repo's register hook). The role is the
 * first argument, its options come as JSON in REWIND_SOAK_WORKER; every role talks to the parent over IPC and
 * exits when the parent disappears. Roles:
 *   - `sim`      the simulator (all four platforms) on a fixed port, so a restart comes back at the same address;
 *   - `rewards`  a second simulator whose rewards endpoint receives the handoffs (never restarted: its list of
 *                handoffs, with `deliveries`, is the reconciliation's evidence);
 *   - `recorder` a recorder process as `rewind recorder` runs one (proxy + spectators + pollers through BullMQ,
 *                ingest with its journal), its Postgres and Redis through the parent's forwarders;
 *   - `pipeline` the outcome pipeline (relay + workers), Postgres and Redis through the same forwarders;
 *   - `bots`     the agents: `sessions` slots each playing runs back to back through the recorders' proxies until
 *                the parent says stop (plus a few unrecorded probe slots straight to the simulator, for the latency
 *                baseline), each run's traffic reduced to digests as it ends; at the end it reconciles those
 *                digests with the store (libs/recorder's compare.ts) and verifies every stream's hash chain.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { TrafficEntry } from '@rewind/agents';
import { byDirection } from '@rewind/recorder/test-support';
import { namedIn } from './child-message';

export type SoakRole = 'sim' | 'rewards' | 'recorder' | 'pipeline' | 'bots';

export interface SimConfig {
  port: number;
  seed: string;
}
export interface RecorderConfig {
  databaseUrl: string;
  redisUrl: string;
  upstreams: Record<string, string>;
  dataDir: string;
  instance: string;
  keyHex: string;
  queueName: string;
  concurrency: number;
  /** Admission control thresholds (graceful overload); absent: the recorder's defaults. `enabled: false` turns it off (the runs before it). */
  admission?: { enabled?: boolean; maxLagMs?: number; maxLoopDelayMs?: number; closeAfterMs?: number; maxBufferedShare?: number; reopenShare?: number; reopenAfterMs?: number };
}
/**
 * The capture locks of the soak's recorders: renewed by each recorder's lock keeper thread (not its busy event loop), every
 * 2 s; 8 s of lock tolerate a Redis link late by ~6 s — the soak's Redis goes through a forwarder in the harness process,
 * itself busy — and keep the recorder-kill take-over within ~10 s. Before the keeper, BullMQ renewed 4 s locks from the
 * loop: 622 locks were lost in one 200-session soak on a loaded machine.
 */
export const SOAK_CAPTURE_LOCK = { lockDurationMs: 8000, stalledIntervalMs: 2000 };
export interface PipelineConfig {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  keyHex: string;
  rewardsUrl: string;
  moltstationUrl: string;
}
export interface BotsConfig {
  /** The simulator's base URL (probe slots; platform paths below it). */
  simUrl: string;
  proxies: string[];
  sessions: number;
  probes: number;
  seed: string;
  keyHex: string;
  /** Direct (not forwarded) database URL, for the reconciliation. */
  databaseUrl: string;
}

/** Mix of a slot's runs by index (pure; soak.spec.ts). */
export type BotKind = 'flappy' | 'shell' | 'sm-ws' | 'sm-http' | 'cloudplay' | 'rgs';
export function botKindFor(slot: number): BotKind {
  // Out of every 50 slots: 20 Flappy Bots, 20 ShellRunners (80% MoltStation), 2+2 SpaceMolt, 3 cloud-play, 3 RGS.
  const k = slot % 50;
  if (k < 20) return k % 2 ? 'shell' : 'flappy';
  if (k < 40) return k % 2 ? 'flappy' : 'shell';
  if (k < 42) return 'sm-ws';
  if (k < 44) return 'sm-http';
  if (k < 47) return 'cloudplay';
  return 'rgs';
}

// ---- IPC --------------------------------------------------------------------------------------------------

export type WorkerCommand =
  { type: 'stats'; /** bots: start a new latency window */ reset?: boolean } | { type: 'proxies'; urls: string[] } | { type: 'stop' } | { type: 'reconcile' } | { type: 'exit' };

export interface LatencyWindow {
  proxied: { count: number; p50: number; p99: number };
  direct: { count: number; p50: number; p99: number };
}
export interface BotsStats {
  type: 'stats';
  runsStarted: number;
  runsOk: number;
  runsFailed: number;
  /** Runs the recorder refused (503 capture_overloaded, graceful overload): the bot waited its Retry-After and played a new run. Counted in runsFailed too. */
  runsRefused: number;
  /** Platform sessions of runs the bots gave up on, ended by them afterwards (`POST …/end`, straight to the simulator). */
  abandonedEnded: number;
  inFlight: number;
  errors: Record<string, number>;
  latency: LatencyWindow;
  messages: number;
}
export interface ServiceStats {
  type: 'stats';
  cpuUs: number;
  ingest?: { buffered: number; journaled: number; appended: number; duplicates: number; rejected: number; lagMs: number; outage: boolean };
  recorder?: { openStreams: number; streamsOpened: number; events: number; failures: number };
  tasks?: Record<string, unknown>;
  /** The recorder's admission control: open now, captures refused and closings so far, the last event-loop delay sampled. */
  admission?: { open: boolean; reason: string | null; refused: number; closings: number; loopDelayMs: number } | null;
}
export interface Reconciliation {
  type: 'reconciled';
  runs: number;
  wsRuns: number;
  wsMatched: number;
  /**
   * Runs whose connection was cut under the bot (it saw 1006) and whose stream holds everything but the last few
   * messages the bot sent: sent into a connection being cut, never read by the proxy, so never relayed to the
   * platform either, or whose stream holds the platform's last messages, written to the leg being cut and never read
   * by the bot ({@link cutTails}). Not counted as lost; reported.
   */
  wsCut: number;
  /** The messages of those runs that nobody read: the bot's last sent ones, which the proxy never read. */
  wsUnread: number;
  /** The platform's last messages of those runs, stored (recorded, then written to the leg being cut), which the bot never read. */
  wsUnseen: number;
  /** Platform messages the proxy recorded as undelivered (the bot's socket had closed): set aside, the bot never had them. */
  wsUndeliveredToBot: number;
  wsBotOnly: number;
  wsStoreOnly: number;
  wsMessagesBot: number;
  wsMessagesMatched: number;
  httpBot: number;
  httpStored: number;
  httpMatched: number;
  /** Exchanges a bot logged with no answer (a transport error: connection refused or reset, aborted), stored or not. */
  httpNoAnswer: number;
  /**
   * Of those, the ones the store does not hold at all: the request never reached the proxy's handler (refused or reset
   * at the connection, before the proxy read it), which records every exchange it received, answered or not. Not
   * Rewind's loss; counted apart, with the bots' transport errors by cause ({@link httpTransportErrors}).
   */
  httpNeverReached: number;
  /** The bots' transport errors (no answer), by message and cause (e.g. `fetch failed (ECONNRESET)`). */
  httpTransportErrors: Record<string, number>;
  streams: number;
  chainsOk: number;
  chainFailures: string[];
  unsealed: number;
  /** platform/capturedBy/status → streams not sealed. */
  unsealedBy: Record<string, number>;
  /** Runs matched per direction whose two directions interleave differently in the store than the bot saw. */
  interleaved: number;
  /**
   * Bot runs whose recording is split: their platform session has more than one proxy stream of kind `run`, or its
   * WebSocket messages are in more than one proxy stream. Overload must never do this (issue 18); `after-run` streams
   * (traffic about a run after its seal, e.g. a rewards snapshot) are by design and not counted.
   */
  runsSplit: number;
  /** The first few split runs: platform session → its proxy streams (kind, WebSocket messages). */
  splitRuns: string[];
  problems: string[];
  /** MoltStation runs whose stream differs: where and how (first few). */
  diffs: string[];
  ms: number;
}
export type WorkerReport = { type: 'ready'; port?: number } | ServiceStats | BotsStats | { type: 'stopped' } | Reconciliation;

const send = (m: WorkerReport): void => void (process.connected && process.send?.(m));
const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const config = <T>(): T => JSON.parse(process.env['REWIND_SOAK_WORKER'] ?? '{}') as T;
const line = (role: string) => (m: string) => process.stderr.write(`[soak ${role}] ${m}\n`);
/** Warnings and errors to stderr; info lines too for the roles named in REWIND_SOAK_VERBOSE (see soak.ts). */
const quietLog = (role: string, verbose = namedIn(role, process.env['REWIND_SOAK_VERBOSE'] ?? '')) => ({
  info: verbose ? line(role) : () => undefined,
  warn: line(`${role} warn`),
  error: line(`${role} error`),
});

// ---- sim / rewards ----------------------------------------------------------------------------------------

export const SIM_PLATFORM_OPTIONS = { spacemolt: { tickMs: 50 }, cloudplay: { timeScale: 0.001 }, rgs: { sessionTtlMs: 2500 } };

async function runSim(): Promise<void> {
  const c = config<SimConfig>();
  const { startSimulator } = await import('@rewind/simulator');
  // The soak reaches every platform under its prefix; no port of its own per platform (only the one port was checked free).
  const sim = await startSimulator({ port: c.port, seed: c.seed, platformOptions: SIM_PLATFORM_OPTIONS, rootPorts: false });
  process.on('message', (m: WorkerCommand) => {
    if (m.type === 'stats') send({ type: 'stats', cpuUs: cpuUs() });
    else if (m.type === 'exit') void sim.close().finally(() => process.exit(0));
  });
  send({ type: 'ready', port: sim.port });
}

// ---- recorder ---------------------------------------------------------------------------------------------

async function runRecorder(): Promise<void> {
  const c = config<RecorderConfig>();
  const { RunSignalBoard, startRecorderService, bullmqScheduler, taskRunners, MOLTSTATION_SLUGS } = await import('@rewind/capture');
  const { CredentialVault } = await import('@rewind/scaleout');
  const log = quietLog(`recorder ${c.instance}`);
  const key = Buffer.from(c.keyHex, 'hex');
  const vault = new CredentialVault({ redis: c.redisUrl, secret: key, log });
  const signals = new RunSignalBoard(vault, log);
  const service = await startRecorderService({
    databaseUrl: c.databaseUrl,
    proxyPort: 0,
    proxyHost: '127.0.0.1',
    upstreams: c.upstreams,
    dataDir: c.dataDir,
    instance: c.instance,
    redactionKey: key,
    // The production default (REWIND_SEAL_AFTER_MS, 10 s). An agent's input that crossed the platform's close (sent
    // before it saw the close) joins its ended run until the run is sealed. At 0.5 s, shorter than this machine's
    // stalls at 200 sessions, the proxy read such inputs after the seal (the bot's process and the proxy's loop both
    // late by seconds) and they went to a stream of their own (`connection:ws-…`): 25 Flappy Bots runs lost their
    // last inputs to such streams in one 200-session run.
    sealAfterMs: 10_000,
    accountIdleMs: 1000,
    // The soak's platforms run fast (SpaceMolt ticks of 50 ms, cloud-play time ×1000, RGS tokens of 2.5 s) and
    // its runs last 5–20 s: a run stream silent for 45 s lost its end signal (its connection cut by a fault)
    // and is ended as idle, as the default 30 min would in production, so the drain can see everything sealed.
    // 15 s was too short under overload: a starved agent took 17 s between its session start and its next call,
    // the run was ended idle, and the rest of it went to after-run streams (a run split over streams).
    runIdleMs: 45_000,
    rgsSessionTtlMs: 2500,
    signals,
    scheduler: bullmqScheduler({ redisUrl: c.redisUrl, holder: c.instance, concurrency: c.concurrency, queueName: c.queueName, ...SOAK_CAPTURE_LOCK, log }),
    ...(c.admission ? { admission: c.admission } : {}),
    // A spectator whose session brings no frame for the run idle time ends `inactive` (a bot refused or failed
    // between its session start and its play socket leaves the session `created` for ever on the simulator).
    runners: taskRunners({ upstreams: c.upstreams, signals, pollIntervalMs: 250, rgsSessionTtlMs: 2500, spectateMaxSilenceMs: 45_000 }),
    discover: { slugs: MOLTSTATION_SLUGS, intervalMs: 500 },
    log,
  });
  process.on('message', (m: WorkerCommand) => {
    if (m.type === 'stats') {
      const s = service.stats();
      send({
        type: 'stats',
        cpuUs: cpuUs(),
        ingest: {
          buffered: s.ingest.buffered,
          journaled: s.ingest.journaled,
          appended: s.ingest.appended,
          duplicates: s.ingest.duplicates,
          rejected: s.ingest.rejected,
          lagMs: s.ingest.lagMs,
          outage: s.ingest.outage,
        },
        recorder: { openStreams: s.recorder.openStreams, streamsOpened: s.recorder.streamsOpened, events: s.recorder.events, failures: s.recorder.failures },
        tasks: s.tasks,
        admission: s.admission
          ? { open: s.admission.open, reason: s.admission.reason, refused: s.admission.refused, closings: s.admission.closings, loopDelayMs: s.admission.sample?.loopDelayMs ?? 0 }
          : null,
      });
    } else if (m.type === 'exit') {
      const t = setTimeout(() => process.exit(0), 20_000);
      void service
        .close()
        .then(() => vault.close())
        .catch((e: Error) => line('recorder')(`close: ${e.message}`))
        .finally(() => {
          clearTimeout(t);
          process.exit(0);
        });
    }
  });
  send({ type: 'ready', port: Number(new URL(service.proxyUrl).port) });
}

// ---- pipeline ---------------------------------------------------------------------------------------------

async function runPipelineRole(): Promise<void> {
  const c = config<PipelineConfig>();
  const { startPipeline } = await import('@rewind/pipeline');
  const pipeline = await startPipeline({
    databaseUrl: c.databaseUrl,
    redisUrl: c.redisUrl,
    prefix: c.prefix,
    key: Buffer.from(c.keyHex, 'hex'),
    rewardsUrl: c.rewardsUrl,
    moltstationUrl: c.moltstationUrl,
    retry: { attempts: 12, backoffMs: 200, maxBackoffMs: 3000 },
    concurrency: 8,
    requestTimeoutMs: 5000,
    relayIntervalMs: 100,
    lockDurationMs: 5000,
    stalledIntervalMs: 3000,
    log: quietLog('pipeline'),
  });
  process.on('message', (m: WorkerCommand) => {
    if (m.type === 'stats') send({ type: 'stats', cpuUs: cpuUs() });
    else if (m.type === 'exit') {
      const t = setTimeout(() => process.exit(0), 10_000);
      void pipeline.close().finally(() => {
        clearTimeout(t);
        process.exit(0);
      });
    }
  });
  send({ type: 'ready' });
}

// ---- bots -------------------------------------------------------------------------------------------------

const FRAME_RE = /^\{"t":"frame".*?"tick":(\d+)/;
const TICK_MS = 50;

/** Nearest-rank p50/p99 of a sample (pure; soak.spec.ts). */
export function p50p99(values: number[]): { count: number; p50: number; p99: number } {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  const at = (q: number): number => (n ? (s[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] as number) : NaN);
  return { count: n, p50: at(0.5), p99: at(0.99) };
}

/**
 * Frame lateness on one connection: a MoltStation frame of tick k is due at anchor + k × 50 ms; the anchor is the
 * earliest arrival that schedule allows so far (min over frames of arrival − k × 50). Frames carry no send time, so
 * this is lateness against the simulator's own tick schedule; the proxy's share is proxied − direct (pure).
 */
export class TickLateness {
  private anchor = new Map<string, number>();
  push(stream: string, tick: number, arrivalMs: number): number {
    const base = arrivalMs - tick * TICK_MS;
    const a = Math.min(this.anchor.get(stream) ?? Infinity, base);
    this.anchor.set(stream, a);
    return base - a;
  }
}

const digest = (lines: string[]): string => createHash('sha1').update(lines.join('\n')).digest('hex');
/** A WebSocket conversation's identity for the reconciliation: each direction's messages, in order (`byDirection`; pure). */
export function conversationDigest(lines: string[]): string {
  const { sent, received } = byDirection(lines);
  return `${digest(sent)}:${digest(received)}`;
}
const lineHash = (s: string): number => createHash('sha1').update(s).digest().readUInt32LE(0);

interface RunDigest {
  kind: BotKind;
  platformSessionId: string | undefined;
  wsDigest: string | null;
  wsFull: string | null;
  wsLines: Uint32Array;
  /** How many of wsLines the bot sent (the rest it received). */
  wsSent: number;
  /** Each direction's message hashes, in order, and the code of the last WebSocket close the bot saw ({@link cutTails}). */
  wsSentHashes: Uint32Array;
  wsReceivedHashes: Uint32Array;
  wsLastClose: number | undefined;
  /** Each WebSocket close the bot saw: its code, and how long after the bot's last message sent on that connection (for the diagnosis of a mismatch). */
  wsCloses: string;
}

/** One side of a run's WebSocket conversation: each direction's message hashes, in order. */
export interface DirectedHashes {
  sent: ArrayLike<number>;
  received: ArrayLike<number>;
}

/**
 * What was in flight when a connection was cut under the bot, when that is the only difference (pure; soak.spec.ts):
 * `unread`, the messages at the end of what the bot sent that the proxy never read, and `unseen`, the platform's
 * messages at the end of the stored stream that the bot never read. A bot's "sent" means handed to its socket, not
 * delivered: when a connection is cut abruptly — the proxy SIGKILLed, or the platform gone and the proxy passing that
 * on as 1006 by dropping the client leg — what the bot sent in the last moments sits unread in a socket that is then
 * destroyed. The proxy records each message before relaying it, so those messages reached neither the store nor the
 * platform; on a loaded machine (event loops hundreds of ms late) that can be several. The other way, the proxy
 * records a platform message before it writes it to the client's leg, and the write can be lost with the leg it
 * dropped in the same turn (the bot never reads it). Counted only when the bot saw the connection end with 1006,
 * everything the bot received is stored in order with at most a tail after it, and the stored sent direction is
 * exactly the bot's minus at most a tail; anything else, or nothing in flight, is null.
 */
export function cutTails(bot: DirectedHashes & { lastClose: number | undefined }, stored: DirectedHashes): { unread: number; unseen: number } | null {
  if (bot.lastClose !== 1006) return null;
  const same = (a: ArrayLike<number>, b: ArrayLike<number>, n: number): boolean => {
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
    return true;
  };
  if (stored.received.length < bot.received.length || !same(bot.received, stored.received, bot.received.length)) return null;
  if (stored.sent.length > bot.sent.length || !same(bot.sent, stored.sent, stored.sent.length)) return null;
  const unread = bot.sent.length - stored.sent.length;
  const unseen = stored.received.length - bot.received.length;
  return unread + unseen > 0 ? { unread, unseen } : null;
}

/** The closes a bot saw on its WebSocket connections, each with how long after its last sent message on that connection it came (pure). */
export function wsCloseSummary(entries: readonly TrafficEntry[]): string {
  const lastSent = new Map<string, number>();
  const out: string[] = [];
  for (const e of entries) {
    if (e.channel !== 'ws') continue;
    if (e.direction === 'sent') lastSent.set(e.stream, e.atMs);
    else if (e.meta?.['event'] === 'close') {
      const sent = lastSent.get(e.stream);
      out.push(`${String(e.meta['code'])}${sent === undefined ? '' : ` ${Math.round(e.atMs - sent)} ms after its last sent`}`);
    }
  }
  return out.join(', ') || 'none';
}

async function runBots(): Promise<void> {
  const c = config<BotsConfig>();
  const agents = await import('@rewind/agents');
  const { TrafficLog, moltstation, runCloudplayLauncher, runRgsBot, runSpaceMoltHttpMiner, runSpaceMoltWsMiner } = agents;
  const { Redactor } = await import('@rewind/redaction');
  const { learnQuerySecrets } = await import('@rewind/recorder');
  const compare = await import('@rewind/recorder/test-support');
  const key = Buffer.from(c.keyHex, 'hex');
  let proxies = [...c.proxies];
  let rr = 0;
  // No deadline of their own: the bots play until the parent says stop, which it does once the play time is up
  // and the fault script is done. A fault script that outlasts the play time (faults run one after the other,
  // each waiting for its recovery, which on a loaded machine can take tens of seconds) must still meet traffic:
  // with a deadline here the bots had stopped before the last faults, which then hit an idle system.
  let stopping = false;
  const abort = new AbortController();
  // One signal for every bot of this process: each socket, wait and HTTP exchange in flight holds one listener on it,
  // removed when it ends (fetch, which kept one per request until GC, gets a signal of its own: libs/agents'
  // `httpExchange`). A slot has one or two in flight at a time, so this bound (node's default is 10) still flags a leak.
  setMaxListeners(2 * (c.sessions + c.probes) + 10, abort.signal);
  const stats = { runsStarted: 0, runsOk: 0, runsFailed: 0, runsRefused: 0, abandonedEnded: 0, inFlight: 0, messages: 0 };
  const errors: Record<string, number> = {};
  let latProxied: number[] = [];
  let latDirect: number[] = [];
  const runs: RunDigest[] = [];
  const httpBot: string[] = [];
  const httpTransportErrors: Record<string, number> = {};

  /** A TrafficLog that also samples frame lateness as frames arrive. */
  class SampledLog extends TrafficLog {
    private readonly late = new TickLateness();
    constructor(
      private readonly sink: number[] | null,
      private readonly keep: boolean,
    ) {
      super();
    }
    override record(entry: Omit<TrafficEntry, 'atMs'>): void {
      const now = performance.now();
      if (this.keep) super.record(entry);
      stats.messages++;
      if (this.sink && entry.channel === 'ws' && entry.direction === 'received' && typeof entry.data === 'string') {
        const m = FRAME_RE.exec(entry.data.slice(0, 200));
        if (m) {
          const v = this.late.push(entry.stream, Number(m[1]), now);
          // Keep the window's sample bounded (a uniform-enough thinning at high rates).
          if (this.sink.length < 200_000) this.sink.push(v);
        }
      }
    }
  }

  const pickProxy = (): string => proxies[rr++ % proxies.length] as string;

  const playOnce = async (slot: number, n: number, kind: BotKind, base: string, traffic: InstanceType<typeof TrafficLog> | undefined): Promise<string | undefined> => {
    const seed = `${c.seed}-${slot}-${n}`;
    const signal = abort.signal;
    const r = (p: string): string => `${base}/${p}`;
    const rnd = (lo: number, hi: number): number => lo + (((slot * 7919 + n * 104729) >>> 0) % (hi - lo + 1));
    switch (kind) {
      case 'flappy':
        return (await moltstation.runFlappyBotsFlapper({ baseUrl: r('moltstation'), seed, traffic, signal, stopAfterTick: rnd(100, 400) })).sessionId;
      case 'shell':
        return (
          await moltstation.runShellRunnersSteerer({ baseUrl: r('moltstation'), seed, traffic, signal, exitAfterTick: rnd(100, 400), simulatorOptions: { hungerMax: 1_000_000, livesMax: 1000 } })
        ).sessionId;
      case 'sm-ws':
        await runSpaceMoltWsMiner({ baseUrl: r('spacemolt'), seed, traffic, signal, cycles: 1 });
        return undefined;
      case 'sm-http':
        await runSpaceMoltHttpMiner({ baseUrl: r('spacemolt'), seed, traffic, signal, cycles: 1 });
        return undefined;
      case 'cloudplay':
        return (
          await runCloudplayLauncher({ baseUrl: r('cloudplay'), seed, traffic, signal, token: `cp-${randomBytes(12).toString('hex')}`, keepalives: 3, keepaliveIntervalMs: 500, pollIntervalMs: 100 })
        ).sessionId;
      case 'rgs':
        await runRgsBot({ baseUrl: r('rgs'), seed, traffic, signal, diceRounds: 6, minesRounds: 1 });
        return undefined;
    }
  };

  /**
   * A MoltStation run the bot gave up on (a failure, or cut 45 s after the stop) ends its platform session, as a careful
   * agent does (`POST …/sessions/{id}/end`, documented by the platform): a ShellRunners session here has 1,000
   * lives and no hunger, and a session whose play socket was never opened stays `created`, both for ever on the
   * simulator, and the spectator capturing it would record (or wait) past the drain. Sent straight to the
   * simulator under the run's own wallet, not through the recorder: it is not part of the run's traffic.
   */
  const endAbandoned = async (kind: BotKind, slot: number, n: number, psid: string): Promise<void> => {
    const slug = kind === 'flappy' ? 'flappybots' : 'shellrunners';
    const client = new moltstation.MoltClient({ baseUrl: `${c.simUrl}/moltstation`, signal: AbortSignal.timeout(10_000) });
    try {
      await client.login(slug, moltstation.walletFor(`${c.seed}-${slot}-${n}`));
      await client.request('POST', `/api/games/${slug}/sessions/${encodeURIComponent(psid)}/end`);
      stats.abandonedEnded++;
    } catch (e) {
      line('bots')(`could not end the abandoned session ${psid}: ${(e as Error).message}`);
    }
  };

  /** Reduces a finished run's traffic to what the reconciliation needs (redacted as the recorder stores it). */
  const digestRun = (kind: BotKind, psid: string | undefined, traffic: InstanceType<typeof TrafficLog>): void => {
    const redactor = new Redactor(key);
    // Redact everything in traffic order first, so the redactor learns each secret where the recorder did.
    for (const e of traffic.entries) {
      if (typeof e.data === 'string') {
        learnQuerySecrets(redactor, e.data); // as the recorder's encoder does (a launch URL's sessionToken)
        redactor.redactText(e.data);
      } else redactor.redactBinary(e.data);
      if (typeof e.meta?.['path'] === 'string') redactor.redactUrl(e.meta['path'] as string);
    }
    const ws = compare.wsSequences(new Map(), traffic, redactor).bot;
    const http = compare.httpExchanges(new Map(), traffic, redactor).bot;
    httpBot.push(...http);
    for (const e of traffic.entries) {
      if (e.channel !== 'http' || e.direction !== 'received' || typeof e.meta?.['error'] !== 'string') continue;
      const cause = (e.meta['error'] as string).replace(/[0-9a-f]{8,}|\d+/g, '#').slice(0, 120);
      httpTransportErrors[cause] = (httpTransportErrors[cause] ?? 0) + 1;
    }
    runs.push({
      kind,
      platformSessionId: psid,
      wsDigest: ws.length ? conversationDigest(ws) : null,
      wsFull: ws.length ? digest(ws) : null,
      wsLines: Uint32Array.from(ws.map(lineHash)),
      wsSent: byDirection(ws).sent.length,
      wsCloses: wsCloseSummary(traffic.entries),
      wsSentHashes: Uint32Array.from(byDirection(ws).sent.map(lineHash)),
      wsReceivedHashes: Uint32Array.from(byDirection(ws).received.map(lineHash)),
      wsLastClose: lastWsClose(traffic.entries),
    });
  };

  const slot = async (i: number, probe: boolean): Promise<void> => {
    const kind: BotKind = probe ? 'flappy' : botKindFor(i);
    for (let n = 0; !stopping; n++) {
      const traffic = new SampledLog(kind === 'flappy' || kind === 'shell' ? (probe ? latDirect : latProxied) : null, !probe);
      const base = probe ? c.simUrl : pickProxy();
      stats.runsStarted++;
      stats.inFlight++;
      let psid: string | undefined;
      let failed = false;
      let refused = false;
      try {
        psid = await playOnce(i, n, kind, base, traffic);
        stats.runsOk++;
      } catch (e) {
        failed = true;
        stats.runsFailed++;
        // The recorder refused the new run (graceful overload): an agent waits the Retry-After and tries a new run.
        refused = isRefusal(e);
        if (refused) stats.runsRefused++;
        const msg = `${kind}: ${((e as Error).message ?? String(e)).replace(/[0-9a-f]{8,}|\d+/g, '#').slice(0, 120)}`;
        errors[msg] = (errors[msg] ?? 0) + 1;
        if (!probe) psid = /session ([\w-]+)/.exec((e as Error).message ?? '')?.[1];
      } finally {
        stats.inFlight--;
      }
      if (!probe) digestRun(kind, psid ?? firstSessionId(traffic.entries), traffic);
      const startedPsid = psid ?? firstSessionId(traffic.entries);
      // Failed, or cut at the stop (a cut run returns normally, its socket closed 1000 by the bot).
      if ((failed || abort.signal.aborted) && !probe && (kind === 'flappy' || kind === 'shell') && startedPsid) await endAbandoned(kind, i, n, startedPsid);
      if (refused) await sleep(REFUSED_RETRY_MS + Math.random() * 1000);
      else if (failed) await sleep(250 + Math.random() * 500); // no hot loop while a platform or proxy is down
    }
  };

  // Slots start spread over the first 2 s, as agents arriving.
  const slots = [
    ...Array.from({ length: c.sessions }, (_, i) => sleep((i / c.sessions) * 2000).then(() => slot(i, false))),
    ...Array.from({ length: c.probes }, (_, i) => sleep((i / Math.max(1, c.probes)) * 2000).then(() => slot(c.sessions + i, true))),
  ];
  const allDone = Promise.all(slots);

  process.on('message', (m: WorkerCommand) => {
    if (m.type === 'proxies') proxies = m.urls.length ? [...m.urls] : proxies;
    else if (m.type === 'stats') {
      const w: LatencyWindow = { proxied: p50p99(latProxied), direct: p50p99(latDirect) };
      if (m.reset) {
        latProxied = [];
        latDirect = [];
      }
      send({ type: 'stats', ...stats, errors: { ...errors }, latency: w });
    } else if (m.type === 'stop') {
      stopping = true;
      // Runs still playing 45 s after the stop are cut (their traffic so far is still reconciled).
      setTimeout(() => abort.abort(), 45_000).unref();
      // Answered once every slot is done: the parent waits for this answer.
      void allDone.then(() => send({ type: 'stopped' }));
    } else if (m.type === 'reconcile') {
      void allDone
        .then(() => reconcile(c, key, runs, httpBot, httpTransportErrors, compare, Redactor))
        .then((r) => send(r))
        .catch((e: Error) => {
          line('bots')(`reconcile failed: ${e.stack ?? e.message}`);
          process.exit(1);
        });
    } else if (m.type === 'exit') process.exit(0);
  });
  send({ type: 'ready' });
}

/** A bot waits this long after a refusal: the recorder's Retry-After (its admission's `reopenAfterMs`, 5 s by default). */
const REFUSED_RETRY_MS = 5000;

/** Whether a run failed on the recorder's refusal (503 capture_overloaded) of its first request or its socket (pure; soak.spec.ts). */
export function isRefusal(e: unknown): boolean {
  const m = (e as Error)?.message ?? String(e);
  return /\b503\b/.test(m) && /capture_overloaded|Unexpected server response: 503/.test(m);
}

/**
 * The HTTP part of the reconciliation (pure; soak.spec.ts): the multiset of exchange lines (`METHOD path → status |
 * request body | response body`, compare.ts) the bots logged against the stored one. An exchange a bot logged with no
 * answer (`→ undefined`: a transport error) that the store does not hold at all never reached the proxy's handler:
 * the proxy records every exchange it received, answered or not (the client went away, the platform dropped the
 * answer: the request and its proxy-error, which compare.ts reads as `→ undefined` too). A connection refused or reset
 * before the proxy read the request is the client's error, not Rewind's loss: counted apart (`neverReached`). Any
 * other exchange of a bot's missing from the store is lost.
 */
export function reconcileHttp(
  bot: readonly string[],
  stored: readonly string[],
): { matched: number; noAnswer: number; neverReached: number; lost: string[]; neverReachedLines: string[]; storeOnly: string[] } {
  const count = (xs: readonly string[]): Map<string, number> => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const hb = count(bot);
  const hs = count(stored);
  let matched = 0;
  for (const [k, n] of hb) matched += Math.min(n, hs.get(k) ?? 0);
  const unmatched = (a: Map<string, number>, b: Map<string, number>): string[] => [...a].filter(([k, n]) => n > (b.get(k) ?? 0)).map(([k]) => k);
  const isNoAnswer = (k: string): boolean => k.includes(' → undefined | ');
  const botOnly = unmatched(hb, hs);
  const neverReachedLines = botOnly.filter(isNoAnswer);
  return {
    matched,
    noAnswer: bot.filter(isNoAnswer).length,
    neverReached: neverReachedLines.reduce((a, k) => a + (hb.get(k) ?? 0) - (hs.get(k) ?? 0), 0),
    lost: botOnly.filter((k) => !isNoAnswer(k)),
    neverReachedLines,
    storeOnly: unmatched(hs, hb),
  };
}

/** The code of the last WebSocket close a bot saw (undefined: none). */
function lastWsClose(entries: readonly TrafficEntry[]): number | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i] as TrafficEntry;
    if (e.channel === 'ws' && e.meta?.['event'] === 'close') return Number(e.meta['code']);
  }
  return undefined;
}

function firstSessionId(entries: TrafficEntry[]): string | undefined {
  for (const e of entries) {
    if (e.channel === 'http' && e.direction === 'received' && typeof e.data === 'string') {
      const m = /"sessionId"\s*:\s*"([^"]+)"/.exec(e.data);
      if (m) return m[1];
    }
  }
  return undefined;
}

async function reconcile(
  c: BotsConfig,
  key: Buffer,
  runs: RunDigest[],
  httpBot: string[],
  httpTransportErrors: Record<string, number>,
  compare: typeof import('@rewind/recorder/test-support'),
  RedactorCtor: typeof import('@rewind/redaction').Redactor,
): Promise<Reconciliation> {
  const t0 = Date.now();
  const { createPgPool } = await import('@rewind/db');
  const { EventStore, ChainVerifier } = await import('@rewind/event-store');
  const { TrafficLog } = await import('@rewind/agents');
  const { UNDELIVERED_META } = await import('@rewind/recorder');
  const pool = createPgPool(c.databaseUrl, { max: 4 });
  const store = new EventStore(pool);
  const redactor = new RedactorCtor(key);
  const empty = new TrafficLog();
  const problems: string[] = [];
  try {
    const { rows } = await pool.query<{ id: string; platform: string; psid: string | null; captured: string | null; key: string | null; status: string; kind: string | null }>(
      `SELECT id, platform, platform_session_id AS psid, metadata->>'capturedBy' AS captured, metadata->>'key' AS key, status, metadata->>'stream' AS kind FROM sessions ORDER BY started_at`,
    );
    /** Per platform session: its proxy streams (kind, WebSocket messages), to find runs split over two streams. */
    const proxyStreamsByPsid = new Map<string, { id: string; kind: string; ws: number }[]>();
    /** Which proxy streams hold each WebSocket message (by hash): a run whose messages are in two streams is split. */
    const streamsOfSent = new Map<number, Set<string>>();
    const streamInfo = new Map<string, string>();
    const storeWs = new Map<string, number>();
    const storeFull = new Set<string>();
    const unsealedBy: Record<string, number> = {};
    const storeWsByPsid = new Map<string, { lines: Uint32Array; sent: number; digest: string; hashes: DirectedHashes }>();
    const httpStored: string[] = [];
    let chainsOk = 0;
    let wsUndeliveredToBot = 0;
    let unsealed = 0;
    const chainFailures: string[] = [];
    const diffs: string[] = [];
    for (const s of rows) {
      const v = await verifyAtHead(store, s.id, ChainVerifier);
      if (v?.ok) chainsOk++;
      else chainFailures.push(`${s.id} (${s.platform}, ${s.captured}): ${JSON.stringify(v).slice(0, 200)}`);
      // A pipeline job's stream is ended, never sealed, by design: a retried job (a dead letter sent back) appends
      // its next attempt to it. Recorder streams must be sealed once their run is over.
      if (s.status !== 'sealed' && !(s.captured === 'pipeline' && s.status === 'ended')) {
        unsealed++;
        const k = `${s.platform}/${s.captured}/${s.status}`;
        unsealedBy[k] = (unsealedBy[k] ?? 0) + 1;
        if (unsealedBy[k] <= 2) diffs.push(`not sealed: ${k} ${s.id} (platform session ${s.psid ?? 'none'}, key ${s.key ?? '?'}, last events: ${await lastKinds(store, s.id)})`);
      }
      if (s.captured !== 'proxy') continue;
      const events = [];
      for await (const e of store.readSession(s.id)) events.push(e);
      const one = new Map([[s.id, events]]);
      // A platform message that crossed the bot's close is stored, marked undelivered: the bot never had it, so the
      // comparison with what the bot saw leaves it out (counted apart). An input of the bot's that crossed the
      // platform's close stays in: the bot sent it.
      const delivered = events.filter((e) => !(e.direction === 'platform_to_client' && e.meta !== null && e.meta === UNDELIVERED_META));
      wsUndeliveredToBot += events.length - delivered.length;
      const ws = compare.wsSequences(new Map([[s.id, delivered]]), empty, redactor).stored;
      if (ws.length) {
        streamInfo.set(s.id, `${s.id} (${s.kind ?? '?'}, key ${s.key ?? '?'}, ${ws.length} ws msgs)`);
        for (const h of ws.map(lineHash)) {
          const set = streamsOfSent.get(h) ?? new Set<string>();
          set.add(s.id);
          streamsOfSent.set(h, set);
        }
      }
      if (s.psid) {
        const list = proxyStreamsByPsid.get(s.psid) ?? [];
        list.push({ id: s.id, kind: s.kind ?? '?', ws: ws.length });
        proxyStreamsByPsid.set(s.psid, list);
      }
      if (ws.length) {
        const d = conversationDigest(ws);
        storeWs.set(d, (storeWs.get(d) ?? 0) + 1);
        storeFull.add(digest(ws));
        if (s.psid && s.platform === 'moltstation') {
          const dir = byDirection(ws);
          storeWsByPsid.set(s.psid, {
            lines: Uint32Array.from(ws.map(lineHash)),
            sent: dir.sent.length,
            digest: d,
            hashes: { sent: Uint32Array.from(dir.sent.map(lineHash)), received: Uint32Array.from(dir.received.map(lineHash)) },
          });
        }
      }
      httpStored.push(...compare.httpExchanges(one, empty, redactor).stored);
    }
    // WebSocket: each bot run's messages, in order, are exactly one stored stream's (a multiset of digests).
    let wsRuns = 0;
    let wsMatched = 0;
    let wsCut = 0;
    let wsUnread = 0;
    let wsUnseen = 0;
    let wsBotOnly = 0;
    let wsMessagesBot = 0;
    let wsMessagesMatched = 0;
    let interleaved = 0;
    const left = new Map(storeWs);
    for (const r of runs) {
      if (!r.wsDigest) continue;
      wsRuns++;
      wsMessagesBot += r.wsLines.length;
      const n = left.get(r.wsDigest) ?? 0;
      if (n > 0) {
        left.set(r.wsDigest, n - 1);
        wsMatched++;
        wsMessagesMatched += r.wsLines.length;
        if (r.wsFull && !storeFull.has(r.wsFull)) interleaved++;
        continue;
      }
      const storedRun = r.platformSessionId ? storeWsByPsid.get(r.platformSessionId) : undefined;
      const cut = storedRun && (left.get(storedRun.digest) ?? 0) > 0 ? cutTails({ sent: r.wsSentHashes, received: r.wsReceivedHashes, lastClose: r.wsLastClose }, storedRun.hashes) : null;
      if (storedRun && cut) {
        left.set(storedRun.digest, (left.get(storedRun.digest) ?? 0) - 1);
        wsCut++;
        wsUnread += cut.unread;
        wsUnseen += cut.unseen;
        wsMessagesMatched += r.wsLines.length - cut.unread;
        if (diffs.length < 20)
          diffs.push(
            `${r.kind} ${r.platformSessionId}: cut (1006) with the last ${cut.unread} of its ${r.wsSent} sent messages unread and the platform's last ${cut.unseen} stored messages unseen by it (closes the bot saw: ${r.wsCloses}); the rest stored exactly`,
          );
        continue;
      }
      wsBotOnly++;
      if (storedRun) {
        const stored = storedRun.lines;
        let i = 0;
        while (i < stored.length && i < r.wsLines.length && stored[i] === r.wsLines[i]) i++;
        const botSet = new Set(r.wsLines);
        const storedSet = new Set(stored);
        const missing = [...r.wsLines].filter((h) => !storedSet.has(h)).length;
        const extra = [...stored].filter((h) => !botSet.has(h)).length;
        wsMessagesMatched += r.wsLines.length - missing; // lost = what the bot saw that the store lacks, not what follows a difference
        if (diffs.length < 20)
          diffs.push(
            `${r.kind} ${r.platformSessionId}: bot ${r.wsLines.length} msgs (${r.wsSent} sent), stored ${stored.length} (${storedRun.sent} sent); first difference at #${i}; ${missing} distinct bot msgs not stored, ${extra} stored msgs the bot never saw; closes the bot saw: ${r.wsCloses}`,
          );
      } else if (diffs.length < 20)
        diffs.push(
          `${r.kind} ${r.platformSessionId ?? '(no session id)'}: ${r.wsLines.length} msgs, no stored stream with the same messages${r.platformSessionId ? ' (none for its session id)' : ''}`,
        );
    }
    const wsStoreOnly = [...left.values()].reduce((a, b) => a + b, 0);
    // Runs split over two streams: a platform session of a bot run with two proxy `run` streams, or its messages in two streams.
    const splitRuns: string[] = [];
    const seenPsid = new Set<string>();
    for (const r of runs) {
      // The streams holding this run's WebSocket messages (a socket's messages moved to a stream of its own,
      // `connection:…`, count); only messages stored in one stream identify it (an input any run sends does not; its
      // frames, which name its session and tick, do).
      const holding = new Set<string>();
      for (const h of r.wsLines) {
        const ids = streamsOfSent.get(h);
        if (ids?.size === 1) for (const id of ids) holding.add(id);
      }
      const streams = r.platformSessionId && !seenPsid.has(r.platformSessionId) ? (proxyStreamsByPsid.get(r.platformSessionId) ?? []) : [];
      if (r.platformSessionId) seenPsid.add(r.platformSessionId);
      if (holding.size > 1 || streams.filter((x) => x.kind === 'run').length > 1)
        splitRuns.push(
          `${r.kind} ${r.platformSessionId ?? '(no session id)'}: ${[...new Set([...holding, ...streams.filter((x) => x.kind === 'run').map((x) => x.id)])].map((id) => streamInfo.get(id) ?? id).join(', ')}`,
        );
    }
    if (splitRuns.length) problems.push(`${splitRuns.length} bot runs split over more than one stored stream`);
    if (wsBotOnly) problems.push(`${wsBotOnly} of ${wsRuns} bot runs' WebSocket traffic is not stored exactly (once, in order)`);
    if (wsStoreOnly) problems.push(`${wsStoreOnly} stored proxy streams hold WebSocket traffic no bot run matches`);
    // HTTP: the multiset of exchanges (method, path, status, bodies) the bots made equals the stored one.
    const http = reconcileHttp(httpBot, httpStored);
    const { matched: httpMatched, noAnswer: httpNoAnswer, neverReached: httpNeverReached } = http;
    for (const k of http.lost.slice(0, 3)) diffs.push(`http exchange a bot made, not stored so: ${k.slice(0, 300)}`);
    for (const k of http.neverReachedLines.slice(0, 3)) diffs.push(`http exchange with no answer on the bot's side that never reached the proxy (not stored; counted apart): ${k.slice(0, 300)}`);
    for (const k of http.storeOnly.slice(0, 3)) diffs.push(`http exchange stored, no bot made it so: ${k.slice(0, 300)}`);
    if (httpMatched + httpNeverReached !== httpBot.length) problems.push(`${httpBot.length - httpMatched - httpNeverReached} of ${httpBot.length} bot HTTP exchanges not stored exactly once`);
    if (httpMatched !== httpStored.length) problems.push(`${httpStored.length - httpMatched} stored HTTP exchanges no bot made`);
    if (chainFailures.length) problems.push(`${chainFailures.length} streams fail hash-chain verification`);
    if (unsealed)
      problems.push(
        `${unsealed} streams not sealed at the end (${Object.entries(unsealedBy)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')})`,
      );
    return {
      type: 'reconciled',
      runs: runs.length,
      wsRuns,
      wsMatched,
      wsCut,
      wsUnread,
      wsUnseen,
      wsUndeliveredToBot,
      wsBotOnly,
      wsStoreOnly,
      wsMessagesBot,
      wsMessagesMatched,
      httpBot: httpBot.length,
      httpStored: httpStored.length,
      httpMatched,
      httpNoAnswer,
      httpNeverReached,
      httpTransportErrors,
      streams: rows.length,
      chainsOk,
      chainFailures: chainFailures.slice(0, 10),
      unsealed,
      unsealedBy,
      interleaved,
      runsSplit: splitRuns.length,
      splitRuns: splitRuns.slice(0, 10),
      problems,
      diffs,
      ms: Date.now() - t0,
    };
  } finally {
    await pool.end();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A stream's chain checked as of one moment: its head (and seal) first, then its events up to that head only.
 * `verifySession` reads the head, then every event, not in one snapshot: a stream still written to while it is
 * checked (one left open when the drain did not settle) showed a head behind its events (head_mismatch) though
 * nothing was wrong. An append moves the events and the head in one transaction, so the events up to a head read
 * earlier are exactly those that head covers; events cut at the end, edited or reordered are still caught.
 */
export async function verifyAtHead(
  store: Pick<import('@rewind/event-store').EventStore, 'getSession' | 'readSession'>,
  id: string,
  Verifier: typeof import('@rewind/event-store').ChainVerifier,
): Promise<import('@rewind/event-store').VerifyReport | null> {
  const session = await store.getSession(id);
  if (!session) return null;
  const verifier = new Verifier(id);
  if (session.headSeq > 0) {
    for await (const event of store.readSession(id, { pageSize: 2000, toSeq: session.headSeq })) {
      if (verifier.push(event)) break;
    }
  }
  return verifier.finish(session);
}

/** The last few events of a stream as `kind/msgType` (diagnosis of a stream left open). */
async function lastKinds(store: import('@rewind/event-store').EventStore, sessionId: string): Promise<string> {
  const s = await store.getSession(sessionId);
  if (!s || s.headSeq === 0) return 'none';
  const out: string[] = [];
  for await (const e of store.readSession(sessionId, { fromSeq: Math.max(1, s.headSeq - 3) })) out.push(`${e.kind}/${e.msgType ?? '-'}${e.meta ? ` ${e.meta.slice(0, 80)}` : ''}`);
  return out.join(', ');
}

if (require.main === module) {
  process.on('disconnect', () => process.exit(0));
  const role = process.argv[2] as SoakRole;
  const roles: Record<SoakRole, () => Promise<void>> = { sim: runSim, rewards: runSim, recorder: runRecorder, pipeline: runPipelineRole, bots: runBots };
  const run = roles[role];
  (run ? run() : Promise.reject(new Error(`unknown role ${role}`))).catch((e: Error) => {
    process.stderr.write(`[soak ${role}] failed: ${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}
