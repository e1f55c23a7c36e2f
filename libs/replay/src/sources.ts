import type { EventStore, ReadSessionOptions, ReplayRow, StoredEvent } from '@rewind/event-store';
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
  /**
   * Rows of the first round trip of an open at a target (a seek, or a start at `fromSeq`/`from`; default
   * `firstPageSize`): the first event plays as soon as it is there, the next page is read while it plays.
   */
  seekPageSize?: number;
  /**
   * The caller has just read the session and knows it exists (the replay gateway looks it up to authorise the
   * socket): the first open does not read it again. Default false: the first open checks it (SESSION_NOT_FOUND).
   */
  sessionKnown?: boolean;
}

type PageStart = { afterSeq: number } | { fromOffsetUs: number };

/**
 * A session of the event store as a replay source: keyset pages of `EventStore.readSession`, opened
 * from a seq (`fromSeq`) or an offset (`fromOffsetUs`, through the (session_id, offset_us) index).
 * The first open checks that the session exists (SESSION_NOT_FOUND otherwise).
 */
export function storeSource(store: EventStore, sessionId: string, options: StoreSourceOptions = {}): CountingSource<StoredEvent> {
  return pagedStoreSource(store, sessionId, options, async (start, size) => {
    const range: ReadSessionOptions = 'afterSeq' in start ? { fromSeq: start.afterSeq + 1 } : { fromOffsetUs: start.fromOffsetUs };
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
    return page;
  });
}

/**
 * Like `storeSource`, with lean rows (`EventStore.readReplayPage`: no hash, positions or recorded time to
 * parse and keep): what the replay gateway streams. Each page is one round trip, a seek's included.
 */
export function replayRowSource(store: EventStore, sessionId: string, options: StoreSourceOptions = {}): CountingSource<ReplayRow> {
  return pagedStoreSource(store, sessionId, options, (start, size) => store.readReplayPage(sessionId, start, size));
}

function pagedStoreSource<E extends ReplayableEvent>(
  store: EventStore,
  sessionId: string,
  options: StoreSourceOptions,
  fetchPage: (start: PageStart, size: number) => Promise<E[]>,
): CountingSource<E> {
  const pageSize = options.pageSize ?? 500;
  const firstPageSize = options.firstPageSize ?? 100;
  const seekPageSize = options.seekPageSize ?? firstPageSize;
  const stats = freshStats();
  let checked: Promise<void> | null = options.sessionKnown ? Promise.resolve() : null;
  const ensureSession = (): Promise<void> =>
    (checked ??= store.getSession(sessionId).then((s) => {
      if (!s) {
        checked = null;
        throw new ReplayError(ReplayErrorCode.SessionNotFound, `session ${sessionId} not found`, { sessionId });
      }
    }));
  return {
    stats,
    open(from?: SeekTarget): AsyncIterator<E[]> {
      stats.opens++;
      stats.firstSeqOfLastOpen = null;
      return (async function* () {
        await ensureSession();
        // The first page is small (a seek needs one event to play, fast); then full keyset pages from the
        // seq after it. Each fetchPage is one round trip.
        let start: PageStart = from === undefined ? { afterSeq: 0 } : 'seq' in from ? { afterSeq: from.seq - 1 } : { fromOffsetUs: from.offsetUs };
        let size = Math.min(from === undefined ? firstPageSize : seekPageSize, pageSize);
        for (;;) {
          const page = await fetchPage(start, size);
          stats.pagesRead++;
          if (page.length === 0) return;
          stats.eventsRead += page.length;
          stats.firstSeqOfLastOpen ??= (page[0] as E).seq;
          yield page;
          if (page.length < size) return;
          start = { afterSeq: (page[page.length - 1] as E).seq };
          size = pageSize;
        }
      })();
    },
    async last() {
      // One read of the session: it says whether it exists (as ensureSession would) and where its head is.
      const session = await store.getSession(sessionId);
      if (!session) throw new ReplayError(ReplayErrorCode.SessionNotFound, `session ${sessionId} not found`, { sessionId });
      if (session.headSeq < 1) return null;
      const [e] = await fetchPage({ afterSeq: session.headSeq - 1 }, 1);
      return e ? { seq: e.seq, offsetUs: e.offsetUs } : null;
    },
  };
}

export interface FollowOptions {
  /** How often to look for new events once the stored ones are played (default 250 ms). */
  pollMs?: number;
  /** Stops following (the viewer went away). */
  signal?: AbortSignal;
}

const pause = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Follows a session that is still being recorded: once the stored events are played and `isOpen()` still
 * says so, it looks again every `pollMs` from the next seq, so a live run plays as it is recorded. It ends
 * when the session is no longer open and nothing more is stored, or when `signal` aborts.
 */
export function followSource<E extends ReplayableEvent>(inner: EventSource<E>, isOpen: () => Promise<boolean>, options: FollowOptions = {}): EventSource<E> {
  const pollMs = options.pollMs ?? 250;
  const signal = options.signal;
  return {
    ...(inner.last ? { last: () => (inner.last as NonNullable<EventSource<E>['last']>)() } : {}),
    open(from?: SeekTarget): AsyncIterator<E[]> {
      return (async function* () {
        let lastSeq: number | null = null;
        let pages = inner.open(from);
        for (;;) {
          for (let r = await pages.next(); !r.done; r = await pages.next()) {
            if (r.value.length > 0) lastSeq = (r.value[r.value.length - 1] as E).seq;
            yield r.value;
          }
          // The stored events are played: wait for more while the session is open.
          for (;;) {
            if (signal?.aborted) return;
            const open = await isOpen();
            pages = inner.open(lastSeq === null ? from : { seq: lastSeq + 1 });
            const r = await pages.next();
            if (!r.done && r.value.length > 0) {
              lastSeq = (r.value[r.value.length - 1] as E).seq;
              yield r.value;
              break; // read on from this new page
            }
            if (!open) return;
            await pause(pollMs, signal);
          }
        }
      })();
    },
  };
}
