import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { backoff, type Backoff } from '@rewind/backoff';
import { describe } from './errors';
import { Journal, JournalScan, SegmentInfo } from './journal';
import { WriteAheadLog } from './write-ahead';
import type { IngestItem, IngestLogger } from './types';

export interface OutageJournalOptions {
  /** Where the journal lives (created if missing); the write-ahead log is its `wal/` folder. */
  dir: string;
  /** Log every item ahead (see `WriteAheadLog`). */
  writeAhead: boolean;
  log: IngestLogger;
  /** First retry delay after the store became unreachable; doubles up to `maxRetryDelayMs` (default 250 / 5000 ms). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** While the store is down, the buffer is journaled at least this often (default 1000 ms). */
  outageJournalIntervalMs?: number;
}

/**
 * The Ingest's durability outside Postgres: the outage journal (fsynced segments, drained in record order once
 * the store is back), the write-ahead log in front of it (every item, before `record` returns), and the outage
 * itself — whether the store is reachable, and when to try it again (Rewind's one back-off policy, doubling
 * per failure in a row, no jitter: one writer per directory). It does not talk to the store: the Ingest tells
 * it `failed` and `recovered`.
 */
export class OutageJournal {
  private readonly journal: Journal;
  private readonly wal: WriteAheadLog | null;
  private readonly log: IngestLogger;
  private readonly retryDelay: Backoff;
  private readonly maxRetryDelayMs: number;
  private readonly intervalMs: number;
  private outage = false;
  /** Failures of the store in a row (0 while it is reachable). */
  private failures = 0;
  private nextRetryAt = 0;
  private lastJournaledAt = 0;

  constructor(o: OutageJournalOptions) {
    this.log = o.log;
    this.journal = new Journal(o.dir);
    this.wal = o.writeAhead ? new WriteAheadLog(join(o.dir, 'wal'), o.log) : null;
    const baseMs = Math.max(1, o.retryDelayMs ?? 250);
    this.maxRetryDelayMs = Math.max(baseMs, o.maxRetryDelayMs ?? 5000);
    this.retryDelay = backoff({ baseMs, maxMs: this.maxRetryDelayMs });
    this.intervalMs = o.outageJournalIntervalMs ?? 1000;
  }

  get dir(): string {
    return this.journal.dir;
  }

  get rejectedDir(): string {
    return this.journal.rejectedDir;
  }

  /**
   * Takes over what an earlier process left: its write-ahead log becomes a journal segment first, then the
   * journal is indexed (its streams' counters and highest ordinal are returned, for the Ingest to continue from).
   */
  async recover(): Promise<JournalScan> {
    if (this.wal) {
      // What a dead predecessor logged ahead becomes a journal segment first (drained like any other).
      await mkdir(this.journal.dir, { recursive: true });
      const left = await this.wal.recover((items) => this.journal.write(items));
      if (left.items > 0) this.log.info(`the write-ahead log of an earlier process held ${left.items} items (${left.files} files): journaled, draining them first`);
    }
    return this.journal.init();
  }

  // ——— the write-ahead log ———

  /** Logs one item ahead (a synchronous write to the page cache; nothing without a write-ahead log). */
  writeAhead(item: IngestItem): void {
    this.wal?.append(item);
  }

  /** Writes the write-ahead log's pending lines of this turn now (see `WriteAheadLog.flush`). */
  flushWriteAhead(): void {
    this.wal?.flush();
  }

  /** Everything below `minNotDurable` is in Postgres or the journal: the write-ahead log lets go of it. */
  release(minNotDurable: number): void {
    this.wal?.release(minNotDurable);
  }

  get walBytes(): number {
    return this.wal?.bytes ?? 0;
  }

  /** Stops the write-ahead log; `durable`: everything it held is in Postgres or the journal (its files go). */
  close(durable: boolean): void {
    this.wal?.close(durable);
  }

  // ——— the outage ———

  /** True while the store is unreachable. */
  get inOutage(): boolean {
    return this.outage;
  }

  /** When the journal may be tried against the store again (ms since the epoch; 0: at once). */
  get retryAt(): number {
    return this.nextRetryAt;
  }

  /** The store failed (again): waits the next back-off delay before it is tried again. */
  failed(e: unknown, now: number = Date.now()): void {
    if (!this.outage) this.log.warn(`the event store is unreachable (${describe(e)}): journaling to ${this.journal.dir} and retrying`);
    this.outage = true;
    this.failures++;
    this.nextRetryAt = now + this.retryDelay(this.failures);
  }

  /** The store took a batch: the outage (if any) is over, the back-off starts afresh. */
  recovered(): void {
    if (this.outage) this.log.info('the event store is reachable again');
    this.outage = false;
    this.failures = 0;
  }

  /** The journal's disk refused: try again after the delay the next failure would wait. */
  deferRetry(now: number = Date.now()): void {
    this.nextRetryAt = now + this.retryDelay(this.failures + 1);
  }

  /** A journal segment cannot be read (a damaged disk or segment, not an outage): try again after the longest delay. */
  deferRetryLong(now: number = Date.now()): void {
    this.nextRetryAt = now + this.maxRetryDelayMs;
  }

  /**
   * During an outage, whether the buffer is due to be journaled now: when `pressing` (a flush waits, or a
   * batch is full) or `outageJournalIntervalMs` after the last time. Call `journaled` when it is.
   */
  journalDue(pressing: boolean, now: number = Date.now()): boolean {
    return pressing || now - this.lastJournaledAt >= this.intervalMs;
  }

  journaled(now: number = Date.now()): void {
    this.lastJournaledAt = now;
  }

  // ——— the journal ———

  /** Writes the items as one durable segment (queued behind earlier writes). Rejects if the disk refuses. */
  write(items: IngestItem[]): Promise<void> {
    return this.journal.write(items);
  }

  /** Keeps items the store refused, per session, in `rejected/`. */
  reject(sessionId: string | null, items: IngestItem[]): Promise<void> {
    return this.journal.reject(sessionId, items);
  }

  /** Finished segments in drain order. */
  segments(): SegmentInfo[] {
    return this.journal.list();
  }

  read(segment: string): Promise<IngestItem[]> {
    return this.journal.read(segment);
  }

  /** The segment is in the store: deleted. */
  drained(segment: string): Promise<void> {
    return this.journal.remove(segment);
  }

  /** Resolves when every write handed over so far has finished. */
  idle(): Promise<void> {
    return this.journal.idle();
  }

  get isEmpty(): boolean {
    return this.journal.isEmpty;
  }

  /** Events in the journal, written or being written. */
  get events(): number {
    return this.journal.events;
  }

  /** The smallest ordinal in the journal, written or being written (null if empty). */
  minOrdinal(): number | null {
    return this.journal.minOrdinal();
  }

  /** The smallest ordinal handed to the journal but not durable yet (null if none). */
  minPendingOrdinal(): number | null {
    return this.journal.minPendingOrdinal();
  }

  oldestWallUs(): number | null {
    return this.journal.oldestWallUs();
  }
}
