/**
 * One authenticated-or-not WebSocket with an ordered outbound queue, so the delay-frames/batch-frames
 * faults never reorder messages and a close always goes out after every frame queued before it.
 */
import type { WebSocket } from 'ws';
import type { CloseSpec, Role } from './protocol';

type Item = { kind: 'text'; text: string } | { kind: 'close'; close: CloseSpec } | { kind: 'terminate' };

export class Conn {
  role: Role | undefined;
  sessionId: string | undefined;
  /** Frames handed to this socket since it authenticated (drives afterTicks faults). */
  framesSent = 0;
  /** Frames skipped by the slow-consumer fault / backpressure. */
  skipped = 0;
  closing = false;
  private readonly queue: { at: number; item: Item }[] = [];
  private batch: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastAt = 0;

  constructor(readonly ws: WebSocket) {}

  get open(): boolean {
    return !this.closing && this.ws.readyState === this.ws.OPEN;
  }

  /** delayMs > 0 defers (keeping order); batchN > 1 holds text until n are pending, then sends them back to back. */
  sendText(text: string, opts: { delayMs?: number; batchN?: number } = {}): void {
    if (this.closing) return;
    if (opts.batchN !== undefined && opts.batchN > 1) {
      this.batch.push(text);
      if (this.batch.length < opts.batchN) return;
      const held = this.batch;
      this.batch = [];
      for (const t of held) this.push({ kind: 'text', text: t }, opts.delayMs ?? 0);
      return;
    }
    this.flushBatch();
    this.push({ kind: 'text', text }, opts.delayMs ?? 0);
  }

  close(close: CloseSpec): void {
    if (this.closing) return;
    this.flushBatch();
    this.push({ kind: 'close', close }, 0);
    this.closing = true;
  }

  /** Abrupt TCP drop (no close frame). */
  terminate(): void {
    if (this.closing) return;
    this.push({ kind: 'terminate' }, 0);
    this.closing = true;
  }

  /** Immediate teardown (simulator shutdown). */
  destroy(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.closing = true;
    this.ws.terminate();
  }

  private flushBatch(): void {
    if (this.batch.length === 0) return;
    const held = this.batch;
    this.batch = [];
    for (const t of held) this.push({ kind: 'text', text: t }, 0);
  }

  private push(item: Item, delayMs: number): void {
    const at = Math.max(Date.now() + delayMs, this.lastAt);
    this.lastAt = at;
    this.queue.push({ at, item });
    if (this.queue.length === 1 && at <= Date.now()) return this.pump();
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    const head = this.queue[0] as { at: number };
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(0, head.at - Date.now()),
    );
  }

  private pump(): void {
    const now = Date.now();
    while (this.queue.length > 0 && (this.queue[0] as { at: number }).at <= now) {
      const { item } = this.queue.shift() as { item: Item };
      this.deliver(item);
    }
    this.schedule();
  }

  private deliver(item: Item): void {
    const ws = this.ws;
    if (ws.readyState !== ws.OPEN) return;
    try {
      if (item.kind === 'text') ws.send(item.text);
      else if (item.kind === 'close') ws.close(item.close.code, item.close.reason);
      else ws.terminate();
    } catch {
      ws.terminate();
    }
  }
}
