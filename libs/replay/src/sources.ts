import type { EventStore, ReadSessionOptions, StoredEvent } from '@rewind/event-store';
import { ReplayableEvent, ReplayError, ReplayErrorCode, SeekTarget, EventSource } from './types';

/** Counters of what a source read: lets tests prove a seek did not read from the start. */
export interface SourceStats {
  opens: number;
  pagesRead: number;
  eventsRead: number;
  /** The seq of the first event of the latest open (null before any event was read). */
  firstSeqOfLastOpen: number | null;
}

export interface CountingSource<E extends ReplayableEvent> extends EventSource<E> {
  readonly stats: SourceStats;
}

const freshStats = (): SourceStats => ({ opens: 0, pagesRead: 0, eventsRead: 0, firstSeqOfLastOpen: null });

/** An in-memory source (tests, previews): events sorted by seq, served `pageSize` at a time. */
export function memorySource<E extends ReplayableEvent>(events: readonly E[], pageSize = 100): CountingSource<E> {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  const stats = freshStats();
  return {
    stats,
    open(from?: SeekTarget): AsyncIterator<E[]> {
      stats.opens++;
      stats.firstSeqOfLastOpen = null;
      let i = from === undefined ? 0 : lowerBound(sorted, from);
      return (async function* () {
        while (i < sorted.length) {
          const page = sorted.slice(i, i + pageSize);
          i += page.length;
          stats.pagesRead++;
          stats.eventsRead += page.length;
          stats.firstSeqOfLastOpen ??= (page[0] as E).seq;
          yield page;
        }
      })();
    },
    async last() {
      const e = sorted[sorted.length - 1];
      return e ? { seq: e.seq, offsetUs: e.offsetUs } : null;
    },
  };
}

function lowerBound(sorted: readonly ReplayableEvent[], target: SeekTarget): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const e = sorted[mid] as ReplayableEvent;
    const before = 'seq' in target ? e.seq < target.seq : e.offsetUs < target.offsetUs;
    if (before) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface StoreSourceOptions {
  /** Rows per round trip (default 500). */
  pageSize?: number;
  /** Rows of the first round trip after each open/seek (default 100): a seek only needs the first event. */
  firstPageSize?: number;
}

/**
 * A session of the event store as a replay source: keyset pages of `EventStore.readSession`, opened
 * from a seq (`fromSeq`) or an offset (`fromOffsetUs`, through the (session_id, offset_us) index).
 * The first open checks that the session exists (SESSION_NOT_FOUND otherwise).
 */
export function storeSource(store: EventStore, sessionId: string, options: StoreSourceOptions = {}): CountingSource<StoredEvent> {
  const pageSize = options.pageSize ?? 500;
  const firstPageSize = options.firstPageSize ?? 100;
  const stats = freshStats();
  let checked: Promise<void> | null = null;
  const ensureSession = (): Promise<void> =>
    (checked ??= store.getSession(sessionId).then((s) => {
      if (!s) {
        checked = null;
        throw new ReplayError(ReplayErrorCode.SessionNotFound, `session ${sessionId} not found`, { sessionId });
      }
    }));
  return {
    stats,
    open(from?: SeekTarget): AsyncIterator<StoredEvent[]> {
      stats.opens++;
      stats.firstSeqOfLastOpen = null;
      return (async function* () {
        await ensureSession();
        // The first page is small (a seek needs one event to play, fast); then full keyset pages from
        // the seq after it. Each batch below is exactly one round trip of readSession.
        let range: ReadSessionOptions = from === undefined ? {} : 'seq' in from ? { fromSeq: from.seq } : { fromOffsetUs: from.offsetUs };
        let size = Math.min(firstPageSize, pageSize);
        for (;;) {
          const rows = store.readSession(sessionId, { ...range, pageSize: size });
          const page: StoredEvent[] = [];
          try {
            while (page.length < size) {
              const r = await rows.next();
              if (r.done) break;
              page.push(r.value);
            }
          } finally {
            await rows.return(undefined);
          }
          stats.pagesRead++;
          if (page.length === 0) return;
          stats.eventsRead += page.length;
          stats.firstSeqOfLastOpen ??= (page[0] as StoredEvent).seq;
          yield page;
          if (page.length < size) return;
          range = { fromSeq: (page[page.length - 1] as StoredEvent).seq + 1 };
          size = pageSize;
        }
      })();
    },
    async last() {
      await ensureSession();
      const session = await store.getSession(sessionId);
      if (!session || session.headSeq < 1) return null;
      for await (const e of store.readSession(sessionId, { fromSeq: session.headSeq, pageSize: 1 })) return { seq: e.seq, offsetUs: e.offsetUs };
      return null;
    },
  };
}
