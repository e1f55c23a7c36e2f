import { EventStore, EventStoreError, EventStoreErrorCode, NewEvent, NewSession } from '@rewind/event-store';
import { uuidFrom } from '@rewind/recorder';
import type { RunPayload } from './types';

/** An event of the job, as the job states it (the stream numbers and times it). */
export type JobEvent = Pick<NewEvent, 'kind' | 'direction' | 'channel' | 'format' | 'body'> & Partial<Pick<NewEvent, 'msgType' | 'requestId' | 'meta'>>;

interface Head {
  /** False until the stream's session row exists (the first write opens it in the same transaction). */
  exists: boolean;
  startedAtUs: number;
  seq: number;
  offsetUs: number;
}

/**
 * The events of one pipeline job (every attempt's request, response and result), as a stream of its own:
 * the run's streams may already be sealed when the job runs, and one writer per stream keeps `seq`
 * simple. Its id derives from the job id; `platform_session_id` and `metadata.runSessionId` link it to the
 * run. A re-run of the job (retry, take-over after a crash) continues it from the stored head.
 *
 * Events are added in memory and stored by `flush`, all of them in one transaction (`EventStore.writeBatch`,
 * which also opens the stream and, with `end`, ends it): the job flushes before each call to the outside (so
 * what it did before a call is stored before the call is made) and once more with its result and end. A
 * handoff attempt is two transactions instead of one per event plus the open and the end; a job ended in the
 * same transaction as its result marker is never seen with its result but still open.
 */
export class JobStream {
  readonly sessionId: string;
  /**
   * Kept between flushes (one writer per job). Not read before the first flush: a job's first attempt finds no
   * stream, so the first flush opens one and writes from seq 1; a re-run (retry, take-over) whose stream exists
   * is refused by the store (that seq is taken by other events: a duplicate conflict) and reads the head then.
   */
  private head: Head | null = null;
  private pending: { e: JobEvent; recordedAtUs: number }[] = [];

  constructor(
    private readonly store: EventStore,
    readonly jobId: string,
    private readonly queue: string,
    private readonly run: RunPayload,
  ) {
    this.sessionId = uuidFrom(`rewind-pipeline:${jobId}`);
  }

  /** Adds one event, stored by the next `flush` (its recorded time is now). */
  add(e: JobEvent): void {
    this.pending.push({ e, recordedAtUs: Date.now() * 1000 });
  }

  /** Takes back an event added and not stored yet (no-op once it is stored). */
  retract(e: JobEvent): void {
    this.pending = this.pending.filter((p) => p.e !== e);
  }

  /** Adds one event and stores what is pending. */
  async append(e: JobEvent): Promise<void> {
    this.add(e);
    await this.flush();
  }

  /**
   * Stores the pending events after the stored head, in one transaction that opens the stream if it is new and,
   * with `end`, ends it (its `sessions.outcome` = `end.outcome`). Retried from a fresh head if another writer
   * moved it meanwhile.
   */
  async flush(end?: { outcome: unknown }): Promise<void> {
    if (this.pending.length === 0 && !end) return;
    const batch = this.pending;
    for (let attempt = 0; ; attempt++) {
      const head = (this.head ??= attempt === 0 ? this.newHead(batch[0]?.recordedAtUs ?? Date.now() * 1000) : await this.readHead());
      let seq = head.seq;
      let offsetUs = head.offsetUs;
      const events: NewEvent[] = batch.map(({ e, recordedAtUs }) => {
        seq++;
        offsetUs = Math.max(offsetUs, recordedAtUs - head.startedAtUs);
        return { ...e, sessionId: this.sessionId, seq, recordedAtUs, offsetUs, msgType: e.msgType ?? null, requestId: e.requestId ?? null, meta: e.meta ?? null };
      });
      try {
        await this.store.writeBatch({
          ...(head.exists ? {} : { opens: [this.newSession(head.startedAtUs)] }),
          events,
          ...(end ? { ends: [{ sessionId: this.sessionId, endedAt: new Date(), outcome: end.outcome }] } : {}),
        });
        this.head = { ...head, exists: true, seq, offsetUs };
        this.pending = this.pending.slice(batch.length);
        return;
      } catch (err) {
        this.head = null;
        const raced = err instanceof EventStoreError && (err.code === EventStoreErrorCode.DuplicateConflict || err.code === EventStoreErrorCode.SeqGap);
        if (!raced || attempt >= 5) throw err;
      }
    }
  }

  /** Stores what is pending and ends the stream with `result` as its outcome, in one transaction. */
  async end(result: unknown): Promise<void> {
    await this.flush({ outcome: result });
  }

  private newSession(startedAtUs: number): NewSession {
    return {
      id: this.sessionId,
      platform: this.run.platform,
      game: this.run.game ?? null,
      platformSessionId: this.run.platformSessionId ?? null,
      agent: this.run.agent ?? null,
      source: this.run.source ?? null,
      startedAt: new Date(Math.floor(startedAtUs / 1000)),
      metadata: { stream: 'pipeline', capturedBy: 'pipeline', queue: this.queue, jobId: this.jobId, runSessionId: this.run.sessionId },
    };
  }

  /** A new stream, starting at `startsAtUs` (its first event's time, in whole ms as the session row keeps it). */
  private newHead(startsAtUs: number): Head {
    return { exists: false, startedAtUs: Math.floor(startsAtUs / 1000) * 1000, seq: 0, offsetUs: 0 };
  }

  /** The stored head (a re-run continues the stream), or a new stream's if there is none. */
  private async readHead(): Promise<Head> {
    const session = await this.store.getSession(this.sessionId);
    if (!session) return this.newHead(this.pending[0]?.recordedAtUs ?? Date.now() * 1000);
    let offsetUs = 0;
    if (session.headSeq > 0) for await (const last of this.store.readSession(this.sessionId, { fromSeq: session.headSeq, toSeq: session.headSeq })) offsetUs = last.offsetUs;
    return { exists: true, startedAtUs: session.startedAt.getTime() * 1000, seq: session.headSeq, offsetUs };
  }
}
