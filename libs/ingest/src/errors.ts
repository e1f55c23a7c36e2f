import { withTimeout as withTimeoutError } from '@rewind/backoff';
import { EventStoreError, NewEvent } from '@rewind/event-store';

/**
 * An EventStoreError is the store refusing the data (a bug upstream: a gap, a conflict, a sealed
 * session); anything else (connection refused or reset, timeouts, pool errors) is treated as the store
 * being unreachable, and retried.
 */
export function isStoreRefusal(e: unknown): e is EventStoreError {
  return e instanceof EventStoreError;
}

/** The session a refusal is about, if it can be told. */
export function refusedSession(e: EventStoreError, events: readonly NewEvent[]): string | null {
  const sessionId = e.details['sessionId'];
  if (typeof sessionId === 'string') return sessionId;
  const index = e.details['index'];
  if (typeof index === 'number') return events[index]?.sessionId ?? null;
  return null;
}

export class StoreTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} took longer than ${ms} ms: treating the store as unreachable`);
    this.name = 'StoreTimeoutError';
  }
}

/** `promise`, or a StoreTimeoutError naming `what` after `ms` (an append that hangs counts as an outage). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return withTimeoutError(promise, ms, () => new StoreTimeoutError(what, ms));
}

/** A one-line description of an error for logs (no bodies: messages of the store name ids and seqs only). */
export function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${e.name}${typeof code === 'string' ? ` ${code}` : ''}: ${e.message}`;
  }
  return String(e);
}
