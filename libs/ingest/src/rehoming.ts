import { randomUUID } from 'node:crypto';
import { EventStoreError, EventStoreErrorCode, SessionRecord } from '@rewind/event-store';
import { IngestItem, IngestLogger, itemSession } from './types';

/** Refusals that mean "another writer wrote this stream meanwhile": the events are re-homed, not set aside. */
const REHOMED_CODES = new Set<EventStoreErrorCode>([EventStoreErrorCode.DuplicateConflict, EventStoreErrorCode.SessionSealed, EventStoreErrorCode.SeqGap]);

/** What a new home copies from the stream it re-homes. */
export type RehomedOrigin = Pick<SessionRecord, 'platform' | 'game' | 'platformSessionId' | 'agent' | 'source' | 'metadata'>;

/**
 * The Ingest's re-homing. Another writer wrote a stream meanwhile (a capture task taken over while this process
 * still held unstored events of it, e.g. during a Redis or Postgres outage): its events are not this writer's
 * to put there, and not to lose either. They go, renumbered from seq 1 with their own times, into a new stream
 * with the same platform, run and metadata plus `rehomedFrom` (the stream) and `rehomeReason` (the store's
 * refusal); this writer's later items of the stream follow them there (its end and seal included). Loud, never
 * silent. Storage-free: the Ingest reads the original stream and hands it to `begin`.
 */
export class Rehoming {
  /** Streams another writer took over meanwhile → the stream this writer's later events go to. */
  private readonly homes = new Map<string, { id: string; nextSeq: number }>();

  constructor(
    private readonly log: IngestLogger,
    /** The writer token of the process whose items these are (`metadata.writer` of a new home). */
    private readonly writerToken: string | undefined,
    private readonly newId: () => string = randomUUID,
  ) {}

  /** Whether the store's refusal of `sessionId` calls for re-homing it (it is not re-homed already). */
  calledFor(sessionId: string, e: EventStoreError): boolean {
    return REHOMED_CODES.has(e.code) && !this.homes.has(sessionId);
  }

  /** The stream `sessionId`'s items go to now, if it is re-homed. */
  homeOf(sessionId: string): string | undefined {
    return this.homes.get(sessionId)?.id;
  }

  /**
   * Re-homes `sessionId`, refused with `e`, whose stored row is `original`: opens its new home in `batch`
   * before the stream's first item there and rewrites the batch (see `apply`). Returns the new stream's id.
   */
  begin(sessionId: string, original: RehomedOrigin, e: EventStoreError, batch: IngestItem[]): string {
    const id = this.newId();
    this.homes.set(sessionId, { id, nextSeq: 1 });
    const mine = batch.flatMap((i) => (i.type === 'event' && i.event.sessionId === sessionId ? [i.event] : []));
    this.log.warn(
      `the stream ${sessionId} was written by another writer meanwhile (${e.code}: ${e.message}): this writer's ${mine.length} events of it and any later ones go to the new stream ${id} (metadata.rehomedFrom)`,
    );
    const open: IngestItem = {
      ordinal: 0,
      type: 'open',
      session: {
        id,
        platform: original.platform,
        game: original.game,
        platformSessionId: original.platformSessionId,
        agent: original.agent,
        source: original.source,
        startedAt: new Date(Math.floor((mine[0]?.recordedAtUs ?? Date.now() * 1000) / 1000)),
        metadata: { ...(original.metadata as Record<string, unknown>), ...(this.writerToken ? { writer: this.writerToken } : {}), rehomedFrom: sessionId, rehomeReason: e.code },
      },
    };
    const first = batch.findIndex((i) => itemSession(i) === sessionId);
    batch.splice(Math.max(0, first), 0, open);
    this.apply(batch);
    return id;
  }

  /**
   * Rewrites the items of re-homed streams to their new stream, in place and in order. The outbox rows an event
   * carries follow it, and so does the run they name (`payload.sessionId`): the handoff points at the stream
   * that holds the outcome. A seal or a release ends the re-homing: the new stream is sealed, and later items
   * of the stream (a resumed attempt) go to the stream itself. A seal (the run is over: its end came first)
   * seals the stream it was re-homed from too — nobody is its legitimate writer any more (the other writer was
   * a dead one's late tail, or a holder whose lock had expired); left open, it would stay open forever. What
   * such a writer still sends it is re-homed in turn. Nothing to do (one size check) while nothing is re-homed.
   */
  apply(batch: IngestItem[]): void {
    if (this.homes.size === 0) return;
    for (let k = 0; k < batch.length; k++) {
      const i = batch[k] as IngestItem;
      const from = itemSession(i);
      const to = this.homes.get(from);
      if (!to) continue;
      if (i.type === 'open')
        batch.splice(k--, 1); // the original exists; its new home is opened by `begin`
      else if (i.type === 'event') {
        const outbox = i.outbox?.map((m) => ({ ...m, sessionId: m.sessionId === from ? to.id : m.sessionId, payload: withRunSession(m.payload, from, to.id) }));
        batch[k] = { ...i, event: { ...i.event, sessionId: to.id, seq: to.nextSeq++ }, ...(outbox ? { outbox } : {}) };
      } else if (i.type === 'end') batch[k] = { ...i, sessionId: to.id };
      else if (i.type === 'seal') {
        batch.splice(k++, 1, { ordinal: i.ordinal, type: 'seal', sessionId: to.id }, { ordinal: i.ordinal, type: 'seal', sessionId: from });
        this.homes.delete(from);
      } else {
        batch[k] = { ordinal: i.ordinal, type: 'seal', sessionId: to.id };
        this.homes.delete(from);
      }
    }
  }
}

/** An outbox payload naming the run's stream (`sessionId`, see the recorder) names its new home instead. */
function withRunSession(payload: unknown, from: string, to: string): unknown {
  if (!payload || typeof payload !== 'object' || (payload as Record<string, unknown>)['sessionId'] !== from) return payload;
  return { ...(payload as Record<string, unknown>), sessionId: to };
}
