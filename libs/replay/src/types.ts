import type { StoredEvent } from '@rewind/event-store';

/** What the replay engine needs of an event: its place (seq, offset) and kind; the rest is carried along. */
export type ReplayableEvent = Pick<StoredEvent, 'seq' | 'offsetUs' | 'kind'> & Partial<Pick<StoredEvent, 'direction' | 'channel' | 'format' | 'body' | 'msgType' | 'tick' | 'requestId' | 'meta'>>;

/** Where to start or jump to: the first event with this seq, or the first event at/after this offset. */
export type SeekTarget = { seq: number } | { offsetUs: number };

/**
 * A page of events held without an object per event (e.g. typed arrays and one buffer of bodies: the event store's
 * `ReplayPage`): the place of each event, and the event itself built only when it is played. A replay gateway buffers
 * a page ahead for each of hundreds of streams, and every object kept across young-generation collections lengthens
 * each scavenge's pause; an event built when it plays dies young.
 */
export interface EventPage<E> {
  readonly length: number;
  seqAt(i: number): number;
  offsetUsAt(i: number): number;
  /** Event i, built now. */
  at(i: number): E;
}

/** One step of an `EventSource`: an array of events, or an `EventPage`. */
export type EventBatch<E> = readonly E[] | EventPage<E>;

export function batchSeqAt<E extends ReplayableEvent>(batch: EventBatch<E>, i: number): number {
  return isEventArray(batch) ? (batch[i] as E).seq : batch.seqAt(i);
}

export function batchOffsetUsAt<E extends ReplayableEvent>(batch: EventBatch<E>, i: number): number {
  return isEventArray(batch) ? (batch[i] as E).offsetUs : batch.offsetUsAt(i);
}

export function batchAt<E extends ReplayableEvent>(batch: EventBatch<E>, i: number): E {
  return isEventArray(batch) ? (batch[i] as E) : batch.at(i);
}

function isEventArray<E>(batch: EventBatch<E>): batch is readonly E[] {
  return Array.isArray(batch);
}

/**
 * An async, paged source of one session's events in seq order. `open(from)` starts a new read at the
 * target (never by reading from the start); each iteration step yields one page.
 */
export interface EventSource<E extends ReplayableEvent = ReplayableEvent> {
  open(from?: SeekTarget): AsyncIterator<EventBatch<E>>;
  /** The last event (for clear "past the end" messages); null when the session is empty. */
  last?(): Promise<Pick<ReplayableEvent, 'seq' | 'offsetUs'> | null>;
}

export enum ReplayErrorCode {
  InvalidSpeed = 'INVALID_SPEED',
  InvalidOption = 'INVALID_OPTION',
  SeekPastEnd = 'SEEK_PAST_END',
  SessionNotFound = 'SESSION_NOT_FOUND',
  InvalidState = 'INVALID_STATE',
}

export class ReplayError extends Error {
  constructor(
    readonly code: ReplayErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ReplayError';
  }
}

export const MIN_SPEED = 0.25;
export const MAX_SPEED = 32;

/** Returns the speed, or throws INVALID_SPEED naming the allowed range. */
export function validateSpeed(speed: number): number {
  if (typeof speed !== 'number' || !Number.isFinite(speed) || speed < MIN_SPEED || speed > MAX_SPEED) {
    throw new ReplayError(ReplayErrorCode.InvalidSpeed, `speed must be a number from ${MIN_SPEED} to ${MAX_SPEED} (got ${String(speed)})`, { speed });
  }
  return speed;
}

export function describeTarget(target: SeekTarget): string {
  return 'seq' in target ? `seq ${target.seq}` : `offset ${(target.offsetUs / 1e6).toFixed(6)} s (${target.offsetUs} µs)`;
}
