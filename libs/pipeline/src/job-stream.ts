import { EventStore, EventStoreError, EventStoreErrorCode, NewEvent } from '@rewind/event-store';
import { uuidFrom } from '@rewind/recorder';
import type { RunPayload } from './types';

/**
 * The events of one pipeline job (every attempt's request, response and result), as a stream of its own:
 * the run's streams may already be sealed when the job runs, and one writer per stream keeps `seq`
 * simple. Its id derives from the job id; `platform_session_id` and `metadata.runSessionId` link it to the
 * run. A re-run of the job (retry, take-over after a crash) continues it from the stored head.
 */
export class JobStream {
  readonly sessionId: string;
  private opened = false;
  private startedAtUs = 0;
  private head: { seq: number; offsetUs: number } | null = null;

  constructor(
    private readonly store: EventStore,
    readonly jobId: string,
    private readonly queue: string,
    private readonly run: RunPayload,
  ) {
    this.sessionId = uuidFrom(`rewind-pipeline:${jobId}`);
  }

  /** Appends one event after the stored head (retrying if another writer moved the head meanwhile). */
  async append(e: Pick<NewEvent, 'kind' | 'direction' | 'channel' | 'format' | 'body'> & Partial<Pick<NewEvent, 'msgType' | 'requestId' | 'meta'>>): Promise<number> {
    if (!this.opened) {
      const s = await this.store.openSession({
        id: this.sessionId,
        platform: this.run.platform,
        game: this.run.game ?? null,
        platformSessionId: this.run.platformSessionId ?? null,
        agent: this.run.agent ?? null,
        source: this.run.source ?? null,
        startedAt: new Date(),
        metadata: { stream: 'pipeline', capturedBy: 'pipeline', queue: this.queue, jobId: this.jobId, runSessionId: this.run.sessionId },
      });
      this.startedAtUs = s.startedAt.getTime() * 1000;
      this.opened = true;
    }
    for (let attempt = 0; ; attempt++) {
      // The head is read once and then kept (one writer per job); it is read again only after a conflict.
      this.head ??= await this.readHead();
      const nowUs = Date.now() * 1000;
      const seq = this.head.seq + 1;
      const offsetUs = Math.max(this.head.offsetUs, nowUs - this.startedAtUs);
      try {
        await this.store.append([{ ...e, sessionId: this.sessionId, seq, recordedAtUs: nowUs, offsetUs, msgType: e.msgType ?? null, requestId: e.requestId ?? null, meta: e.meta ?? null }]);
        this.head = { seq, offsetUs };
        return seq;
      } catch (err) {
        this.head = null;
        const raced = err instanceof EventStoreError && (err.code === EventStoreErrorCode.DuplicateConflict || err.code === EventStoreErrorCode.SeqGap);
        if (!raced || attempt >= 5) throw err;
      }
    }
  }

  private async readHead(): Promise<{ seq: number; offsetUs: number }> {
    const session = await this.store.getSession(this.sessionId);
    let offsetUs = 0;
    if (session && session.headSeq > 0) for await (const last of this.store.readSession(this.sessionId, { fromSeq: session.headSeq, toSeq: session.headSeq })) offsetUs = last.offsetUs;
    return { seq: session?.headSeq ?? 0, offsetUs };
  }

  async end(result: unknown): Promise<void> {
    await this.store.endSession(this.sessionId, new Date(), result);
  }
}
