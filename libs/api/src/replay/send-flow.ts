import WebSocket from 'ws';
import type { ReplayRow } from '@rewind/event-store';
import type { ReplaySession } from '@rewind/replay';

/**
 * Flow control of a replay stream towards a slow (or stopped) reader: `ws.send` queues without bound, so a
 * client that stops reading at speed 32 would otherwise make the gateway hold the whole session in memory.
 */
export interface ReplayFlowOptions {
  /** Send buffer (`ws.bufferedAmount`) above which the replay is paused. Default 1 MiB. */
  highWaterBytes?: number;
  /** The paused replay resumes once the send buffer drained below this. Default 256 KiB. */
  lowWaterBytes?: number;
  /** Paused for the reader this long without draining: closed 1008 "slow reader". Default 30 s. */
  stallTimeoutMs?: number;
  /** How often a paused stream looks at its send buffer. Default 50 ms. */
  pollMs?: number;
}

export const REPLAY_FLOW_DEFAULTS: Required<ReplayFlowOptions> = { highWaterBytes: 1024 * 1024, lowWaterBytes: 256 * 1024, stallTimeoutMs: 30_000, pollMs: 50 };

/** Close code and reason for a reader that stopped reading for longer than the stall timeout. */
export const SLOW_READER_CLOSE = { code: 1008, reason: 'slow reader' } as const;

/**
 * One stream's flow control: after each send, a send buffer over the high-water mark pauses the replay (it
 * emits nothing more, reads no further page); a poll resumes it once the buffer drained below the low-water mark.
 * A pause asked by the client (control message) is kept apart: draining never resumes a replay the client
 * paused, and the client's resume waits for the drain. The gateway disposes of it when the socket closes.
 */
export class SendFlow {
  private held = false;
  private heldSince = 0;
  private userPaused = false;
  private poll: NodeJS.Timeout | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly replay: ReplaySession<ReplayRow>,
    private readonly limits: Required<ReplayFlowOptions>,
    private readonly onStall: () => void,
  ) {}

  /** Call after every send. */
  sent(): void {
    if (this.held || this.ws.bufferedAmount <= this.limits.highWaterBytes) return;
    this.held = true;
    this.heldSince = Date.now();
    this.replay.pause();
    this.poll = setInterval(() => this.check(), this.limits.pollMs);
    this.poll.unref();
  }

  pauseByClient(): void {
    this.userPaused = true;
    this.replay.pause();
  }

  resumeByClient(): void {
    this.userPaused = false;
    if (!this.held) this.replay.resume();
  }

  /** The state as the client sees it: a flow pause alone is not a pause it asked for. */
  get state(): string {
    return this.held && !this.userPaused && this.replay.state === 'paused' ? 'playing' : this.replay.state;
  }

  private check(): void {
    if (this.ws.readyState !== WebSocket.OPEN) return this.dispose();
    if (this.ws.bufferedAmount < this.limits.lowWaterBytes) {
      this.release();
      if (!this.userPaused) this.replay.resume();
      return;
    }
    if (Date.now() - this.heldSince >= this.limits.stallTimeoutMs) {
      this.release();
      this.onStall();
    }
  }

  private release(): void {
    this.held = false;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
  }

  dispose(): void {
    this.release();
  }
}
