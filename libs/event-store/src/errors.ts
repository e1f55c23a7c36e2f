/** Typed errors of the event store: callers switch on `code`, edges map codes to HTTP/WebSocket codes. */
export enum EventStoreErrorCode {
  InvalidEvent = 'INVALID_EVENT',
  SessionNotFound = 'SESSION_NOT_FOUND',
  SessionConflict = 'SESSION_CONFLICT',
  SessionSealed = 'SESSION_SEALED',
  SeqGap = 'SEQ_GAP',
  DuplicateConflict = 'DUPLICATE_CONFLICT',
  OffsetRegression = 'OFFSET_REGRESSION',
}

export class EventStoreError extends Error {
  constructor(
    readonly code: EventStoreErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'EventStoreError';
  }
}

export const invalidEvent = (index: number, problem: string): EventStoreError =>
  new EventStoreError(EventStoreErrorCode.InvalidEvent, `event #${index} of the batch is invalid: ${problem}`, { index, problem });

export const sessionNotFound = (sessionId: string): EventStoreError => new EventStoreError(EventStoreErrorCode.SessionNotFound, `session ${sessionId} does not exist (open it first)`, { sessionId });

export const sessionSealed = (sessionId: string, seq: number): EventStoreError =>
  new EventStoreError(EventStoreErrorCode.SessionSealed, `session ${sessionId} is sealed: cannot append seq ${seq}`, { sessionId, seq });

export const seqGap = (sessionId: string, expected: number, got: number): EventStoreError =>
  new EventStoreError(EventStoreErrorCode.SeqGap, `session ${sessionId}: expected seq ${expected}, got ${got}`, {
    sessionId,
    expected,
    got,
  });

export const duplicateConflict = (sessionId: string, seq: number): EventStoreError =>
  new EventStoreError(EventStoreErrorCode.DuplicateConflict, `session ${sessionId}: seq ${seq} is already stored with different content`, { sessionId, seq });

export const offsetRegression = (sessionId: string, seq: number, previousUs: number, offsetUs: number): EventStoreError =>
  new EventStoreError(EventStoreErrorCode.OffsetRegression, `session ${sessionId}: seq ${seq} has offset ${offsetUs} µs, before the previous event's ${previousUs} µs`, {
    sessionId,
    seq,
    previousUs,
    offsetUs,
  });
