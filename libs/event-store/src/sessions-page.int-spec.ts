import { Pool } from 'pg';
import { createTestPool } from '@rewind/db/test-support';
import { aSession, frames } from './test-support';
import { EventStore } from './event-store';
import { ChainVerifier } from './verify';
import { PrismaService } from '@rewind/db';
import { sessionRecordOf } from './repositories/sessions.repository';

describe('EventReadsRepository.sessionsPage: several streams read together (real Postgres)', () => {
  let pool: Pool;
  let store: EventStore;

  beforeAll(() => {
    pool = createTestPool();
    store = new EventStore(pool);
  });
  afterAll(() => pool.end());

  async function recorded(n: number): Promise<string> {
    const { id } = await store.openSession(aSession());
    await store.append(frames(id, 1, n));
    return id;
  }

  it('given three streams, when read in pages smaller than one stream, then every event comes once, by stream then seq, and each chain verifies', async () => {
    const ids = [await recorded(7), await recorded(5), await recorded(1)];
    const seen: { sessionId: string; seq: number }[] = [];
    const verifiers = new Map(ids.map((id) => [id, new ChainVerifier(id)]));
    for (let after: { sessionId: string; seq: number } | null = null; ;) {
      const page = await store.reads.sessionsPage(ids, after, 3);
      expect(page.length).toBeLessThanOrEqual(3);
      for (const e of page) {
        seen.push({ sessionId: e.sessionId, seq: e.seq });
        expect(verifiers.get(e.sessionId)!.push(e)).toBeNull();
      }
      if (page.length < 3) break;
      after = { sessionId: page[2]!.sessionId, seq: page[2]!.seq };
    }
    const expected = [...ids].sort().flatMap((id) => Array.from({ length: id === ids[0] ? 7 : id === ids[1] ? 5 : 1 }, (_, i) => ({ sessionId: id, seq: i + 1 })));
    expect(seen).toEqual(expected);
    for (const id of ids) expect(verifiers.get(id)!.finish((await store.getSession(id))!)).toMatchObject({ ok: true });
  });

  it('given a stream not asked for, then none of its events is read', async () => {
    const [a, b] = [await recorded(2), await recorded(2)];
    const page = await store.reads.sessionsPage([a], null, 100);
    expect(page.map((e) => e.sessionId)).toEqual([a, a]);
    expect(page.some((e) => e.sessionId === b)).toBe(false);
  });

  it('given a session with every column set, when read by id on the pool (SessionsRepository.get), then the record equals what Prisma findUnique gives', async () => {
    const session = { ...aSession(), platformSessionId: 'ps-1', metadata: { stream: 'run', nested: { a: [1, 'x\ty'] }, 'quote"key': null } };
    await store.writeBatch({
      opens: [session],
      events: frames(session.id, 1, 3),
      ends: [{ sessionId: session.id, endedAt: new Date('2026-11-23T10:00:00.123Z'), outcome: { score: 7, nested: { ok: true } } }],
      seals: [session.id],
    });
    const prisma = PrismaService.of(pool);
    const viaPrisma = await prisma.session.findUnique({ where: { id: session.id } });
    const viaPool = await store.sessions.get(session.id);
    expect(viaPool).toEqual(sessionRecordOf(viaPrisma!));
    expect(viaPool).toMatchObject({ status: 'sealed', headSeq: 3, sealedCount: 3, outcome: { score: 7, nested: { ok: true } }, metadata: session.metadata });
    expect(Buffer.isBuffer(viaPool!.headHash) && viaPool!.sealedHash!.equals(viaPool!.headHash)).toBe(true);
    // An open session: the nullable columns come back null the same way.
    const open = aSession({ game: null, agent: null, source: null });
    await store.openSession(open);
    expect(await store.sessions.get(open.id)).toEqual(sessionRecordOf((await prisma.session.findUnique({ where: { id: open.id } }))!));
    expect(await store.sessions.get('00000000-0000-4000-8000-000000000000')).toBeNull();
    expect(await store.sessions.get('not-a-uuid')).toBeNull();
  });
});
