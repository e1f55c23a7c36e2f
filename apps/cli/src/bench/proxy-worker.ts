/**
 * Child processes of `rewind bench proxy` (forked by ./proxy.ts with the repo's register hook):
 *   role `upstream` — a MoltStation-like WebSocket platform: per session, frames at a fixed rate, each carrying
 *                     its send time (this process's hrtime); the client answers each frame with a small input
 *                     carrying that time back, and the RTT is measured here, on one clock.
 *   role `proxy sink`     — the recording proxy with a cheap but honest sink (counts facts, touches every
 *                           payload's length, keeps the last N facts): the cost of relaying alone;
 *   role `proxy recorder` — a recorder process as `rewind recorder` runs one, without live captures: the
 *                           RecorderModule (`startRecorderService`): the recording proxy feeding the Recorder
 *                           (encoding, redaction, lifecycle), the Ingest with its write-ahead log, and its
 *                           writer thread appending to Postgres (the benchmark's scratch database).
 * Talks to the parent over IPC only; exits when the parent says so or disappears.
 */
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import type { CapturedFact, CaptureSink } from '@rewind/capture-facts';
import { loopProbe, type LoopStats } from './stats';

export interface UpstreamConfig {
  framesPerSec: number;
  frameBytes: number;
}

/** Parent → upstream. */
export type UpstreamCommand = { type: 'go'; phase: number; frames: number } | { type: 'exit' };
/** Upstream → parent. */
export type UpstreamReport =
  | { type: 'ready'; port: number }
  | { type: 'phase-done'; phase: number; sessions: number; framesSent: number; inputsReceived: number; disconnects: number; rtt: RttSummary; cpuUs: number; timedOut: boolean };
/** Parent → proxy. */
export type ProxyCommand = { type: 'stats'; /** Start a new event-loop-delay / GC window (the measured phase). */ reset?: boolean } | { type: 'exit' };
/** Proxy → parent. The sink counts ws-message facts; the recorder reports its own and its Ingest's counters. */
export type ProxyReport =
  | { type: 'ready'; port: number }
  | {
      type: 'stats';
      facts: Record<string, number>;
      wsMessages: number;
      dataBytes: number;
      kept: number;
      cpuUs: number;
      /** When read: this process's monotonic clock, µs (process.hrtime, the clock of its CPU profiles' samples). */
      hrUs: number;
      loop?: LoopStats;
      recorder?: { facts: number; events: number; failures: number; openStreams: number };
      ingest?: { appended: number; buffered: number; journaled: number; rejected: number; lagMs: number; outage: boolean };
    };
/**
 * `recorder` the main line, `sink` the recording proxy alone, `pipe` the floor: a bare TCP relay in Node (no
 * WebSocket parsing, no facts, no recording), what any relay written in Node pays per message to read it from one
 * socket and write it to another.
 */
export type ProxyKind = 'sink' | 'recorder' | 'pipe';
/** What the `proxy recorder` role needs (third argument, JSON). */
export interface RecorderProxyConfig {
  databaseUrl: string;
  dataDir: string;
  keyHex: string;
}

export interface RttSummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Percentiles (nearest-rank) of values in ms. */
export function summarize(values: Float64Array): RttSummary {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  const at = (q: number): number => (n ? (s[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] as number) : NaN);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i] as number;
  return { count: n, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: n ? (s[n - 1] as number) : NaN, mean: n ? sum / n : NaN };
}

const send = (msg: UpstreamReport | ProxyReport): void => {
  if (process.send) process.send(msg);
};
const hrUs = (): number => Number(process.hrtime.bigint() / 1000n);
const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** A ~frameBytes MoltStation-like frame tail (everything after seq and send time), fixed per session. */
function frameTail(session: number, frameBytes: number): string {
  const frame: Record<string, unknown> = { tick: 0, phase: 'running', score: session * 3, lives: 3, hunger: 87, pawn: { x: session % 17, y: (session * 7) % 11, dir: 'e' }, entities: [] as unknown[] };
  let body = JSON.stringify(frame);
  let k = 0;
  // `{"type":"frame","seq":NNN,"t":NNNNNNNNNNNN,` ≈ 45 bytes precede the tail.
  while (body.length < frameBytes - 45) {
    (frame.entities as unknown[]).push({ id: k, kind: k % 3 ? 'crab' : 'kelp', x: (session + k * 5) % 23, y: (k * 3) % 13 });
    k++;
    body = JSON.stringify(frame);
  }
  return body.slice(1);
}

interface Phase {
  sessions: Map<number, WebSocket>;
  framesSent: number;
  inputsReceived: number;
  expected: number;
  rtts: Float64Array;
  rttCount: number;
  disconnects: number;
  done: boolean;
  startCpu: number;
  finish?: (timedOut: boolean) => void;
}

async function runUpstream(cfg: UpstreamConfig): Promise<void> {
  const origin = process.hrtime.bigint();
  const nowNs = (): number => Number(process.hrtime.bigint() - origin);
  const intervalMs = 1000 / cfg.framesPerSec;
  const phases = new Map<number, Phase>();
  const phaseOf = (n: number): Phase => {
    let p = phases.get(n);
    if (!p) {
      p = { sessions: new Map(), framesSent: 0, inputsReceived: 0, expected: 0, rtts: new Float64Array(0), rttCount: 0, disconnects: 0, done: false, startCpu: 0 };
      phases.set(n, p);
    }
    return p;
  };
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: false });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const inputRe = /"t":(\d+)/;
  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const phase = phaseOf(Number(q.get('phase')));
    const session = Number(q.get('s'));
    phase.sessions.set(session, ws);
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => {
      const m = inputRe.exec(data.toString('latin1', 0, Math.min(data.length, 96)));
      if (!m) return;
      const rttMs = (nowNs() - Number(m[1])) / 1e6;
      if (phase.rttCount < phase.rtts.length) phase.rtts[phase.rttCount++] = rttMs;
      phase.inputsReceived++;
      if (phase.inputsReceived === phase.expected && phase.finish) phase.finish(false);
    });
    ws.on('close', (code: number) => {
      // The client closes each session with 1000 once the phase is reported; anything earlier is a loss.
      if (!phase.done || code !== 1000) phase.disconnects++;
    });
  });

  const go = (n: number, frames: number): void => {
    const phase = phaseOf(n);
    const sockets = [...phase.sessions.entries()];
    phase.expected = sockets.length * frames;
    phase.rtts = new Float64Array(phase.expected);
    phase.startCpu = cpuUs();
    let lastSendDone = 0;
    let guard: NodeJS.Timeout | undefined;
    phase.finish = (timedOut: boolean): void => {
      if (phase.done) return;
      phase.done = true;
      if (guard) clearTimeout(guard);
      send({
        type: 'phase-done',
        phase: n,
        sessions: sockets.length,
        framesSent: phase.framesSent,
        inputsReceived: phase.inputsReceived,
        disconnects: phase.disconnects,
        rtt: summarize(phase.rtts.subarray(0, phase.rttCount)),
        cpuUs: cpuUs() - phase.startCpu,
        timedOut,
      });
    };
    sockets.forEach(([session, ws], i) => {
      const tail = frameTail(session, cfg.frameBytes);
      let seq = 0;
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      const tick = (): void => {
        if (stopped) return;
        if (ws.readyState !== WebSocket.OPEN || seq >= frames) {
          stopped = true;
          if (timer) clearInterval(timer);
          // Inputs still in flight get 5 s to arrive; then the phase is reported with what came back.
          if (++lastSendDone === sockets.length) guard = setTimeout(() => phase.finish?.(true), 5_000);
          return;
        }
        seq++;
        ws.send(`{"type":"frame","seq":${seq},"t":${nowNs()},${tail}`);
        phase.framesSent++;
      };
      // Sessions are spread evenly over one frame interval, like independent games would be.
      setTimeout(
        () => {
          tick();
          if (!stopped) timer = setInterval(tick, intervalMs);
        },
        (i / sockets.length) * intervalMs,
      );
    });
    if (phase.expected === 0) phase.finish(false);
  };

  process.on('message', (msg: UpstreamCommand) => {
    if (msg.type === 'go') go(msg.phase, msg.frames);
    else if (msg.type === 'exit') wss.close(() => process.exit(0));
  });
  send({ type: 'ready', port: (wss.address() as AddressInfo).port });
}

/** What a recorder minimally does on the forwarding path: look at the fact, account for its payload, keep it. */
export function createBenchSink(): { sink: CaptureSink; stats(): Omit<Extract<ProxyReport, { type: 'stats' }>, 'cpuUs' | 'hrUs'> } {
  const KEEP = 1024;
  const kept: CapturedFact[] = new Array(KEEP);
  let n = 0;
  let wsMessages = 0;
  let dataBytes = 0;
  const facts: Record<string, number> = {};
  const sink: CaptureSink = {
    capture(fact) {
      facts[fact.type] = (facts[fact.type] ?? 0) + 1;
      if (fact.type === 'ws-message') {
        wsMessages++;
        dataBytes += fact.data.length;
      }
      kept[n++ % KEEP] = fact;
    },
  };
  return { sink, stats: () => ({ type: 'stats', facts: { ...facts }, wsMessages, dataBytes, kept: Math.min(n, KEEP) }) };
}

/** A recorder process (RecorderModule) in front of the upstream, recording into the benchmark's database. */
async function runRecorderProxy(upstreamPort: number, c: RecorderProxyConfig): Promise<void> {
  const { startRecorderService } = await import('@rewind/capture');
  const line = (m: string): void => void process.stderr.write(`[bench recorder] ${m}\n`);
  const service = await startRecorderService({
    databaseUrl: c.databaseUrl,
    proxyPort: 0,
    proxyHost: '127.0.0.1',
    upstreams: { moltstation: `http://127.0.0.1:${upstreamPort}/moltstation` },
    dataDir: c.dataDir,
    instance: 'bench-proxy',
    redactionKey: Buffer.from(c.keyHex, 'hex'),
    // Each phase ends with a drain (every stream sealed, every event stored) before the next: short grace periods.
    // The bench's frames carry no end signal, so a run ends as idle 1 s after its last message (30 min by default);
    // during a phase every run has a message every 1/framesPerSec s.
    sealAfterMs: 500,
    accountIdleMs: 1000,
    runIdleMs: 1000,
    log: { info: () => undefined, warn: line, error: line },
  });
  const probe = loopProbe();
  process.on('message', (msg: ProxyCommand) => {
    if (msg.type === 'stats') {
      const s = service.stats();
      send({
        type: 'stats',
        facts: {},
        wsMessages: NaN,
        dataBytes: NaN,
        kept: 0,
        cpuUs: cpuUs(),
        hrUs: hrUs(),
        loop: probe.read(msg.reset === true),
        recorder: { facts: s.recorder.facts, events: s.recorder.events, failures: s.recorder.failures, openStreams: s.recorder.openStreams },
        ingest: { appended: s.ingest.appended, buffered: s.ingest.buffered, journaled: s.ingest.journaled, rejected: s.ingest.rejected, lagMs: s.ingest.lagMs, outage: s.ingest.outage },
      });
    } else if (msg.type === 'exit') {
      const t = setTimeout(() => process.exit(0), 20_000);
      void service.close().finally(() => {
        clearTimeout(t);
        process.exit(0);
      });
    }
  });
  send({ type: 'ready', port: Number(new URL(service.proxyUrl).port) });
}

async function runProxy(upstreamPort: number): Promise<void> {
  const { startRecordingProxy } = await import('@rewind/proxy');
  const { sink, stats } = createBenchSink();
  const proxy = await startRecordingProxy({ port: 0, host: '127.0.0.1', upstreams: { moltstation: `http://127.0.0.1:${upstreamPort}/moltstation` }, sink });
  const probe = loopProbe();
  process.on('message', (msg: ProxyCommand) => {
    if (msg.type === 'stats') {
      send({ ...stats(), cpuUs: cpuUs(), hrUs: hrUs(), loop: probe.read(msg.reset === true) });
    } else if (msg.type === 'exit') void proxy.close().finally(() => process.exit(0));
  });
  send({ type: 'ready', port: proxy.port });
}

/**
 * The floor line: every connection piped byte for byte to the upstream (the WebSocket handshake and frames pass
 * through unread), with Nagle off on both legs as `ws` sets it. One read and one write per message each way: the
 * least CPU a Node relay can spend per relayed message on this machine.
 */
async function runPipe(upstreamPort: number): Promise<void> {
  const net = await import('node:net');
  let connections = 0;
  const server = net.createServer((client) => {
    connections++;
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const probe = loopProbe();
  process.on('message', (msg: ProxyCommand) => {
    if (msg.type === 'stats') send({ type: 'stats', facts: { connections }, wsMessages: NaN, dataBytes: NaN, kept: 0, cpuUs: cpuUs(), hrUs: hrUs(), loop: probe.read(msg.reset === true) });
    else if (msg.type === 'exit') server.close(() => process.exit(0));
  });
  send({ type: 'ready', port: (server.address() as AddressInfo).port });
}

if (require.main === module) {
  // The parent going away (crash, Ctrl-C) takes this process with it.
  process.on('disconnect', () => process.exit(0));
  const [role, arg1, arg2, arg3] = process.argv.slice(2);
  const started =
    role === 'upstream'
      ? runUpstream({ framesPerSec: Number(arg1), frameBytes: Number(arg2) })
      : role === 'proxy' && arg1 === 'sink'
        ? runProxy(Number(arg2))
        : role === 'proxy' && arg1 === 'pipe'
          ? runPipe(Number(arg2))
          : role === 'proxy' && arg1 === 'recorder'
            ? runRecorderProxy(Number(arg2), JSON.parse(arg3 ?? '{}') as RecorderProxyConfig)
            : Promise.reject(new Error(`unknown role ${role} ${arg1 ?? ''}`));
  started.catch((e: Error) => {
    process.stderr.write(`bench proxy worker ${role}: ${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}
