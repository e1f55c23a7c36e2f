import type { ReplayClock } from './clock';

/** A pending timer of a `SharedTimers`: where it sits in the heap (−1: fired or cleared), when it is due, what it runs. */
interface Entry {
  due: number;
  seq: number;
  fn: () => void;
  index: number;
}

/** What `SharedTimers` runs on: the time (ms, monotonic) and one host timer at a time. */
export interface TimerHost {
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const nodeHost: TimerHost = {
  now: () => performance.now(),
  set: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * One scheduler for many replays (the gateway's streams): the replays' timers are kept in one binary min-heap by
 * due time, and a single host timer is armed for the earliest. When it fires, every timer that is due runs in that
 * one callback, in due order (ties in the order they were set), and the host timer is armed again for the next.
 *
 * Why: a gateway playing 500 streams at 20 Hz sets 10,000 timers a second, one node `Timeout` (and its list
 * bookkeeping) per event per stream, each woken on its own; here a timer is one small object in an array, and the
 * streams due in the same millisecond are served in one wake-up. Clearing removes the entry from the heap (O(log n)):
 * a pause or a seek leaves nothing behind.
 *
 * A `ReplayClock`: pass it as the `clock` of each `ReplaySession` that should share it.
 */
export class SharedTimers implements ReplayClock {
  private readonly heap: Entry[] = [];
  private hostTimer: unknown = null;
  /** When the armed host timer is due (Infinity: none armed). */
  private armedFor = Infinity;
  private nextSeq = 0;
  private readonly fire = (): void => this.runDue();

  constructor(private readonly host: TimerHost = nodeHost) {}

  now(): number {
    return this.host.now();
  }

  /** Timers pending. */
  get size(): number {
    return this.heap.length;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const entry: Entry = { due: this.host.now() + Math.max(0, ms), seq: this.nextSeq++, fn, index: this.heap.length };
    this.heap.push(entry);
    this.up(entry.index);
    if (entry.index === 0) this.arm();
    return entry;
  }

  clearTimer(handle: unknown): void {
    const entry = handle as Entry | null;
    if (!entry || entry.index < 0 || this.heap[entry.index] !== entry) return;
    this.removeAt(entry.index);
    // The host timer stays armed for a cleared head: it finds nothing due, and arms for the next.
    if (this.heap.length === 0) this.disarm();
  }

  private runDue(): void {
    this.hostTimer = null;
    this.armedFor = Infinity;
    const now = this.host.now();
    // Only the timers set before this pass: one that a callback sets for "now" runs in the next (no endless pass).
    const setBefore = this.nextSeq;
    for (let head = this.heap[0]; head && head.due <= now && head.seq < setBefore; head = this.heap[0]) {
      this.removeAt(0);
      head.fn();
    }
    this.arm();
  }

  private arm(): void {
    const head = this.heap[0];
    if (!head) return this.disarm();
    if (this.hostTimer !== null && this.armedFor <= head.due) return;
    if (this.hostTimer !== null) this.host.clear(this.hostTimer);
    this.armedFor = head.due;
    this.hostTimer = this.host.set(this.fire, head.due - this.host.now());
  }

  private disarm(): void {
    if (this.hostTimer !== null) this.host.clear(this.hostTimer);
    this.hostTimer = null;
    this.armedFor = Infinity;
  }

  // --- the heap ------------------------------------------------------------------------------------

  private removeAt(i: number): void {
    const heap = this.heap;
    const removed = heap[i] as Entry;
    const last = heap.pop() as Entry;
    removed.index = -1;
    if (last === removed) return;
    heap[i] = last;
    last.index = i;
    this.down(i);
    this.up(last.index);
  }

  private before(a: Entry, b: Entry): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private up(i: number): void {
    const heap = this.heap;
    const e = heap[i] as Entry;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p] as Entry;
      if (!this.before(e, parent)) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = e;
    e.index = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const e = heap[i] as Entry;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(heap[r] as Entry, heap[l] as Entry) ? r : l;
      const child = heap[c] as Entry;
      if (!this.before(child, e)) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = e;
    e.index = i;
  }
}
