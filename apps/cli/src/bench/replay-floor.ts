/**
 * Child process of `rewind bench replay` (forked by ./replay.ts with the repo's register hook): **the floor**, the
 * cheapest replay server Node can be on this machine, for the same clients and the same lateness arithmetic as the
 * gateway's line. A plain `ws` server (no Nest, no Postgres while it plays, no flow control, no controls) that holds
 * every stream's events in memory, each already encoded as the gateway's `/replay/{id}` envelope (one Buffer per
 * event, read from the scratch database once at start), and sends them on one shared timer at the recorded schedule:
 * a socket's `hello`, then event k at anchor + (offset_k − offset_first)/speed (the anchor: the connection's
 * arrival), then `end` and the close `1000 end of session`, as the gateway does. It notes when each event left (the
 * time its `send` was called, on the machine's monotonic clock, as replay-probe.ts does in the API child), so the
 * bench splits the floor's lateness into the server's part and the delivery's as it does the gateway's.
 *
 * What it leaves out is everything the gateway does on top of "a timer and a socket write": the database (page
 * reads and their parse), the replay engine's per-event objects, Nest, metrics and flow control. What the gateway
 * shows above this line is what the gateway's code costs; what this line shows is the machine's (the kernel's
 * sends, the 500 clients' process, their share of two cores).
 *
 * argv: databaseUrl; IPC: the same commands and reports as the API child (replay-worker.ts): ready, stats, sends, exit.
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';
import { createPgPool } from '@rewind/db';
import { EventStore, type ReplayRow } from '@rewind/event-store';
import { loopProbe } from './stats';
import { monotonicOffsetMs, type SentLog } from './replay-probe';
import type { ApiCommand, ApiReport } from './replay-worker';

/** One recorded session, in memory: its events' envelopes (pre-encoded) and offsets (µs). */
export interface FloorSession {
  id: string;
  frames: Buffer[];
  offsetsUs: Float64Array;
  seqs: Int32Array;
  hello: string;
}

/** One socket's play: the next event to send and when event `start` was due (its anchor). */
export interface FloorStream {
  session: FloorSession;
  start: number;
  next: number;
  anchorMs: number;
  speed: number;
}

/** When a stream's event `i` is due (ms, the scheduler's clock): anchor + (offset_i − offset_start)/speed. */
export function dueAt(s: FloorStream, i: number): number {
  return s.anchorMs + ((s.session.offsetsUs[i] as number) - (s.session.offsetsUs[s.start] as number)) / 1000 / s.speed;
}

/**
 * One pass of the shared timer: for every stream (in the order given: the order they connected), sends each event
 * that is due at `now` in seq order (`send(stream, i)`), calls `ended(stream)` for a stream whose last event went out
 * (and drops it from `streams`), and returns when the earliest remaining event is due (Infinity: none left).
 */
export function serveDue(streams: FloorStream[], now: number, send: (s: FloorStream, i: number) => void, ended: (s: FloorStream) => void): number {
  let earliest = Infinity;
  let kept = 0;
  for (let k = 0; k < streams.length; k++) {
    const s = streams[k] as FloorStream;
    const n = s.session.frames.length;
    while (s.next < n && dueAt(s, s.next) <= now) send(s, s.next++);
    if (s.next >= n) {
      ended(s);
      continue;
    }
    streams[kept++] = s;
    earliest = Math.min(earliest, dueAt(s, s.next));
  }
  streams.length = kept;
  return earliest;
}

/** The gateway's envelope of a stored event, as `JSON.stringify(envelope(row))` writes it (libs/api/src/replay/gateway.ts). */
export function envelopeText(e: ReplayRow): string {
  const binary = Buffer.isBuffer(e.body);
  return JSON.stringify({
    type: 'event',
    seq: e.seq,
    offsetUs: e.offsetUs,
    kind: e.kind,
    direction: e.direction,
    channel: e.channel,
    msgType: e.msgType,
    tick: e.tick,
    format: e.format,
    encoding: binary ? 'base64' : 'utf8',
    data: binary ? (e.body as Buffer).toString('base64') : e.body,
  });
}

/** Reads every session whole, once (the store's replay rows, as the gateway reads them), and encodes each event. */
async function load(databaseUrl: string, ids: string[]): Promise<Map<string, FloorSession>> {
  const pool = createPgPool(databaseUrl, { max: 2 });
  const store = new EventStore(pool);
  const out = new Map<string, FloorSession>();
  try {
    for (const id of ids) {
      const record = await store.getSession(id);
      const rows = await store.readReplayPage(id, { afterSeq: 0 }, 10_000_000);
      out.set(id, {
        id,
        frames: rows.map((r) => Buffer.from(envelopeText(r))),
        offsetsUs: Float64Array.from(rows, (r) => r.offsetUs),
        seqs: Int32Array.from(rows, (r) => r.seq),
        hello: JSON.stringify({ type: 'hello', session: { id, platform: record?.platform, game: record?.game, events: record?.headSeq, status: record?.status }, speed: 1 }),
      });
    }
  } finally {
    await pool.end();
  }
  return out;
}

async function main(): Promise<void> {
  const [databaseUrl] = process.argv.slice(2);
  if (!databaseUrl) throw new Error('replay-floor: usage: databaseUrl (then {type:"load",ids} over IPC)');
  const ids = await new Promise<string[]>((resolve) => process.once('message', (m: { type: string; ids: string[] }) => resolve(m.ids)));
  const sessions = await load(databaseUrl, ids);
  const probe = loopProbe();
  const origin = monotonicOffsetMs();
  const cpuUs = (): number => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };

  // When each event left, per session (typed arrays, as the API child's probe): the bench's lateness split.
  const logs = new Map<string, { seqs: Int32Array; at: Float64Array; n: number }>();
  const active: FloorStream[] = [];
  const sockets = new Map<FloorStream, WebSocket>();
  let timer: NodeJS.Timeout | null = null;
  let armedFor = Infinity;
  const send = (s: FloorStream, i: number): void => {
    const ws = sockets.get(s) as WebSocket;
    const log = logs.get(s.session.id) as { seqs: Int32Array; at: Float64Array; n: number };
    if (log.n < log.seqs.length) {
      log.seqs[log.n] = s.session.seqs[i] as number;
      log.at[log.n++] = origin + performance.now();
    }
    ws.send(s.session.frames[i] as Buffer, { binary: false });
  };
  const ended = (s: FloorStream): void => {
    const ws = sockets.get(s) as WebSocket;
    sockets.delete(s);
    const emitted = s.session.frames.length - s.start;
    ws.send(JSON.stringify({ type: 'end', emitted, lastSeq: s.session.seqs[s.session.frames.length - 1] ?? null, stopped: false }));
    ws.close(1000, 'end of session');
  };
  const fire = (): void => {
    timer = null;
    armedFor = Infinity;
    arm(serveDue(active, performance.now(), send, ended));
  };
  const arm = (due: number): void => {
    if (due === Infinity || due >= armedFor) return;
    if (timer) clearTimeout(timer);
    armedFor = due;
    timer = setTimeout(fire, Math.max(0, due - performance.now()));
  };

  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws, req) => {
    const url = new URL(req.url ?? '/', 'http://floor');
    const session = sessions.get(decodeURIComponent(url.pathname.replace(/^\/replay\//, '')));
    if (!session) return void ws.close(4404, 'unknown session');
    const fromSeq = Number(url.searchParams.get('fromSeq') ?? '1');
    const start = Math.max(
      0,
      session.seqs.findIndex((q) => q >= fromSeq),
    );
    ws.send(session.hello);
    if (!logs.has(session.id)) logs.set(session.id, { seqs: new Int32Array(session.frames.length * 2), at: new Float64Array(session.frames.length * 2), n: 0 });
    const s: FloorStream = { session, start, next: start, anchorMs: performance.now(), speed: Number(url.searchParams.get('speed') ?? '1') || 1 };
    sockets.set(s, ws);
    ws.on('close', () => {
      const i = active.indexOf(s);
      if (i >= 0) active.splice(i, 1);
      sockets.delete(s);
    });
    active.push(s);
    arm(dueAt(s, s.next));
  });

  const report = (m: ApiReport): void => void (process.connected && process.send?.(m));
  const exit = (): void => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    process.exit(0);
  };
  process.on('message', (msg: ApiCommand) => {
    if (msg.type === 'exit') return exit();
    if (msg.type === 'stats') report({ type: 'stats', cpuUs: cpuUs(), loop: probe.read(msg.reset === true) });
    if (msg.type === 'sends') {
      const log: SentLog = {};
      for (const [id, l] of logs) {
        if (l.n) log[id] = { seqs: Array.from(l.seqs.subarray(0, l.n)), at: Array.from(l.at.subarray(0, l.n)) };
        l.n = 0;
      }
      report({ type: 'sends', log });
    }
  });
  process.on('disconnect', exit);
  report({ type: 'ready', port: (wss.address() as AddressInfo).port, workers: 1, pids: [process.pid] });
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`rewind bench replay (floor child): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
