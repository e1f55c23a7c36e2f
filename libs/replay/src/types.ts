import type { StoredEvent } from '@rewind/event-store';

/** What the replay engine needs of an event: its place (seq, offset) and kind; the rest is carried along. */
export type ReplayableEvent = Pick<StoredEvent, 'seq' | 'offsetUs' | 'kind'> & Partial<Pick<StoredEvent, 'direction' | 'channel' | 'format' | 'body' | 'msgType' | 'tick' | 'requestId' | 'meta'>>;

/** Where to start or jump to: the first event with this seq, or the first event at/after this offset. */
export type SeekTarget = { seq: number } | { offsetUs: number };

/**
 * An async, paged source of one session's events in seq order. `open(from)` starts a new read at the
 * target (never by reading from the start); each iteration step yields one page.
 */
export interface EventSource<E extends ReplayableEvent = ReplayableEvent> {
  open(from?: SeekTarget): AsyncIterator<E[]>;
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
