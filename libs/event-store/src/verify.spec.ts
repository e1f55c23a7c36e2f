import { randomUUID } from 'node:crypto';
import { frames } from './test-support';
import { eventHash, genesisHash } from './hash';
import { NewEvent, StoredEvent } from './types';
import { ChainVerifier } from './verify';

/** Given events, chain them as the appender does. */
function chained(events: NewEvent[]): StoredEvent[] {
  let previous = genesisHash((events[0] as NewEvent).sessionId);
  return events.map((e, i) => {
    previous = eventHash(previous, e);
    return { ...e, globalPosition: BigInt(i), txId: 1n, msgType: e.msgType ?? null, tick: e.tick ?? null, requestId: e.requestId ?? null, meta: e.meta ?? null, hash: previous };
  });
}

function verify(sessionId: string, events: StoredEvent[], head = events[events.length - 1]) {
  const sut = new ChainVerifier(sessionId);
  events.forEach((e) => sut.push(e));
  return sut.finish({
    headSeq: head?.seq ?? 0,
    headHash: head?.hash ?? genesisHash(sessionId),
    sealedAt: null,
    sealedHash: null,
    sealedCount: null,
  });
}

describe('ChainVerifier', () => {
  const id = randomUUID();
  const good = chained(frames(id, 1, 10));

  it('accepts an intact chain', () => {
    expect(verify(id, good)).toMatchObject({ ok: true, eventsChecked: 10, firstBreak: null });
  });

  it('accepts an empty session whose head is the genesis', () => {
    expect(verify(id, [])).toMatchObject({ ok: true, eventsChecked: 0 });
  });

  it('names an edited event', () => {
    const edited = good.map((e) => (e.seq === 4 ? { ...e, body: String(e.body).replace('running', 'ended') } : e));
    expect(verify(id, edited).firstBreak).toMatchObject({ reason: 'hash_mismatch', seq: 4 });
  });

  it('names a deleted event', () => {
    expect(
      verify(
        id,
        good.filter((e) => e.seq !== 6),
      ).firstBreak,
    ).toMatchObject({ reason: 'seq_gap', seq: 6 });
  });

  it('names the first of two swapped events', () => {
    const swapped = good.map((e) => (e.seq === 3 ? { ...(good[3] as StoredEvent), seq: 3 } : e.seq === 4 ? { ...(good[2] as StoredEvent), seq: 4 } : e));
    expect(verify(id, swapped).firstBreak).toMatchObject({ reason: 'hash_mismatch', seq: 3 });
  });

  it('notices a chain moved from another session', () => {
    expect(verify(randomUUID(), good).firstBreak).toMatchObject({ reason: 'hash_mismatch', seq: 1 });
  });

  it('notices events removed from the end through the head', () => {
    expect(verify(id, good.slice(0, 8), good[9]).firstBreak).toMatchObject({ reason: 'head_mismatch', seq: 9 });
  });
});
