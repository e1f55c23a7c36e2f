/**
 * Child process of `rewind bench replay` (forked by ./replay.ts with the repo's register hook): **the floor**, the
 * cheapest replay server Node can be on this machine, for the same clients and the same lateness arithmetic as the
 * gateway's line. Raw sockets speaking the same framing (the WebSocket handshake by hand on a plain HTTP server; no
 * Nest, no `ws`, no Postgres while it plays, no flow control, no controls): every stream's events are held in memory,
 * each already a complete WebSocket text frame of the gateway's `/replay/{id}` envelope (one Buffer per event, read
 * from the scratch database once at start), and sent with one `socket.write` on one shared timer at the recorded
 * schedule: a socket's `hello`, then event k at anchor + (offset_k − offset_first)/speed (the anchor: the
 * connection's arrival), then `end` and the close `1000 end of session`, as the gateway does. It notes when each
 * event left (the time its write was called, on the machine's monotonic clock, as replay-probe.ts does in the API
 * child), so the bench splits the floor's lateness into the server's part and the delivery's as it does the gateway's.
 *
 * What it leaves out is everything the gateway does on top of "a timer and a socket write": the database (page
 * reads and their parse), the replay engine's per-event objects, Nest, metrics and flow control. What the gateway
 * shows above this line is what the gateway's code costs; what this line shows is the machine's (the kernel's
 * sends, the 500 clients' process, their share of two cores).
 *
 * argv: databaseUrl; IPC: the same commands and reports as the API child (replay-worker.ts): ready, stats, sends, exit.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createPgPool } from '@rewind/db';
import { EventStore, type ReplayRow } from '@rewind/event-store';
import { envelope } from '@rewind/replay';
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

/**
 * A server's unmasked WebSocket frame (RFC 6455 §5.2: FIN, the opcode, the 7-, 16- or 64-bit length) around
 * `payload`, in one Buffer: what `ws` writes as a header and a payload, written here with one `socket.write`.
 */
export function serverFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = n;
  else if (n < 65_536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(out, head);
  return out;
}

/** A close frame's payload: the code and the reason. */
function closePayload(code: number, reason: string): Buffer {
  const r = Buffer.from(reason);
  const out = Buffer.allocUnsafe(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
}

/** The gateway's envelope of a stored event, as the gateway writes it (`JSON.stringify(envelope(row))`). */
export function envelopeText(e: ReplayRow): string {
  return JSON.stringify(envelope(e));
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
        frames: rows.map((r) => serverFrame(1, Buffer.from(envelopeText(r)))),
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
  const sockets = new Map<FloorStream, Socket>();
  let timer: NodeJS.Timeout | null = null;
  let armedFor = Infinity;
  const send = (s: FloorStream, i: number): void => {
    const socket = sockets.get(s) as Socket;
    const log = logs.get(s.session.id) as { seqs: Int32Array; at: Float64Array; n: number };
    if (log.n < log.seqs.length) {
      log.seqs[log.n] = s.session.seqs[i] as number;
      log.at[log.n++] = origin + performance.now();
    }
    socket.write(s.session.frames[i] as Buffer);
  };
  const ended = (s: FloorStream): void => {
    const socket = sockets.get(s) as Socket;
    sockets.delete(s);
    const emitted = s.session.frames.length - s.start;
    socket.write(serverFrame(1, Buffer.from(JSON.stringify({ type: 'end', emitted, lastSeq: s.session.seqs[s.session.frames.length - 1] ?? null, stopped: false }))));
    // The close handshake's server half: the close frame, then the end of the connection once the client answered (or 1 s).
    socket.write(serverFrame(8, closePayload(1000, 'end of session')));
    const cut = setTimeout(() => socket.destroy(), 1_000);
    socket.once('close', () => clearTimeout(cut));
    socket.once('data', () => socket.end());
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

  // The WebSocket handshake by hand (RFC 6455 §4.2.2) on a plain HTTP server; then the socket is the floor's.
  const server = createServer((_req, res) => res.writeHead(426).end());
  const open = new Set<Socket>();
  server.on('upgrade', (req, socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://floor');
    const session = sessions.get(decodeURIComponent(url.pathname.replace(/^\/replay\//, '')));
    const key = req.headers['sec-websocket-key'];
    if (!session || typeof key !== 'string') return void socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.setNoDelay(true);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.write(serverFrame(1, Buffer.from(session.hello)));
    const fromSeq = Number(url.searchParams.get('fromSeq') ?? '1');
    const start = Math.max(
      0,
      session.seqs.findIndex((q) => q >= fromSeq),
    );
    if (!logs.has(session.id)) logs.set(session.id, { seqs: new Int32Array(session.frames.length * 2), at: new Float64Array(session.frames.length * 2), n: 0 });
    const s: FloorStream = { session, start, next: start, anchorMs: performance.now(), speed: Number(url.searchParams.get('speed') ?? '1') || 1 };
    sockets.set(s, socket);
    socket.once('close', () => {
      const i = active.indexOf(s);
      if (i >= 0) active.splice(i, 1);
      sockets.delete(s);
    });
    active.push(s);
    arm(dueAt(s, s.next));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));

  const report = (m: ApiReport): void => void (process.connected && process.send?.(m));
  const exit = (): void => {
    for (const c of open) c.destroy();
    server.close();
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
  report({ type: 'ready', port: (server.address() as AddressInfo).port, workers: 1, pids: [process.pid] });
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`rewind bench replay (floor child): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
