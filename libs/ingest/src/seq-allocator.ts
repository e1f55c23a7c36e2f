import { monotonicNs } from './clock';
import type { JournalScan } from './journal';
import type { OpenSessionOptions } from './types';

/**
 * Where one stream's numbering stands in this writer: the seq its next event gets, and its offset clock (µs since
 * the capture start, never decreasing). A class with two methods rather than a closure, so that `record`
 * allocates nothing for it.
 */
export class SessionClock {
  constructor(
    /** The seq the next event gets. */
    public nextSeq: number,
    public lastOffsetUs: number,
    /** Offset at `startNs` (non-zero when a stream is continued by this process). */
    public baseOffsetUs: number,
    public startNs: bigint,
  ) {}

  /** The offset of an event observed at `atNs` (monotonic ns): µs since the capture start, never below the last one. */
  offsetAt(atNs: bigint): number {
    const elapsedUs = Number((atNs - this.startNs) / 1000n);
    return Math.max(this.lastOffsetUs, this.baseOffsetUs + elapsedUs);
  }

  /** Consumes the next seq for an event at `offsetUs` (from `offsetAt`, once the event is known valid) and returns it. */
  advance(offsetUs: number): number {
    this.lastOffsetUs = offsetUs;
    return this.nextSeq++;
  }
}

/**
 * The Ingest's seq allocation: one `SessionClock` per stream this writer writes. `record` consumes a seq
 * synchronously, so the numbering never waits on storage; a stream is continued from a journal left by an
 * earlier process (`restore`), from a stored head (`open` with `resumeFrom`), or started at seq 1.
 */
export class SeqAllocator {
  private readonly clocks = new Map<string, SessionClock>();

  /** The streams of a journal left by an earlier process: their counters continue after its last items. */
  restore(sessions: JournalScan['sessions'], nowNs: bigint = monotonicNs()): void {
    for (const [id, s] of sessions) this.clocks.set(id, new SessionClock(s.lastSeq + 1, s.lastOffsetUs, s.lastOffsetUs, nowNs));
  }

  /**
   * Declares a stream. A stream not held yet starts at seq 1, or after `resumeFrom` (a stored head). A stream
   * already held keeps its counters, unless `resumeFrom` is ahead of them (the store moved on): then it
   * continues after it, its offsets counting on from its last one as of `startNs`.
   */
  open(sessionId: string, options: OpenSessionOptions = {}): void {
    const known = this.clocks.get(sessionId);
    const from = options.resumeFrom;
    if (!known) {
      this.clocks.set(sessionId, new SessionClock((from?.seq ?? 0) + 1, from?.offsetUs ?? 0, from?.offsetUs ?? 0, options.startNs ?? monotonicNs()));
    } else if (from && from.seq >= known.nextSeq) {
      known.nextSeq = from.seq + 1;
      known.lastOffsetUs = Math.max(known.lastOffsetUs, from.offsetUs);
      known.baseOffsetUs = known.lastOffsetUs;
      known.startNs = options.startNs ?? monotonicNs();
    }
  }

  /** The stream's clock; undefined when this writer does not hold it (never opened, sealed or given up). */
  get(sessionId: string): SessionClock | undefined {
    return this.clocks.get(sessionId);
  }

  has(sessionId: string): boolean {
    return this.clocks.has(sessionId);
  }

  /** This writer stops numbering the stream (sealed, or the store's head is the truth again). */
  forget(sessionId: string): void {
    this.clocks.delete(sessionId);
  }
}
