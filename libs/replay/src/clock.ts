/** The time the scheduler runs on: real (`systemClock`) or driven by a test (`FakeClock`). */
export interface ReplayClock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: ReplayClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface FakeTimer {
  id: number;
  due: number;
  fn: () => void;
}

const flushAsync = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A manual clock for tests: timers fire only when `advance` moves time past them, in due order. */
export class FakeClock implements ReplayClock {
  private time = 0;
  private nextId = 1;
  private timers: FakeTimer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, due: this.time + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting async work settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await flushAsync();
    for (;;) {
      const next = this.timers.filter((t) => t.due <= target).sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = Math.max(this.time, next.due);
      next.fn();
      await flushAsync();
    }
    this.time = target;
    await flushAsync();
  }

  /** Fires timers one after another (jumping time to each) until `done` settles or no timer is left. */
  async runUntil<T>(done: Promise<T>, maxSteps = 1_000_000): Promise<T> {
    let settled = false;
    const watched = done.finally(() => {
      settled = true;
    });
    watched.catch(() => undefined);
    await flushAsync();
    for (let i = 0; i < maxSteps && !settled; i++) {
      const next = [...this.timers].sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) {
        await flushAsync();
        if (!settled && this.timers.length === 0) throw new Error('FakeClock.runUntil: no timer left and the promise is still pending');
        continue;
      }
      await this.advance(next.due - this.time);
    }
    return watched;
  }
}
