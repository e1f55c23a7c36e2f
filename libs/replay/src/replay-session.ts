import { ReplayClock, systemClock } from './clock';
import { markersOf, ReplayMarker } from './markers';
import { describeTarget, EventSource, ReplayableEvent, ReplayError, ReplayErrorCode, SeekTarget, validateSpeed } from './types';

export interface ReplayOptions {
  /** 0.25–32; default 1. */
  speed?: number;
  /** Silences longer than this (recorded time, ms) are compressed to it. */
  skipIdleMs?: number;
  /** Where to start; default the first event. */
  from?: SeekTarget;
  clock?: ReplayClock;
  /** Fetch the next page when this few events are left buffered (default: 64). */
  prefetchBelow?: number;
}

/** One event as replayed, with its timing (ms on the replay clock). */
export interface ReplayEmission<E extends ReplayableEvent = ReplayableEvent> {
  event: E;
  seq: number;
  /** 1, 2, 3 … in emission order since `start()`. */
  index: number;
  scheduledAtMs: number;
  emittedAtMs: number;
  /** emittedAtMs − scheduledAtMs. */
  latenessMs: number;
  /** Clock time since `start()` (paused time included). */
  elapsedMs: number;
  markers: readonly ReplayMarker[];
}

export interface ReplaySummary {
  emitted: number;
  markers: ReplayMarker[];
  firstSeq: number | null;
  lastSeq: number | null;
  /** Clock time from `start()` to the end. */
  wallMs: number;
  speed: number;
  /** True when `stop()` ended it before the source was exhausted. */
  stopped: boolean;
}

export type ReplayState = 'idle' | 'playing' | 'paused' | 'ended' | 'stopped' | 'failed';

interface Listeners<E extends ReplayableEvent> {
  event: ((e: ReplayEmission<E>) => void)[];
  marker: ((m: ReplayMarker) => void)[];
  end: ((s: ReplaySummary) => void)[];
  error: ((e: unknown) => void)[];
}

interface Cursor<E> {
  iterator: AsyncIterator<E[]>;
  buffer: E[];
  exhausted: boolean;
  fetching: Promise<void> | null;
}

/**
 * Replays one session in real time (scaled by `speed`): each event is emitted at
 * `anchor + (offset − anchorOffset) / speed`, where the anchor moves on start, resume, speed change and
 * seek, so paused time does not count. Events come page by page from an `EventSource`; the next page is
 * fetched while the buffered ones play.
 */
export class ReplaySession<E extends ReplayableEvent = ReplayableEvent> {
  private readonly clock: ReplayClock;
  private readonly prefetchBelow: number;
  private readonly skipIdleUs: number | null;
  private speedValue: number;
  private stateValue: ReplayState = 'idle';
  private cursor: Cursor<E> | null = null;
  private seekToken = 0;
  private timer: unknown = null;
  private timerSet = false;

  /** Wall time (clock ms) at which the recorded position `anchorUs` (compressed µs) plays. */
  private anchorWallMs = 0;
  private anchorUs = 0;
  /** Recorded offset of the previous event (or seek target), and the idle time removed so far (µs). */
  private prevOffsetUs: number | null = null;
  private idleRemovedUs = 0;
  /** Recorded position (compressed µs) at the moment of pausing. */
  private pausedAtUs = 0;

  private startedAtMs = 0;
  private emitted = 0;
  private firstSeq: number | null = null;
  private lastSeq: number | null = null;
  private readonly markerLog: ReplayMarker[] = [];
  private readonly listeners: Listeners<E> = { event: [], marker: [], end: [], error: [] };
  private resolveDone!: (s: ReplaySummary) => void;
  private rejectDone!: (e: unknown) => void;
  /** Settles when the source is exhausted (or `stop()`), or rejects on a source error. */
  readonly done: Promise<ReplaySummary>;

  constructor(
    private readonly source: EventSource<E>,
    private readonly options: ReplayOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.speedValue = validateSpeed(options.speed ?? 1);
    if (options.skipIdleMs !== undefined && (!Number.isFinite(options.skipIdleMs) || options.skipIdleMs < 0)) {
      throw new ReplayError(ReplayErrorCode.InvalidOption, `skipIdleMs must be a number ≥ 0 (got ${String(options.skipIdleMs)})`);
    }
    this.skipIdleUs = options.skipIdleMs === undefined ? null : Math.round(options.skipIdleMs * 1000);
    this.prefetchBelow = Math.max(1, options.prefetchBelow ?? 64);
    this.done = new Promise<ReplaySummary>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined); // a caller that only listens to 'error' must not see an unhandled rejection
  }

  get state(): ReplayState {
    return this.stateValue;
  }

  get speed(): number {
    return this.speedValue;
  }

  /** Markers of the events emitted so far. */
  get markers(): readonly ReplayMarker[] {
    return this.markerLog;
  }

  on(name: 'event', fn: (e: ReplayEmission<E>) => void): this;
  on(name: 'marker', fn: (m: ReplayMarker) => void): this;
  on(name: 'end', fn: (s: ReplaySummary) => void): this;
  on(name: 'error', fn: (e: unknown) => void): this;
  on(name: keyof Listeners<E>, fn: (arg: never) => void): this {
    (this.listeners[name] as unknown[]).push(fn);
    return this;
  }

  /**
   * Opens the source (at `options.from`) and starts playing; resolves once the first page is there
   * (rejects for an unknown session or a start past the end). `done` settles at the end.
   */
  async start(): Promise<void> {
    if (this.stateValue !== 'idle') throw new ReplayError(ReplayErrorCode.InvalidState, `replay already started (${this.stateValue})`);
    this.startedAtMs = this.clock.now();
    const from = this.options.from;
    try {
      if (from) validateTarget(from);
      this.cursor = await this.openAt(from);
    } catch (e) {
      this.stateValue = 'failed';
      this.rejectDone(e);
      throw e;
    }
    this.positionAt(from, this.cursor.buffer[0] as E);
    this.stateValue = 'playing';
    this.pump();
  }

  pause(): void {
    if (this.stateValue !== 'playing') return;
    this.pausedAtUs = this.positionUs(this.clock.now());
    this.cancelTimer();
    this.stateValue = 'paused';
  }

  resume(): void {
    if (this.stateValue !== 'paused') return;
    this.anchorWallMs = this.clock.now();
    this.anchorUs = this.pausedAtUs;
    this.stateValue = 'playing';
    this.pump();
  }

  /** Changes the speed from now on (validated: 0.25–32). */
  setSpeed(speed: number): void {
    validateSpeed(speed);
    if (this.stateValue === 'playing') {
      const now = this.clock.now();
      this.anchorUs = this.positionUs(now);
      this.anchorWallMs = now;
    }
    this.speedValue = speed;
    if (this.stateValue === 'playing') {
      this.cancelTimer();
      this.pump();
    }
  }

  /**
   * Jumps: the next event emitted is the first at/after the target. The source is re-opened at the
   * target (its seek index), never read from the start. A target past the last event is refused and
   * the replay goes on where it was. Paused stays paused.
   */
  async seek(target: SeekTarget): Promise<void> {
    validateTarget(target);
    if (this.stateValue === 'idle' || this.stateValue === 'ended' || this.stateValue === 'stopped' || this.stateValue === 'failed') {
      throw new ReplayError(ReplayErrorCode.InvalidState, `cannot seek a replay that is ${this.stateValue}`);
    }
    const token = ++this.seekToken;
    const cursor = await this.openAt(target);
    const now = this.stateValue as ReplayState;
    if (token !== this.seekToken || (now !== 'playing' && now !== 'paused')) {
      void cursor.iterator.return?.().catch(() => undefined); // superseded by a later seek, or the replay ended meanwhile
      return;
    }
    this.cancelTimer();
    const old = this.cursor;
    this.cursor = cursor;
    if (old) void old.iterator.return?.().catch(() => undefined);
    this.positionAt(target, cursor.buffer[0] as E);
    if (this.stateValue === 'paused') this.pausedAtUs = this.anchorUs;
    else this.pump();
  }

  /** Ends the replay now; `done` resolves with `stopped: true`. */
  stop(): void {
    if (this.stateValue === 'ended' || this.stateValue === 'stopped' || this.stateValue === 'failed') return;
    this.cancelTimer();
    if (this.cursor) void this.cursor.iterator.return?.().catch(() => undefined);
    this.cursor = null;
    this.stateValue = 'stopped';
    this.finish(true);
  }

  // --- internals -------------------------------------------------------------------------------

  private async openAt(target: SeekTarget | undefined): Promise<Cursor<E>> {
    const iterator = this.source.open(target);
    let first: IteratorResult<E[]>;
    try {
      first = await iterator.next();
    } catch (e) {
      void iterator.return?.().catch(() => undefined);
      throw e;
    }
    const buffer = first.done ? [] : [...first.value];
    if (buffer.length === 0) {
      void iterator.return?.().catch(() => undefined);
      const last = this.source.last ? await this.source.last() : null;
      const what = target ? describeTarget(target) : 'the start';
      const end = last ? `the session ends at seq ${last.seq}, offset ${(last.offsetUs / 1e6).toFixed(6)} s` : 'the session has no events';
      throw new ReplayError(ReplayErrorCode.SeekPastEnd, `cannot seek to ${what}: past the end (${end})`, { target, last });
    }
    return { iterator, buffer, exhausted: !!first.done, fetching: null };
  }

  /** Re-anchors the timeline so that the target (or the first event) plays now. */
  private positionAt(target: SeekTarget | undefined, firstEvent: E): void {
    const startOffset = target && 'offsetUs' in target ? Math.min(target.offsetUs, firstEvent.offsetUs) : firstEvent.offsetUs;
    this.prevOffsetUs = startOffset;
    this.idleRemovedUs = 0;
    this.anchorUs = startOffset;
    this.anchorWallMs = this.clock.now();
  }

  /** Compressed recorded position of an event (skip-idle applied); advances the idle bookkeeping. */
  private compressedUs(event: E): number {
    if (this.prevOffsetUs !== null && this.skipIdleUs !== null) {
      const gap = event.offsetUs - this.prevOffsetUs;
      if (gap > this.skipIdleUs) this.idleRemovedUs += gap - this.skipIdleUs;
    }
    return event.offsetUs - this.idleRemovedUs;
  }

  /** Compressed position without consuming (for scheduling the head of the buffer). */
  private peekCompressedUs(event: E): number {
    let removed = this.idleRemovedUs;
    if (this.prevOffsetUs !== null && this.skipIdleUs !== null) {
      const gap = event.offsetUs - this.prevOffsetUs;
      if (gap > this.skipIdleUs) removed += gap - this.skipIdleUs;
    }
    return event.offsetUs - removed;
  }

  private positionUs(nowMs: number): number {
    return this.anchorUs + (nowMs - this.anchorWallMs) * 1000 * this.speedValue;
  }

  private scheduledAt(compressedUs: number): number {
    return this.anchorWallMs + (compressedUs - this.anchorUs) / 1000 / this.speedValue;
  }

  /** The timer's callback, one function for the replay's life (not a closure per event). */
  private readonly onTimer = (): void => {
    this.timerSet = false;
    this.timer = null;
    this.pump();
  };

  private cancelTimer(): void {
    if (this.timerSet) this.clock.clearTimer(this.timer);
    this.timerSet = false;
    this.timer = null;
  }

  /**
   * Reads the next page once few events are left. The read starts after the current task (a microtask): when a
   * shared scheduler's timer serves many streams due in the same instant, every due event is sent first, in due
   * order, and only then are the page queries written (the read is not urgent: `prefetchBelow` events remain).
   */
  private prefetch(cursor: Cursor<E>): void {
    const n = cursor.buffer.length;
    if (cursor.exhausted || cursor.fetching || n >= this.prefetchBelow) return;
    const read = n === 0 ? cursor.iterator.next() : Promise.resolve().then(() => (this.cursor === cursor ? cursor.iterator.next() : { done: true as const, value: undefined }));
    cursor.fetching = read.then(
      (r) => {
        cursor.fetching = null;
        if (this.cursor !== cursor) return; // a seek or stop replaced this read
        if (r.done) cursor.exhausted = true;
        else cursor.buffer.push(...r.value);
        if (cursor.buffer.length === 0 && !cursor.exhausted) this.prefetch(cursor);
        if (this.stateValue === 'playing' && !this.timerSet) this.pump();
      },
      (e: unknown) => {
        cursor.fetching = null;
        if (this.cursor !== cursor) return; // a seek or stop replaced this read
        this.fail(e);
      },
    );
  }

  /** Emits every event that is due, then sets one timer for the next (or waits for the next page). */
  private pump(): void {
    if (this.stateValue !== 'playing' || this.timerSet) return;
    const cursor = this.cursor;
    if (!cursor) return;
    for (;;) {
      this.prefetch(cursor);
      const next = cursor.buffer[0];
      if (!next) {
        if (cursor.exhausted) {
          this.stateValue = 'ended';
          this.cursor = null;
          this.finish(false);
        }
        return; // else: the page being fetched calls pump() again
      }
      const due = this.scheduledAt(this.peekCompressedUs(next));
      const now = this.clock.now();
      if (due > now) {
        this.timerSet = true;
        this.timer = this.clock.setTimer(this.onTimer, due - now);
        return;
      }
      cursor.buffer.shift();
      this.compressedUs(next);
      this.prevOffsetUs = next.offsetUs;
      this.emit(next, due, now);
      if (this.stateValue !== 'playing' || this.cursor !== cursor || this.timerSet) return; // a listener paused, stopped or sought
    }
  }

  private emit(event: E, scheduledAtMs: number, emittedAtMs: number): void {
    this.emitted++;
    this.firstSeq ??= event.seq;
    this.lastSeq = event.seq;
    const markers = markersOf(event);
    if (markers.length) this.markerLog.push(...markers);
    const emission: ReplayEmission<E> = {
      event,
      seq: event.seq,
      index: this.emitted,
      scheduledAtMs,
      emittedAtMs,
      latenessMs: emittedAtMs - scheduledAtMs,
      elapsedMs: emittedAtMs - this.startedAtMs,
      markers,
    };
    const onEvent = this.listeners.event;
    for (let i = 0; i < onEvent.length; i++) (onEvent[i] as (e: ReplayEmission<E>) => void)(emission);
    for (const m of markers) for (const fn of this.listeners.marker) fn(m);
  }

  private finish(stopped: boolean): void {
    const summary: ReplaySummary = {
      emitted: this.emitted,
      markers: [...this.markerLog],
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      wallMs: this.clock.now() - this.startedAtMs,
      speed: this.speedValue,
      stopped,
    };
    for (const fn of this.listeners.end) fn(summary);
    this.resolveDone(summary);
  }

  private fail(e: unknown): void {
    if (this.stateValue === 'ended' || this.stateValue === 'stopped' || this.stateValue === 'failed') return;
    this.cancelTimer();
    this.stateValue = 'failed';
    this.cursor = null;
    for (const fn of this.listeners.error) fn(e);
    this.rejectDone(e);
  }
}

function validateTarget(target: SeekTarget): void {
  if ('seq' in target) {
    if (!Number.isInteger(target.seq) || target.seq < 1) throw new ReplayError(ReplayErrorCode.InvalidOption, `seek seq must be an integer ≥ 1 (got ${String(target.seq)})`);
  } else if (!Number.isSafeInteger(target.offsetUs) || target.offsetUs < 0) {
    throw new ReplayError(ReplayErrorCode.InvalidOption, `seek offsetUs must be an integer ≥ 0 (got ${String(target.offsetUs)})`);
  }
}
