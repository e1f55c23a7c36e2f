import { FastCounterChild, ingestSources, rewindMetrics } from '@rewind/observability';
import { BatchEnd, EventStore, EventStoreError, EventStoreErrorCode, NewEvent, NewOutboxMessage, NewSession, isUuid, validateEvent } from '@rewind/event-store';
import { Batcher } from './batcher';
import { monotonicNs, wallClockUs } from './clock';
import { describe, isStoreRefusal, refusedSession, withTimeout } from './errors';
import { OutageJournal } from './outage-journal';
import { Rehoming } from './rehoming';
import { SeqAllocator, SessionClock } from './seq-allocator';
import type { BatchWriter } from './writer-thread';
import { IngestItem, IngestLogger, IngestOptions, IngestStats, OpenSessionOptions, RecordInput, itemSession } from './types';

const consoleLog: IngestLogger = {
  info: (m) => console.info(`[ingest] ${m}`),
  warn: (m) => console.warn(`[ingest] ${m}`),
  error: (m) => console.error(`[ingest] ${m}`),
};

/**
 * The bounded, batching writer in front of the EventStore (one per process). `record` is synchronous and
 * never waits on storage: it assigns the session's next seq and its offset, queues the event and returns.
 * A background cycle appends batches (sessions opened first, in the same path); while Postgres is
 * unreachable, batches go to an on-disk journal and a drainer retries with backoff, replaying the journal
 * in record order before anything newer. See docs/capture/redaction-and-ingest.md.
 *
 * It composes four units, each in its own file: the seq allocation (`SeqAllocator`: each stream's next seq and
 * offset clock), the batching (`Batcher`: items in record order, cut into batches), the outage journal
 * (`OutageJournal`: the journal, the write-ahead log and the outage's back-off) and the re-homing (`Rehoming`:
 * a stream another writer continued meanwhile). What stays here is the write cycle that moves batches from
 * the one to the store or the other, the flush waiters, and the metrics.
 */
export class Ingest {
  private readonly store: EventStore;
  private readonly writer: BatchWriter;
  private readonly journal: OutageJournal;
  private readonly log: IngestLogger;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxBufferedEvents: number;
  private readonly storeTimeoutMs: number;

  private readonly seqs = new SeqAllocator();
  private readonly batcher: Batcher;
  private readonly rehoming: Rehoming;
  private readonly refused = new Set<string>();
  private waiters: { target: number; resolve: () => void }[] = [];

  private started = false;
  private closed = false;
  private running: Promise<void> | null = null;
  private rerun = false;
  /** When the last batch went to the store: the next waits for company until `flushIntervalMs` after it (see `paceMs`). */
  private batchStartedAt = 0;
  /** The cycle left items for the pace (`paceMs`): the run's end schedules them. */
  private paced = false;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = 0;

  private readonly counters = { appended: 0, duplicates: 0, rejected: 0, appendCalls: 0 };
  /** Per session: its platform and the `rewind_events_stored_total` children by channel, bound on first use. */
  private readonly stored = new Map<string, { platform: string; byChannel: Partial<Record<NewEvent['channel'], FastCounterChild>> }>();
  private unregisterMetrics: (() => void) | null = null;

  constructor(options: IngestOptions) {
    this.store = options.store;
    this.writer = options.writer ?? options.store;
    this.log = options.log ?? consoleLog;
    this.journal = new OutageJournal({
      dir: options.journalDir,
      writeAhead: options.writeAhead ?? false,
      log: this.log,
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
      ...(options.maxRetryDelayMs !== undefined ? { maxRetryDelayMs: options.maxRetryDelayMs } : {}),
      ...(options.outageJournalIntervalMs !== undefined ? { outageJournalIntervalMs: options.outageJournalIntervalMs } : {}),
    });
    this.rehoming = new Rehoming(this.log, options.writerToken);
    this.batchSize = Math.max(1, options.batchSize ?? 2000);
    this.batcher = new Batcher(this.batchSize);
    this.flushIntervalMs = Math.max(0, options.flushIntervalMs ?? 20);
    this.maxBufferedEvents = Math.max(1, options.maxBufferedEvents ?? 50_000);
    this.storeTimeoutMs = options.storeTimeoutMs ?? 10_000;
  }

  /** An Ingest, started (see `start`). */
  static async open(options: IngestOptions): Promise<Ingest> {
    const ingest = new Ingest(options);
    await ingest.start();
    return ingest;
  }

  /**
   * Indexes the journal left by an earlier run (its sessions' seq counters continue from it) and starts
   * draining it. Works while Postgres is down. Call once, before `openSession` / `record`.
   */
  async start(): Promise<void> {
    if (this.started) return;
    const scan = await this.journal.recover();
    this.batcher.continueAfter(scan.maxOrdinal);
    this.seqs.restore(scan.sessions, monotonicNs());
    if (scan.events > 0) this.log.info(`the journal holds ${scan.events} events of ${scan.sessions.size} sessions from an earlier run: draining them first`);
    // The process that recorded them is gone: whatever of its items gets re-homed (another writer continued a
    // stream meanwhile) is a finished fragment, sealed after them; this process resumes a stream afresh.
    for (const id of scan.sessions.keys()) this.batcher.push({ ordinal: this.batcher.nextOrdinal(), type: 'release', sessionId: id });
    this.started = true;
    // Read at scrape time (rewind_ingest_*, rewind_wal_bytes): nothing is counted per event for these.
    this.unregisterMetrics = ingestSources.add({ lagMs: () => this.stats().lagMs, buffered: () => this.stats().buffered, journaled: () => this.journal.events, walBytes: () => this.journal.walBytes });
    this.schedule(0);
  }

  /**
   * Declares a session: it is opened in the store (idempotently) before any of its events are appended.
   * Synchronous. A session known from the journal continues its counters; `resumeFrom` continues a stream
   * stored earlier (see `resumeSession`, which looks the head up).
   */
  openSession(session: NewSession, options: OpenSessionOptions = {}): void {
    this.assertOpen();
    if (!isUuid(session.id)) {
      throw new EventStoreError(EventStoreErrorCode.InvalidEvent, `session id must be a uuid (got ${JSON.stringify(session.id)})`);
    }
    if (!this.stored.has(session.id)) this.stored.set(session.id, { platform: session.platform, byChannel: {} });
    this.seqs.open(session.id, options);
    this.take({ ordinal: this.batcher.nextOrdinal(), type: 'open', session });
    this.schedule(this.flushIntervalMs);
  }

  /**
   * Continues a stream after a restart or a take-over: looks its head up in the store (needs Postgres) and
   * opens it so that the next seq follows the stored head. Returns the seq the next event will get.
   *
   * When this Ingest still holds items of the stream (from the journal of a dead predecessor, or an earlier
   * attempt of this process), they are written first — stored, or re-homed if another writer continued the
   * stream meanwhile — and released (a re-homed fragment is sealed), so the head read here is final and what
   * is recorded from now on continues the stream itself. Waits at most `storeTimeoutMs` for that and throws
   * if the store does not take them in time (an outage: the caller retries later).
   */
  async resumeSession(session: NewSession, options: Omit<OpenSessionOptions, 'resumeFrom'> = {}): Promise<number> {
    this.assertOpen();
    const held = this.seqs.has(session.id);
    if (held) {
      await this.storedThrough(this.batcher.lastOrdinal, this.storeTimeoutMs, `the earlier events of stream ${session.id}`);
      this.take({ ordinal: this.batcher.nextOrdinal(), type: 'release', sessionId: session.id });
      this.seqs.forget(session.id); // the store's head is the truth now
    }
    const stored = await this.store.getSession(session.id);
    let resumeFrom: OpenSessionOptions['resumeFrom'];
    if (stored && stored.headSeq > 0) {
      let offsetUs = 0;
      for await (const e of this.store.readSession(session.id, { fromSeq: stored.headSeq, toSeq: stored.headSeq })) offsetUs = e.offsetUs;
      resumeFrom = { seq: stored.headSeq, offsetUs };
    }
    this.openSession(session, resumeFrom ? { ...options, resumeFrom } : options);
    return (this.seqs.get(session.id) as SessionClock).nextSeq;
  }

  /**
   * Queues one event and returns its seq. Synchronous, never waits on storage. The offset is monotonic µs
   * since the session's capture start (never decreasing); recordedAtUs is the wall clock. Throws (and
   * consumes no seq) for an unknown session or an invalid event: those are bugs of the caller.
   */
  record(sessionId: string, input: RecordInput, options: { outbox?: NewOutboxMessage[] } = {}): number {
    this.assertOpen();
    const clock = this.seqs.get(sessionId);
    if (!clock) throw new Error(`session ${sessionId} was not opened in this Ingest (call openSession first)`);
    const offsetUs = clock.offsetAt(input.atNs ?? monotonicNs());
    const event: NewEvent = {
      sessionId,
      seq: clock.nextSeq,
      kind: input.kind,
      direction: input.direction,
      channel: input.channel,
      recordedAtUs: input.wallUs ?? wallClockUs(),
      offsetUs,
      format: input.format,
      body: input.body,
      msgType: input.msgType ?? null,
      tick: input.tick ?? null,
      requestId: input.requestId ?? null,
      meta: input.meta ?? null,
    };
    validateEvent(event, 0);
    clock.advance(offsetUs);
    const ordinal = this.batcher.nextOrdinal();
    // Nearly every event comes without outbox rows: its item is one literal, no spread of a conditional object.
    if (options.outbox === undefined || options.outbox.length === 0) this.take({ ordinal, type: 'event', event });
    else this.take({ ordinal, type: 'event', event, outbox: options.outbox.map((m) => ({ ...m, sessionId: m.sessionId ?? sessionId })) });
    const buffered = this.batcher.bufferedEvents;
    if (buffered > this.maxBufferedEvents) this.spill();
    else this.schedule(buffered >= this.batchSize ? 0 : this.flushIntervalMs);
    return event.seq;
  }

  /**
   * Marks the session ended (its run is over) once everything recorded before is appended; `outcome` is kept
   * on the session row. Later events may still be recorded until `sealSession`. Synchronous, queued in order.
   */
  endSession(sessionId: string, endedAt: Date, outcome?: unknown): void {
    this.assertOpen();
    if (!this.seqs.has(sessionId)) throw new Error(`session ${sessionId} was not opened in this Ingest (call openSession first)`);
    this.take({ ordinal: this.batcher.nextOrdinal(), type: 'end', sessionId, endedAt, ...(outcome !== undefined ? { outcome } : {}) });
    this.schedule(this.flushIntervalMs);
  }

  /**
   * Seals the session (head hash and count frozen) once everything recorded before is appended; this
   * Ingest forgets it, so a later `record` for it throws. Synchronous, queued in order.
   */
  sealSession(sessionId: string): void {
    this.assertOpen();
    if (!this.seqs.has(sessionId)) throw new Error(`session ${sessionId} was not opened in this Ingest (call openSession first)`);
    this.seqs.forget(sessionId);
    this.take({ ordinal: this.batcher.nextOrdinal(), type: 'seal', sessionId });
    this.schedule(this.flushIntervalMs);
  }

  /**
   * Writes the items of this event-loop turn to the write-ahead log now (one synchronous write to the page cache;
   * a no-op without a log or with nothing pending). The log otherwise writes a turn's items at the turn's end; a
   * caller that must know an item is in the log before it acts (the proxy, before relaying) calls this. Not
   * `flush`, which waits for durability in Postgres or the journal.
   */
  flushWriteAhead(): void {
    this.journal.flushWriteAhead();
  }

  /** Resolves when everything recorded so far is durable: in Postgres or in the journal (fsynced). */
  flush(): Promise<void> {
    if (!this.started) return Promise.resolve();
    const target = this.batcher.lastOrdinal;
    return new Promise<void>((resolve) => {
      this.waiters.push({ target, resolve });
      this.checkWaiters();
      this.schedule(0);
    });
  }

  /**
   * This writer stops writing the stream for now (a capture task that stopped without ending its run; a later
   * attempt resumes it with `resumeSession`). Nothing is written for it; but if this writer's items of the
   * stream were re-homed (another writer continued it meanwhile), the re-homed stream is complete: it is
   * sealed after them. Synchronous, queued in order. A stream this Ingest does not know is ignored.
   */
  releaseSession(sessionId: string): void {
    this.assertOpen();
    if (!this.seqs.has(sessionId)) return;
    this.take({ ordinal: this.batcher.nextOrdinal(), type: 'release', sessionId });
    this.schedule(this.flushIntervalMs);
  }

  /**
   * Resolves when everything recorded so far is in Postgres (journal drained); rejects after `timeoutMs`.
   * For tests, tools and orderly shutdowns that must not leave a journal behind.
   */
  async waitUntilStored(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.flush();
    while (this.batcher.length > 0 || this.batcher.inflight || !this.journal.isEmpty || this.running) {
      if (Date.now() > deadline) throw new Error(`events still not stored after ${timeoutMs} ms (${JSON.stringify(this.stats())})`);
      this.schedule(Math.max(0, Math.min(this.flushIntervalMs, this.journal.retryAt - Date.now())));
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Makes everything durable (Postgres or journal) and stops. A non-empty journal is drained by the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    await this.journal.idle();
    this.unregisterMetrics?.();
    // Everything recorded is in Postgres or the journal by now: the write-ahead log has nothing left to keep.
    this.journal.close(this.minNotDurable() === Number.MAX_SAFE_INTEGER);
  }

  stats(): IngestStats {
    const oldest = [this.batcher.oldestEventWallUs(), this.journal.oldestWallUs()].filter((v): v is number => v !== null);
    return {
      buffered: this.batcher.eventsHeld(),
      journaled: this.journal.events,
      appended: this.counters.appended,
      duplicates: this.counters.duplicates,
      rejected: this.counters.rejected,
      rejectedSessions: [...this.refused],
      lagMs: oldest.length === 0 ? 0 : Math.max(0, Math.round((wallClockUs() - Math.min(...oldest)) / 1000)),
      outage: this.journal.inOutage,
      appendCalls: this.counters.appendCalls,
    };
  }

  // ——— the write cycle ———

  private async cycle(): Promise<void> {
    for (;;) {
      await this.journal.idle();
      if (!this.journal.isEmpty) {
        if (Date.now() >= this.journal.retryAt && (await this.drainJournal())) continue;
        // Still unreachable: keep memory bounded and honour flush() by journaling the buffer.
        if (this.batcher.length > 0 && this.journal.journalDue(this.waiters.length > 0 || this.batcher.bufferedEvents >= this.batchSize)) {
          this.journal.journaled();
          await this.toJournal(this.batcher.takeAll());
        }
        return;
      }
      if (this.batcher.length === 0) return;
      if (this.paceMs() > 0) {
        this.paced = true;
        return;
      }
      this.batchStartedAt = Date.now();
      const batch = this.batcher.takeBatch();
      try {
        await this.writeToStore(batch);
        this.journal.recovered();
      } catch (e) {
        this.journal.failed(e);
        this.journal.journaled();
        if (!(await this.toJournal(batch))) return;
      } finally {
        this.batcher.settle();
        this.checkWaiters();
      }
    }
  }

  /** Appends the journal's segments in order; false (and backoff) when the store is unreachable. */
  private async drainJournal(): Promise<boolean> {
    for (const segment of this.journal.segments()) {
      let items: IngestItem[];
      try {
        items = await this.journal.read(segment.name);
      } catch (e) {
        // Not an outage: the disk or the segment is damaged. Loud on every attempt; nothing is skipped.
        this.log.error(`cannot read journal segment ${segment.name} in ${this.journal.dir} (${describe(e)}); retrying`);
        this.journal.deferRetryLong();
        return false;
      }
      try {
        for (const chunk of this.batcher.chunks(items)) await this.writeToStore(chunk);
        await this.journal.drained(segment.name);
      } catch (e) {
        this.journal.failed(e);
        return false;
      }
      this.checkWaiters();
    }
    this.journal.recovered();
    return true;
  }

  /**
   * Writes the batch in ONE store transaction (`EventStore.writeBatch`: its sessions opened, its events and
   * outbox rows appended, its ends and seals applied, in that order), so the round trips per batch stay fixed
   * however many sessions it touches — under load the event loop's latency multiplies every round trip. Ends
   * and seals follow the events recorded before them (every event of the batch is in by then). A transient
   * failure throws (the caller journals the batch; items refused meanwhile are removed from it). A refusal
   * (EventStoreError) is a bug: logged loudly, that session's items kept in `rejected/`, the rest written.
   */
  private async writeToStore(batch: IngestItem[]): Promise<void> {
    this.rehoming.apply(batch);
    const alreadyRefused = new Set(batch.map(itemSession).filter((id) => this.refused.has(id)));
    for (const id of alreadyRefused) await this.refuse(id, null, batch);
    for (;;) {
      if (batch.length === 0) return;
      const events: NewEvent[] = [];
      const outbox: NewOutboxMessage[] = [];
      const opens: NewSession[] = [];
      const ends: BatchEnd[] = [];
      const seals: string[] = [];
      for (const i of batch) {
        if (i.type === 'event') {
          events.push(i.event);
          if (i.outbox) outbox.push(...i.outbox);
        } else if (i.type === 'open') opens.push(i.session);
        else if (i.type === 'end') ends.push({ sessionId: i.sessionId, endedAt: i.endedAt, ...(i.outcome !== undefined ? { outcome: i.outcome } : {}) });
        else if (i.type === 'seal') seals.push(i.sessionId);
        // a release writes nothing (see applyRehomes)
      }
      try {
        this.counters.appendCalls++;
        const result = await withTimeout(this.writer.writeBatch({ opens, events, outbox, ends, seals }), this.storeTimeoutMs, 'writeBatch');
        this.counters.appended += result.appended;
        this.counters.duplicates += result.duplicates;
        this.countStored(events, result.duplicates, opens, seals);
        return;
      } catch (e) {
        if (!isStoreRefusal(e)) throw e;
        const sessionId = refusedSession(e, events);
        if (sessionId !== null && this.rehoming.calledFor(sessionId, e) && (await this.rehome(sessionId, e, batch))) continue;
        await this.refuse(sessionId, e, batch, sessionId === null);
      }
    }
  }

  /** `rewind_events_stored_total` by platform and channel: one map lookup per event, no allocation. */
  private countStored(events: NewEvent[], duplicates: number, opens: NewSession[], seals: string[]): void {
    for (const o of opens) if (!this.stored.has(o.id)) this.stored.set(o.id, { platform: o.platform, byChannel: {} });
    for (const e of events) {
      let m = this.stored.get(e.sessionId);
      if (!m) this.stored.set(e.sessionId, (m = { platform: 'unknown', byChannel: {} }));
      (m.byChannel[e.channel] ??= rewindMetrics.eventsStored.labels(m.platform, e.channel)).inc();
    }
    if (duplicates > 0) rewindMetrics.ingestDuplicates.inc(duplicates);
    for (const id of seals) this.stored.delete(id);
  }

  /**
   * Another writer wrote this stream meanwhile: re-homes this writer's items of it (see `Rehoming`), once the
   * stream's row is read (the new home copies its platform, run and metadata). False when the stream cannot be
   * read (the batch is refused as before).
   */
  private async rehome(sessionId: string, e: EventStoreError, batch: IngestItem[]): Promise<boolean> {
    let original;
    try {
      original = await withTimeout(this.store.getSession(sessionId), this.storeTimeoutMs, 'getSession');
    } catch (err) {
      if (isStoreRefusal(err)) return false;
      throw err;
    }
    if (!original) return false;
    this.rehoming.begin(sessionId, original, e, batch);
    return true;
  }

  /** Waits until every item up to `ordinal` is in Postgres (stored, re-homed or set aside); throws after `timeoutMs`. */
  private async storedThrough(ordinal: number, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.minNotStored() <= ordinal) {
      if (Date.now() > deadline) throw new Error(`${what} are still not stored after ${timeoutMs} ms (the event store is ${this.journal.inOutage ? 'unreachable' : 'slow'}); try again later`);
      this.schedule(Math.max(0, Math.min(this.flushIntervalMs, this.journal.retryAt - Date.now())));
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Moves a refused session's items out of the batch into `rejected/`, loudly. */
  private async refuse(sessionId: string | null, e: EventStoreError | null, batch: IngestItem[], everything = false): Promise<void> {
    const mine = (i: IngestItem): boolean => everything || itemSession(i) === sessionId;
    const items = batch.filter(mine);
    await this.journal.reject(sessionId, items);
    const events = items.filter((i) => i.type === 'event').length;
    this.counters.rejected += events;
    if (e) {
      this.log.error(
        `BUG: the event store refused ${events} events of session ${sessionId ?? '(unknown)'} (${e.code}: ${e.message}); ` +
          `kept in ${this.journal.rejectedDir}; later events of this session are kept there too`,
      );
    }
    if (sessionId) this.refused.add(sessionId);
    const keep = batch.filter((i) => !mine(i));
    batch.length = 0;
    batch.push(...keep);
  }

  private async toJournal(items: IngestItem[]): Promise<boolean> {
    try {
      await this.journal.write(items);
      return true;
    } catch (e) {
      // The disk refused too: keep the items in memory, oldest first, and try again later.
      this.log.error(`cannot write the journal in ${this.journal.dir} (${describe(e)}): keeping ${items.length} items in memory`);
      this.batcher.putBack(items);
      this.journal.deferRetry();
      return false;
    } finally {
      this.checkWaiters();
    }
  }

  /** Memory bound reached: the whole buffer goes to the journal (drained in order before anything newer). */
  private spill(): void {
    const items = this.batcher.takeAll();
    this.journal.write(items).then(
      () => this.checkWaiters(),
      (e: unknown) => {
        this.log.error(`cannot spill to the journal in ${this.journal.dir} (${describe(e)}): keeping ${items.length} items in memory`);
        this.batcher.putBack(items);
      },
    );
    this.schedule(0);
  }

  // ——— scheduling and flush waiters ———

  private schedule(delayMs: number): void {
    if (this.closed || !this.started) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    const due = Date.now() + delayMs;
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.run(), delayMs);
    this.timer.unref();
  }

  /**
   * How long the next batch should still wait for company: under steady load a batch goes at most once per
   * `flushIntervalMs` (counted from the previous batch's start), not as soon as the previous one is done — a batch
   * taken the moment the last returned holds only what arrived during its round trips, a few events spread over
   * every open session, so the store's per-session work of a batch (each head locked, looked up and updated) was
   * paid for one or two events (docs/benchmarks.md, issue 18). An event still waits no longer than one arriving
   * when the Ingest is idle (`flushIntervalMs`) plus the batch in flight. No wait for a full batch, a `flush()`
   * waiter or a closing Ingest.
   */
  private paceMs(): number {
    if (this.waiters.length > 0 || this.closed || this.batcher.bufferedEvents >= this.batchSize) return 0;
    return Math.max(0, this.batchStartedAt + this.flushIntervalMs - Date.now());
  }

  private run(): void {
    this.timer = null;
    this.running = this.cycle()
      .catch((e: unknown) => this.log.error(`ingest cycle failed (${describe(e)}); retrying`))
      .finally(() => {
        this.running = null;
        this.checkWaiters();
        if (this.closed) return;
        const rerun = this.rerun;
        const paced = this.paced;
        this.rerun = false;
        this.paced = false;
        if (this.batcher.length > 0) this.schedule(this.journal.inOutage ? this.flushIntervalMs : paced || rerun ? this.paceMs() : this.flushIntervalMs);
        else if (!this.journal.isEmpty) this.schedule(Math.max(this.flushIntervalMs, this.journal.retryAt - Date.now()));
      });
  }

  /** The smallest ordinal not yet in Postgres (in memory, in flight or in the journal). */
  private minNotStored(): number {
    return Math.min(this.batcher.minOrdinal() ?? Number.MAX_SAFE_INTEGER, this.journal.minOrdinal() ?? Number.MAX_SAFE_INTEGER);
  }

  /** The smallest ordinal not yet durable (in memory, in flight or being written to the journal). */
  private minNotDurable(): number {
    return Math.min(this.batcher.minOrdinal() ?? Number.MAX_SAFE_INTEGER, this.journal.minPendingOrdinal() ?? Number.MAX_SAFE_INTEGER);
  }

  /** Queues an item, written ahead to the local log first when there is one (see `WriteAheadLog`). */
  private take(item: IngestItem): void {
    this.journal.writeAhead(item);
    this.batcher.push(item);
  }

  private checkWaiters(): void {
    const min = this.minNotDurable();
    this.journal.release(min);
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.target < min);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.target >= min);
    for (const w of ready) w.resolve();
  }

  private assertOpen(): void {
    if (!this.started) throw new Error('Ingest.start() has not completed');
    if (this.closed) throw new Error('this Ingest is closed');
  }
}
