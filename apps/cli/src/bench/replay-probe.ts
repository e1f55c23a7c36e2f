import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/**
 * The gateway side of `rewind bench replay`'s lateness (installed in the API child and in each of its cluster
 * workers): when each replayed event left the gateway. It wraps `ws`'s `WebSocket.prototype.send` in the API
 * process (the bench's own child, never the application) and notes, per socket, the seq of each `/replay/{id}`
 * event and the time its `send` was called (the gateway handing the frame to the socket), on the
 * machine-wide monotonic clock (`monotonicMs`), so the bench can split its end-to-end figure
 * into the gateway's lateness (written vs the recorded schedule) and the delivery to the client (arrival − written:
 * the kernel's loopback and the client process's own event loop). The socket's session is read from its `hello`.
 *
 * Cost: one prefix check and a short regex per message; two numbers per event in typed arrays. Not in plain arrays:
 * the probe runs in the process it measures, and its arrays (one per socket, growing for the whole run, the times
 * boxed) were most of what survived the API's young-generation collections, lengthening the very pauses the bench
 * measures (a sampling heap profile of the API child, 500 streams: 2.7 of the 3.6 MB that survived 6 s).
 */

/** What the probe saw since the last `take`: per session id, the seqs sent and their write times (ms, the monotonic clock). */
export interface SentLog {
  [sessionId: string]: { seqs: number[]; at: number[] };
}

/** One socket's log: `n` entries of seq and time, in typed arrays (their contents outside the JavaScript heap), doubled when full. */
interface Track {
  id: string | null;
  n: number;
  seqs: Int32Array;
  at: Float64Array;
}

const newTrack = (id: string | null): Track => ({ id, n: 0, seqs: new Int32Array(1024), at: new Float64Array(1024) });

function note(t: Track, seq: number, at: number): void {
  if (t.n === t.seqs.length) {
    const seqs = new Int32Array(t.n * 2);
    const times = new Float64Array(t.n * 2);
    seqs.set(t.seqs);
    times.set(t.at);
    t.seqs = seqs;
    t.at = times;
  }
  t.seqs[t.n] = seq;
  t.at[t.n] = at;
  t.n++;
}

const HELLO_RE = /^\{"type":"hello","session":\{"id":"([^"]+)"/;
const EVENT_RE = /^\{"type":"event","seq":(\d+),/;

const tracks = new Map<WebSocket, Track>();
let installed = false;

/**
 * Wraps `WebSocket.prototype.send` once in this process: of the `ws` this module loads and of the one Nest's ws
 * adapter loads (its own copy when the versions differ: the gateway's sockets are that copy's).
 */
export function installSendProbe(): void {
  if (installed) return;
  installed = true;
  const classes = new Set<typeof WebSocket>([WebSocket]);
  try {
    const nestWs = require.resolve('ws', { paths: [path.dirname(require.resolve('@nestjs/platform-ws/package.json'))] });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    classes.add(require(nestWs) as typeof WebSocket);
  } catch {
    // no separate copy
  }
  for (const c of classes) wrap(c.prototype as unknown as Proto);
}

type Proto = { send: (this: WebSocket, data: unknown, ...rest: unknown[]) => void };

/**
 * `performance.now()` + this, in ms, is the machine's monotonic clock (CLOCK_MONOTONIC, the same in every process;
 * `performance.timeOrigin` is not: two processes' origins were seen 15 ms apart).
 */
export function monotonicOffsetMs(): number {
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 5; i++) {
    const a = performance.now();
    const mono = Number(process.hrtime.bigint()) / 1e6;
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      offset = mono - (a + b) / 2;
    }
  }
  return offset;
}

function wrap(proto: Proto): void {
  const origin = monotonicOffsetMs();
  const send = proto.send;
  proto.send = function (this: WebSocket, data: unknown, ...rest: unknown[]): void {
    // The time the gateway hands the frame over (before the write: a process preempted after its write would
    // otherwise note a time after the client's arrival).
    const at = origin + performance.now();
    send.call(this, data, ...rest);
    if (typeof data !== 'string' || data.charCodeAt(2) !== 116 /* t of "type" */) return;
    let t = tracks.get(this);
    if (!t) tracks.set(this, (t = newTrack(null)));
    const e = EVENT_RE.exec(data.length > 40 ? data.slice(0, 40) : data);
    if (e) {
      note(t, Number(e[1]), at);
      return;
    }
    const h = HELLO_RE.exec(data.length > 80 ? data.slice(0, 80) : data);
    if (h) t.id = h[1] as string;
  };
}

/** What was sent since the last call (sockets whose hello was not seen are left out); starts a new log. */
export function takeSentLog(): SentLog {
  const out: SentLog = {};
  for (const [ws, t] of tracks) {
    if (t.id !== null && t.n > 0) {
      const seqs = Array.from(t.seqs.subarray(0, t.n));
      const at = Array.from(t.at.subarray(0, t.n));
      const prev = out[t.id];
      if (prev) {
        for (const s of seqs) prev.seqs.push(s);
        for (const a of at) prev.at.push(a);
      } else out[t.id] = { seqs, at };
    }
    if (ws.readyState === 3 /* CLOSED */) tracks.delete(ws);
    else tracks.set(ws, newTrack(t.id));
  }
  return out;
}

/** Merges the logs of several processes (a session's socket lives in one of them). */
export function mergeSentLogs(logs: SentLog[]): SentLog {
  const out: SentLog = {};
  for (const log of logs) {
    for (const [id, l] of Object.entries(log)) {
      const prev = out[id];
      if (prev) {
        prev.seqs.push(...l.seqs);
        prev.at.push(...l.at);
      } else out[id] = { seqs: [...l.seqs], at: [...l.at] };
    }
  }
  return out;
}
