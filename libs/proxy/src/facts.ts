import type { CapturedFact, CaptureSink } from '@rewind/capture-facts';
import type { Writable } from 'node:stream';
import type { ProxiedPlatform } from './types';
import { TurnGate } from './turn-gate';

/** The per-fact fields every fact shares, minus platform/connectionId. */
type Body<F> = F extends unknown ? Omit<F, 'platform' | 'connectionId' | 'atNs' | 'wallUs'> : never;

let hrOrigin = process.hrtime.bigint();
let wallOriginUs = Date.now() * 1000;

/** A timestamp pair taken at one instant: monotonic ns + wall µs (wall derived from hrtime for sub-ms resolution). */
export interface Stamp {
  atNs: bigint;
  wallUs: number;
}

export function stamp(): Stamp {
  return stampAt(process.hrtime.bigint());
}

/**
 * The stamp for a monotonic instant read earlier (`process.hrtime.bigint()`), so the forwarding path only reads the
 * clock and the rest (wall-clock derivation, the object) happens after the bytes were handed to the socket.
 */
export function stampAt(atNs: bigint): Stamp {
  let wallUs = wallOriginUs + Number((atNs - hrOrigin) / 1000n);
  const nowUs = Date.now() * 1000;
  // Re-anchor when the wall clock was stepped (NTP…) or drifted more than 2 ms from the monotonic clock.
  if (Math.abs(wallUs - nowUs) > 2000) {
    hrOrigin = atNs;
    wallOriginUs = nowUs;
    wallUs = nowUs;
  }
  return { atNs, wallUs };
}

/**
 * Hands facts to the sink synchronously, never letting it break forwarding: a throwing sink is caught (logged
 * once per proxy) and forwarding goes on.
 */
export class FactEmitter {
  private wsSeq = 0;
  private httpSeq = 0;
  private sinkFailed = false;

  private readonly gate: TurnGate | undefined;

  constructor(
    private readonly sink: CaptureSink,
    private readonly log: (line: string) => void,
  ) {
    this.gate = typeof sink.flush === 'function' ? new TurnGate(() => this.flush()) : undefined;
  }

  nextId(kind: 'ws' | 'http'): string {
    return kind === 'ws' ? `ws-${++this.wsSeq}` : `http-${++this.httpSeq}`;
  }

  /**
   * The hot path's fact (one per relayed WebSocket message): built as one object of a fixed shape, no spread, no
   * intermediate literal. Called after the message was forwarded. Text payloads become their exact string here.
   */
  emitMessage(platform: ProxiedPlatform, connectionId: string, atNs: bigint, direction: 'client_to_platform' | 'platform_to_client', data: Buffer, binary: boolean, undelivered = false): void {
    const at = stampAt(atNs);
    try {
      this.sink.capture({
        platform,
        connectionId,
        atNs,
        wallUs: at.wallUs,
        type: 'ws-message',
        direction,
        data: binary ? data : data.toString('utf8'),
        binary,
        ...(undelivered ? { undelivered } : {}),
      });
    } catch (e) {
      this.sinkError(e);
    }
  }

  private sinkError(e: unknown): void {
    if (!this.sinkFailed) {
      this.sinkFailed = true;
      this.log(`capture sink threw (${(e as Error)?.name ?? 'error'}); forwarding continues, further sink errors are not logged`);
    }
  }

  /**
   * Every fact but a relayed message's (opens, closes, HTTP exchanges, errors: a few per connection): handed to the
   * sink and written to its write-ahead log at once, so whatever the proxy does next (an answer relayed, a socket
   * ended) comes after it is logged.
   */
  emit<F extends CapturedFact>(platform: ProxiedPlatform, connectionId: string, at: Stamp, fact: Body<F>): void {
    try {
      this.sink.capture({ platform, connectionId, atNs: at.atNs, wallUs: at.wallUs, ...fact } as CapturedFact);
      this.sink.flush?.();
    } catch (e) {
      this.sinkError(e);
    }
  }

  /** Writes what the sink holds for this turn to its write-ahead log now (a sink without a log: nothing). */
  flush(): void {
    try {
      this.sink.flush?.();
    } catch (e) {
      this.sinkError(e);
    }
  }

  /** Both legs of a WebSocket whose close said `draining` are done: the sink is told (see `CaptureSink.released`). */
  released(connectionId: string): void {
    try {
      this.sink.released?.(connectionId);
    } catch (e) {
      this.sinkError(e);
    }
  }

  /**
   * Holds a socket's writes until the end of this event-loop turn, when the sink's log of the turn's messages is
   * written first (one write for the whole turn, `TurnGate`). A sink without a log (`flush`) holds nothing.
   */
  holdUntilLogged(socket: Writable): void {
    this.gate?.hold(socket);
  }
}

/** Raw header list → pairs, exactly as received (case, order, duplicates). */
export function headerPairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}

/** Copies up to `limit` bytes of a stream's chunks, remembering the full size. */
export class BodyCollector {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.kept >= this.limit) return;
    const part = this.kept + chunk.length <= this.limit ? chunk : chunk.subarray(0, this.limit - this.kept);
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  body(): Buffer {
    return this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.kept);
  }
}
