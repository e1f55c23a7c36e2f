import type { IngestItem } from './types';

/**
 * The Ingest's batching: the items recorded and not yet written, in record order (each numbered by its
 * `ordinal`), and the batch being written (`inflight`). A batch holds at most `batchSize` events, plus the
 * non-event items right after its last event (the end and seal after a run's outcome event commit with it).
 * Synchronous and storage-free: the Ingest decides when a batch goes to the store or to the journal.
 */
export class Batcher {
  private buffer: IngestItem[] = [];
  /** Events in `buffer` (not counting the batch in flight). */
  private events = 0;
  private current: IngestItem[] | null = null;
  private ordinal = 0;

  constructor(readonly batchSize: number) {}

  /** The next item's ordinal (record order, from 1 or after `continueAfter`). */
  nextOrdinal(): number {
    return ++this.ordinal;
  }

  /** The ordinal given last (0 before any). */
  get lastOrdinal(): number {
    return this.ordinal;
  }

  /** Ordinals continue after `ordinal` (the highest of a journal left by an earlier process). */
  continueAfter(ordinal: number): void {
    this.ordinal = Math.max(this.ordinal, ordinal);
  }

  /** Queues an item at the end. */
  push(item: IngestItem): void {
    this.buffer.push(item);
    if (item.type === 'event') this.events++;
  }

  /** Items waiting (not counting the batch in flight). */
  get length(): number {
    return this.buffer.length;
  }

  /** Events waiting (not counting the batch in flight). */
  get bufferedEvents(): number {
    return this.events;
  }

  /** The batch being written, if any (its items are not durable yet). */
  get inflight(): IngestItem[] | null {
    return this.current;
  }

  /** Takes the next batch off the queue and marks it in flight until `settle()`. */
  takeBatch(): IngestItem[] {
    const buffer = this.buffer;
    let events = 0;
    let n = 0;
    while (n < buffer.length && events < this.batchSize) {
      if ((buffer[n] as IngestItem).type === 'event') events++;
      n++;
    }
    // The end (and seal) right after a run's outcome event commit with it, never in the next batch.
    while (n < buffer.length && (buffer[n] as IngestItem).type !== 'event') n++;
    this.events -= events;
    this.current = buffer.splice(0, n);
    return this.current;
  }

  /** The batch in flight is written (to the store or the journal) or back in the queue. */
  settle(): void {
    this.current = null;
  }

  /** Takes every waiting item (a spill, or the buffer journaled during an outage). */
  takeAll(): IngestItem[] {
    this.events = 0;
    return this.buffer.splice(0);
  }

  /** Puts items taken earlier back at the head of the queue, in their order (the journal refused them). */
  putBack(items: IngestItem[]): void {
    this.buffer.unshift(...items);
    for (const i of items) if (i.type === 'event') this.events++;
  }

  /** The smallest ordinal waiting or in flight; undefined when there is none. */
  minOrdinal(): number | undefined {
    const a = this.buffer[0]?.ordinal;
    const b = this.current?.[0]?.ordinal;
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
  }

  /** Wall clock (µs) of the oldest event waiting or in flight; null when there is none. */
  oldestEventWallUs(): number | null {
    const a = firstEventWallUs(this.current ?? []);
    const b = firstEventWallUs(this.buffer);
    return a === null ? b : b === null ? a : Math.min(a, b);
  }

  /** Events waiting or in flight. */
  eventsHeld(): number {
    let n = this.events;
    if (this.current) for (const i of this.current) if (i.type === 'event') n++;
    return n;
  }

  /**
   * Cuts items read back from the journal into batches of at most `batchSize` events, each with the non-event
   * items after its last event.
   */
  *chunks(items: IngestItem[]): Generator<IngestItem[]> {
    let chunk: IngestItem[] = [];
    let events = 0;
    for (const item of items) {
      if (item.type === 'event' && events >= this.batchSize) {
        // Cut before the next event, so the ends and seals after a full chunk's last event stay with it.
        yield chunk;
        chunk = [];
        events = 0;
      }
      chunk.push(item);
      if (item.type === 'event') events++;
    }
    if (chunk.length > 0) yield chunk;
  }
}

function firstEventWallUs(items: IngestItem[]): number | null {
  for (const i of items) if (i.type === 'event') return i.event.recordedAtUs;
  return null;
}
