import { eventHash, genesisHash } from './hash';
import { ChainedEvent, SessionRecord } from './types';
import { EventStore } from './event-store';

export type ChainBreakReason =
  | 'seq_gap' // an event is missing (deleted) or the seqs were renumbered
  | 'hash_mismatch' // an event's content, position or order differs from what was chained
  | 'head_mismatch' // the session's head does not match the last event (events removed at the end, or head edited)
  | 'seal_mismatch'; // the seal does not match the chain

export interface ChainBreak {
  reason: ChainBreakReason;
  /** The first seq at which the chain does not hold. */
  seq: number;
  message: string;
}

export interface VerifyReport {
  sessionId: string;
  ok: boolean;
  eventsChecked: number;
  headSeq: number;
  sealed: boolean;
  firstBreak: ChainBreak | null;
}

const hex = (b: Buffer | null): string => (b ? b.toString('hex').slice(0, 16) + '…' : 'none');

/**
 * Pure chain verification, event by event (given the events in seq order, when each is pushed, then the
 * first broken link is reported). Feed it from any source: the store, an export file.
 */
export class ChainVerifier {
  private previous: Buffer;
  private expectedSeq = 1;
  private broken: ChainBreak | null = null;
  private count = 0;

  constructor(private readonly sessionId: string) {
    this.previous = genesisHash(sessionId);
  }

  /** Returns the first break found so far (after which nothing more is checked). */
  push(event: ChainedEvent): ChainBreak | null {
    if (this.broken) return this.broken;
    this.count++;
    if (event.seq !== this.expectedSeq) {
      return (this.broken = {
        reason: 'seq_gap',
        seq: this.expectedSeq,
        message: `expected seq ${this.expectedSeq}, found seq ${event.seq}: event ${this.expectedSeq} is missing`,
      });
    }
    const computed = eventHash(this.previous, event);
    if (!computed.equals(event.hash)) {
      return (this.broken = {
        reason: 'hash_mismatch',
        seq: event.seq,
        message: `seq ${event.seq}: stored hash ${hex(event.hash)} but the chain gives ${hex(computed)} (edited, reordered or moved)`,
      });
    }
    this.previous = computed;
    this.expectedSeq++;
    return null;
  }

  /** Checks the session's head and seal against the end of the chain. */
  finish(session: Pick<SessionRecord, 'headSeq' | 'headHash' | 'sealedAt' | 'sealedHash' | 'sealedCount'>): VerifyReport {
    const lastSeq = this.expectedSeq - 1;
    if (!this.broken && (session.headSeq !== lastSeq || !session.headHash.equals(this.previous))) {
      this.broken = {
        reason: 'head_mismatch',
        seq: Math.min(lastSeq, session.headSeq) + 1,
        message: `the session head is seq ${session.headSeq} (${hex(session.headHash)}) but the chain ends at seq ${lastSeq} (${hex(this.previous)})`,
      };
    }
    if (!this.broken && session.sealedAt && (session.sealedCount !== lastSeq || !session.sealedHash?.equals(this.previous))) {
      this.broken = {
        reason: 'seal_mismatch',
        seq: lastSeq,
        message: `the seal says ${session.sealedCount} events ending ${hex(session.sealedHash)}; the chain has ${lastSeq} ending ${hex(this.previous)}`,
      };
    }
    return {
      sessionId: this.sessionId,
      ok: this.broken === null,
      eventsChecked: this.count,
      headSeq: session.headSeq,
      sealed: session.sealedAt !== null,
      firstBreak: this.broken,
    };
  }
}

/** Recomputes one session's chain from the store, streaming its events. */
export async function verifySession(store: EventStore, sessionId: string): Promise<VerifyReport | null> {
  const session = await store.getSession(sessionId);
  if (!session) return null;
  const verifier = new ChainVerifier(sessionId);
  for await (const event of store.readSession(sessionId, { pageSize: 2000 })) {
    if (verifier.push(event)) break;
  }
  return verifier.finish(session);
}
