import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestPool } from '@rewind/db/test-support';
import { aFrame, aSession, frames } from './test-support';
import { EventStore } from './event-store';
import { SMALL_BATCH_ROWS } from './append';
import { verifySession } from './verify';
import { EventStoreError, EventStoreErrorCode } from './errors';
import { NewEvent, StoredEvent } from './types';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function expectStoreError(promise: Promise<unknown>, code: EventStoreErrorCode): Promise<EventStoreError> {
  const err = await promise.then(
    () => {
      throw new Error(`expected ${code}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EventStoreError);
  expect((err as EventStoreError).code).toBe(code);
  return err as EventStoreError;
}

describe('EventStore (Postgres)', () => {
  let pool: Pool;
  let sut: EventStore;

  beforeAll(() => {
    pool = createTestPool();
    sut = new EventStore(pool);
  });
  afterAll(() => pool.end());

  async function newSession(): Promise<string> {
    return (await sut.openSession(aSession())).id;
  }

  it('opens a session idempotently and refuses the same id for another platform', async () => {
    const session = aSession();
    const first = await sut.openSession(session);
    const again = await sut.openSession(session);
    expect(again).toEqual(first);
    expect(first.headSeq).toBe(0);
    await expectStoreError(sut.openSession({ ...session, platform: 'rgs' }), EventStoreErrorCode.SessionConflict);
  });

  it('reads back exactly what was appended, in seq order, across pages', async () => {
    const id = await newSession();
    const tricky: NewEvent[] = [
      aFrame(id, 1, { body: 'tab\there\nnewline\r\nbackslash \\ and \\N and unicode ✓ 🦀', format: 'text', msgType: 'odd\ttype' }),
      aFrame(id, 2, { body: '{"a":1}\n{"b":2}\n', format: 'ndjson', tick: null }),
      aFrame(id, 3, { body: Buffer.from([0, 1, 2, 255, 10, 9, 92]), format: 'binary', kind: 'input', direction: 'client_to_platform' }),
      aFrame(id, 4, { body: null, format: 'empty', kind: 'lifecycle', channel: 'internal', direction: 'internal' }),
      aFrame(id, 5, { body: 'text with a NUL \u0000 inside', format: 'text' }),
      aFrame(id, 6, { body: '', format: 'text', requestId: 'req-1' }),
      aFrame(id, 7, { kind: 'response', channel: 'http', format: 'empty', body: null, meta: JSON.stringify({ status: 204, headers: [['x-a', '1\t2']], path: '/a\\b\nc' }) }),
      ...frames(id, 8, 40),
    ];
    const result = await sut.append(tricky);
    expect(result).toMatchObject({ appended: 47, duplicates: 0 });

    const read = await collect(sut.readSession(id, { pageSize: 7 }));
    expect(read.map((e) => e.seq)).toEqual(tricky.map((e) => e.seq));
    read.forEach((stored: StoredEvent, i) => {
      const sent = tricky[i] as NewEvent;
      expect(stored.body).toEqual(sent.body);
      expect(stored).toMatchObject({
        kind: sent.kind,
        direction: sent.direction,
        channel: sent.channel,
        format: sent.format,
        recordedAtUs: sent.recordedAtUs,
        offsetUs: sent.offsetUs,
        tick: sent.tick ?? null,
        msgType: sent.msgType ?? null,
        requestId: sent.requestId ?? null,
        meta: sent.meta ?? null,
      });
    });
    const head = await sut.getSession(id);
    expect(head?.headSeq).toBe(47);
    expect(head?.headHash.equals((read[46] as StoredEvent).hash)).toBe(true);
    expect(result.heads.get(id)?.hash.equals(head?.headHash as Buffer)).toBe(true);
  });

  it('treats re-appending stored events as a no-op and appends only the new tail', async () => {
    const id = await newSession();
    await sut.append(frames(id, 1, 10));
    expect(await sut.append(frames(id, 1, 10))).toMatchObject({ appended: 0, duplicates: 10 });
    expect(await sut.append(frames(id, 5, 11))).toMatchObject({ appended: 5, duplicates: 6 });
    const seqs = (await collect(sut.readSession(id))).map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  });

  it('rejects a seq gap with the expected seq, and writes nothing of the batch', async () => {
    const id = await newSession();
    const other = await newSession();
    await sut.append(frames(id, 1, 10));
    const err = await expectStoreError(sut.append([...frames(other, 1, 3), ...frames(id, 12, 3)]), EventStoreErrorCode.SeqGap);
    expect(err.details).toEqual({ sessionId: id, expected: 11, got: 12 });
    expect((await sut.getSession(id))?.headSeq).toBe(10);
    expect((await sut.getSession(other))?.headSeq).toBe(0);
    await expectStoreError(sut.append([aFrame(id, 11), aFrame(id, 13)]), EventStoreErrorCode.InvalidEvent);
  });

  it('rejects a duplicate seq with different content, atomically', async () => {
    const id = await newSession();
    await sut.append(frames(id, 1, 10));
    const forged = [...frames(id, 4, 1), aFrame(id, 5, { body: '{"type":"frame","tick":5,"score":999999}' }), ...frames(id, 6, 10)];
    const err = await expectStoreError(sut.append(forged), EventStoreErrorCode.DuplicateConflict);
    expect(err.details).toEqual({ sessionId: id, seq: 5 });
    expect((await sut.getSession(id))?.headSeq).toBe(10);
    const fifth = (await collect(sut.readSession(id, { fromSeq: 5, toSeq: 5 })))[0];
    expect(fifth?.body).toBe(aFrame(id, 5).body);
  });

  it('refuses invalid events with the index and the problem', async () => {
    const id = await newSession();
    const cases: [Partial<NewEvent>, RegExp][] = [
      [{ sessionId: 'not-a-uuid' }, /sessionId must be a uuid/],
      [{ kind: 'telepathy' as never }, /unknown kind/],
      [{ format: 'binary', body: 'a string' }, /binary event's body must be a Buffer/],
      [{ offsetUs: -1 }, /offsetUs must be a non-negative integer/],
      [{ seq: 0 }, /seq must be an integer from 1/],
      [{ tick: 1.5 }, /tick must be a 32-bit integer/],
      [{ meta: '{"status":' }, /meta is not valid JSON/],
      [{ meta: '[1,2]' }, /meta must be a JSON object/],
    ];
    for (const [override, message] of cases) {
      const err = await expectStoreError(sut.append([aFrame(id, 1), aFrame(id, 2, override)]), EventStoreErrorCode.InvalidEvent);
      expect(err.message).toMatch(/event #1 of the batch/);
      expect(err.message).toMatch(message);
    }
    expect((await sut.getSession(id))?.headSeq).toBe(0);
  });

  it('refuses appends to unknown sessions and offsets that go backwards', async () => {
    await expectStoreError(sut.append(frames(randomUUID(), 1, 1)), EventStoreErrorCode.SessionNotFound);
    const id = await newSession();
    await sut.append(frames(id, 1, 3));
    await expectStoreError(sut.append([aFrame(id, 4, { offsetUs: 10 })]), EventStoreErrorCode.OffsetRegression);
  });

  it('seals a session: no more appends, but identical re-appends still succeed', async () => {
    const id = await newSession();
    await sut.append(frames(id, 1, 5));
    await sut.endSession(id, new Date(), { score: 42 });
    const sealed = await sut.sealSession(id);
    expect(sealed).toMatchObject({ status: 'sealed', sealedCount: 5, outcome: { score: 42 } });
    expect(sealed.sealedHash?.equals(sealed.headHash)).toBe(true);
    await expectStoreError(sut.append(frames(id, 6, 1)), EventStoreErrorCode.SessionSealed);
    expect(await sut.append(frames(id, 1, 5))).toMatchObject({ appended: 0, duplicates: 5 });
    expect(await sut.sealSession(id)).toEqual(sealed);
  });

  it('reads an offset range from the seek index', async () => {
    const id = await newSession();
    await sut.append(frames(id, 1, 100)); // offsets seq * 50_000 + 7
    const range = await collect(sut.readSession(id, { fromOffsetUs: 1_000_000, toOffsetUs: 2_000_000, pageSize: 4 }));
    expect(range.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 20 + i));
    expect(await collect(sut.readSession(id, { fromOffsetUs: 10_000_000 }))).toEqual([]);
  });

  it('serves replay pages: the same fields as readSession, from a seq or the first event at/after an offset', async () => {
    const id = await newSession();
    const sent: NewEvent[] = [
      aFrame(id, 1, { body: Buffer.from([0, 1, 255]), format: 'binary', kind: 'input', direction: 'client_to_platform' }),
      aFrame(id, 2, { body: null, format: 'empty', kind: 'lifecycle', channel: 'internal', direction: 'internal', meta: '{"reason":"x"}' }),
      ...frames(id, 3, 38), // seq 3..40, offsets seq * 50_000 + 7
    ];
    await sut.append(sent);
    const full = await collect(sut.readSession(id));
    const lean = [...(await sut.readReplayPage(id, { afterSeq: 0 }, 30)), ...(await sut.readReplayPage(id, { afterSeq: 30 }, 30))];
    expect(lean).toEqual(
      full.map(({ seq, offsetUs, kind, direction, channel, format, body, msgType, tick, meta }) => ({ seq, offsetUs, kind, direction, channel, format, body, msgType, tick, meta })),
    );
    expect((await sut.readReplayPage(id, { fromOffsetUs: 20 * 50_000 }, 3)).map((e) => e.seq)).toEqual([20, 21, 22]);
    expect((await sut.readReplayPage(id, { fromOffsetUs: 20 * 50_000 + 8 }, 1)).map((e) => e.seq)).toEqual([21]);
    expect(await sut.readReplayPage(id, { fromOffsetUs: 10_000_000 }, 5)).toEqual([]);
    expect(await sut.readReplayPage(id, { afterSeq: 40 }, 5)).toEqual([]);
  });

  it('writes outbox rows in the same transaction as the events', async () => {
    const id = await newSession();
    await sut.append(frames(id, 1, 2), [{ sessionId: id, queue: 'reward-handoff', jobName: 'handoff', payload: { score: 7 } }]);
    const { rows } = await pool.query('SELECT queue, job_name, payload, relayed_at FROM outbox WHERE session_id = $1', [id]);
    expect(rows).toEqual([{ queue: 'reward-handoff', job_name: 'handoff', payload: { score: 7 }, relayed_at: null }]);

    await expectStoreError(sut.append(frames(id, 5, 1), [{ sessionId: id, queue: 'reward-handoff', jobName: 'handoff', payload: {} }]), EventStoreErrorCode.SeqGap);
    const after = await pool.query('SELECT count(*)::int AS n FROM outbox WHERE session_id = $1', [id]);
    expect(after.rows[0].n).toBe(1);
  });

  it('given an outbox message with a dedupe key, when the batch is re-appended or another stream repeats the key, then one row exists', async () => {
    const id = await newSession();
    const other = await newSession();
    const key = `reward-handoff:test:${id}`;
    const msg = { sessionId: id, queue: 'reward-handoff', jobName: 'handoff', payload: { score: 1 }, dedupeKey: key };
    await sut.append(frames(id, 1, 2), [msg]);
    await sut.append(frames(id, 1, 2), [msg]); // a journal replay of a batch that had committed
    await sut.append(frames(other, 1, 1), [{ ...msg, sessionId: other }]); // a second stream of the same run
    const { rows } = await pool.query('SELECT session_id FROM outbox WHERE dedupe_key = $1', [key]);
    expect(rows).toEqual([{ session_id: id }]);
  });

  describe('writeBatch (one transaction for opens, events, outbox, ends and seals)', () => {
    it('given new sessions, events, an outcome with its outbox row, an end and a seal, when written as one batch, then the rows equal what the single calls would leave', async () => {
      const a = aSession();
      const b = aSession();
      const outcome = { score: 12, reason: 'GAME_OVER' };
      const result = await sut.writeBatch({
        opens: [a, b, a],
        events: [...frames(a.id, 1, 3), ...frames(b.id, 1, 2)],
        outbox: [{ sessionId: a.id, queue: 'reward-handoff', jobName: 'reward', payload: outcome, dedupeKey: `reward-handoff:batch:${a.id}` }],
        ends: [{ sessionId: a.id, endedAt: new Date('2026-11-23T10:00:00Z'), outcome }],
        seals: [a.id],
      });
      expect(result.appended).toBe(5);
      const sa = await sut.getSession(a.id);
      expect(sa).toMatchObject({ status: 'sealed', headSeq: 3, sealedCount: 3, outcome, endedAt: new Date('2026-11-23T10:00:00Z') });
      expect(sa?.sealedHash?.equals(sa.headHash)).toBe(true);
      expect(await sut.getSession(b.id)).toMatchObject({ status: 'open', headSeq: 2, outcome: null });
      const { rows } = await pool.query('SELECT payload FROM outbox WHERE session_id = $1', [a.id]);
      expect(rows).toEqual([{ payload: outcome }]);

      // The same shape through the single calls gives the same chain.
      const c = { ...aSession(), id: randomUUID() };
      await sut.openSession(c);
      await sut.append(frames(c.id, 1, 3));
      const viaBatch = (await collect(sut.readSession(a.id))).map((e) => e.msgType);
      const viaCalls = (await collect(sut.readSession(c.id))).map((e) => e.msgType);
      expect(viaBatch).toEqual(viaCalls);
    });

    it('given a session opened again with the agent and game it lacked, then its row learns them and keeps everything else', async () => {
      const a = { ...aSession(), agent: null, game: null, startedAt: new Date('2026-11-23T09:00:00Z') };
      await sut.writeBatch({ opens: [a], events: frames(a.id, 1, 2) });
      // A later batch (the agent logged in after the run started): only the empty columns are filled.
      await sut.writeBatch({ opens: [{ ...a, agent: 'late-agent', game: 'spacemolt', startedAt: new Date('2026-11-23T11:00:00Z'), metadata: { other: true } }] });
      expect(await sut.getSession(a.id)).toMatchObject({ agent: 'late-agent', game: 'spacemolt', headSeq: 2, startedAt: new Date('2026-11-23T09:00:00Z'), metadata: a.metadata ?? {} });
      // Once known, an agent is not overwritten.
      await sut.writeBatch({ opens: [{ ...a, agent: 'someone-else' }] });
      expect((await sut.getSession(a.id))?.agent).toBe('late-agent');
      // Twice in one batch: the first open stands, the second fills in what it lacked.
      const b = { ...aSession(), agent: null };
      await sut.writeBatch({ opens: [b, { ...b, agent: 'named-in-batch' }] });
      expect((await sut.getSession(b.id))?.agent).toBe('named-in-batch');
    });

    it('given a batch that fails on one session, when written, then nothing of the batch is stored and the error names that session', async () => {
      const a = aSession();
      const fresh = aSession();
      await sut.openSession(a);
      await sut.append(frames(a.id, 1, 2));
      const err = await expectStoreError(
        sut.writeBatch({ opens: [fresh], events: [...frames(fresh.id, 1, 2), ...frames(a.id, 5, 1)], ends: [{ sessionId: fresh.id, endedAt: new Date() }] }),
        EventStoreErrorCode.SeqGap,
      );
      expect(err.details['sessionId']).toBe(a.id);
      expect(await sut.getSession(fresh.id)).toBeNull();
    });

    it('refuses an open of an existing id for another platform, an end or seal of an unknown session, and events after a seal in an earlier batch', async () => {
      const a = aSession();
      await sut.writeBatch({ opens: [a], events: frames(a.id, 1, 1), seals: [a.id] });
      const conflict = await expectStoreError(sut.writeBatch({ opens: [{ ...a, platform: a.platform === 'rgs' ? 'spacemolt' : 'rgs' }] }), EventStoreErrorCode.SessionConflict);
      expect(conflict.details['sessionId']).toBe(a.id);
      const unknown = randomUUID();
      expect((await expectStoreError(sut.writeBatch({ ends: [{ sessionId: unknown, endedAt: new Date() }] }), EventStoreErrorCode.SessionNotFound)).details['sessionId']).toBe(unknown);
      expect((await expectStoreError(sut.writeBatch({ seals: [unknown] }), EventStoreErrorCode.SessionNotFound)).details['sessionId']).toBe(unknown);
      expect((await expectStoreError(sut.writeBatch({ events: frames(a.id, 2, 1) }), EventStoreErrorCode.SessionSealed)).details['sessionId']).toBe(a.id);
      // An end after the seal changes nothing the seal froze (as endSession does).
      await sut.writeBatch({ ends: [{ sessionId: a.id, endedAt: new Date(), outcome: { late: true } }] });
      expect(await sut.getSession(a.id)).toMatchObject({ status: 'sealed', headSeq: 1, sealedCount: 1 });
    });

    it('given two ends of one session in a batch, then the first end time and the last outcome win, as two endSession calls would', async () => {
      const a = aSession();
      await sut.writeBatch({
        opens: [a],
        ends: [
          { sessionId: a.id, endedAt: new Date('2026-11-23T10:00:00Z'), outcome: { n: 1 } },
          { sessionId: a.id, endedAt: new Date('2026-11-23T11:00:00Z'), outcome: { n: 2 } },
          { sessionId: a.id, endedAt: new Date('2026-11-23T12:00:00Z') },
        ],
      });
      expect(await sut.getSession(a.id)).toMatchObject({ status: 'ended', endedAt: new Date('2026-11-23T10:00:00Z'), outcome: { n: 2 } });
    });
    it('given the same events written as small batches (one INSERT with the heads) and as one large batch (COPY), then every stored column is identical and both chains verify', async () => {
      // Every encoding edge of both writers: tabs, newlines, backslashes and quotes in text and meta, unicode, NUL
      // (stored as bytes), an empty body, no body, binary bytes, nulls in every optional column.
      const tricky = (id: string): NewEvent[] => [
        aFrame(id, 1, { body: 'tab\there\nnewline\r\nbackslash \\ and \\N and "quotes" {braces,} unicode ✓ 🦀', format: 'text', msgType: 'odd\t"type"', requestId: 'a,b' }),
        aFrame(id, 2, { body: '{"a":1}\n{"b":"\\"q\\""}\n', format: 'ndjson', tick: null }),
        aFrame(id, 3, { body: Buffer.from([0, 1, 2, 255, 10, 9, 92, 34]), format: 'binary', kind: 'input', direction: 'client_to_platform' }),
        aFrame(id, 4, { body: null, format: 'empty', kind: 'lifecycle', channel: 'internal', direction: 'internal', msgType: null, tick: null }),
        aFrame(id, 5, { body: 'text with a NUL \u0000 inside', format: 'text' }),
        aFrame(id, 6, { body: '', format: 'text', requestId: 'req-1' }),
        aFrame(id, 7, { kind: 'response', channel: 'http', format: 'empty', body: null, meta: JSON.stringify({ status: 204, headers: [['x-a', '1\t2']], path: '/a\\b\nc', q: 'NULL' }) }),
        aFrame(id, 8, { body: 'NULL', format: 'text', msgType: 'NULL', meta: '{"v":"NULL","e":""}' }),
        ...frames(id, 9, SMALL_BATCH_ROWS + 3),
      ];
      const small = aSession();
      const large = aSession();
      const outcome = { score: 3, reason: 'tab\there "quoted"' };
      const smallEvents = tricky(small.id);
      for (let i = 0; i < smallEvents.length; i += SMALL_BATCH_ROWS) {
        const last = i + SMALL_BATCH_ROWS >= smallEvents.length;
        await sut.writeBatch({
          opens: [small],
          events: smallEvents.slice(i, i + SMALL_BATCH_ROWS),
          ...(last
            ? {
                outbox: [{ sessionId: small.id, queue: 'reward-handoff', jobName: 'reward', payload: outcome, dedupeKey: `paths:${small.id}` }],
                ends: [{ sessionId: small.id, endedAt: new Date('2026-11-23T10:00:00Z'), outcome }],
              }
            : {}),
        });
      }
      const largeEvents = tricky(large.id);
      expect(largeEvents.length).toBeGreaterThan(SMALL_BATCH_ROWS);
      await sut.writeBatch({
        opens: [large],
        events: largeEvents,
        outbox: [{ sessionId: large.id, queue: 'reward-handoff', jobName: 'reward', payload: outcome, dedupeKey: `paths:${large.id}` }],
        ends: [{ sessionId: large.id, endedAt: new Date('2026-11-23T10:00:00Z'), outcome }],
      });
      const stored = async (id: string): Promise<unknown[]> =>
        (
          await pool.query(
            `SELECT seq, kind, direction, channel, to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS recorded_at, offset_us, format,
                    body_text, body_bytes, msg_type, tick, request_id, meta FROM events WHERE session_id = $1 ORDER BY seq`,
            [id],
          )
        ).rows;
      const viaSmall = await stored(small.id);
      expect(viaSmall).toHaveLength(smallEvents.length);
      expect(viaSmall).toEqual(await stored(large.id));
      for (const id of [small.id, large.id]) {
        expect((await verifySession(sut, id))?.ok).toBe(true);
        expect(await sut.getSession(id)).toMatchObject({ status: 'ended', headSeq: smallEvents.length, outcome, endedAt: new Date('2026-11-23T10:00:00Z') });
        expect((await pool.query('SELECT payload FROM outbox WHERE session_id = $1', [id])).rows).toEqual([{ payload: outcome }]);
      }
      const read = await collect(sut.readSession(small.id));
      read.forEach((e, i) => expect(e.body).toEqual((smallEvents[i] as NewEvent).body));
    });
  });

  it('enforces append-only in the database itself', async () => {
    const id = await newSession();
    await sut.append(frames(id, 1, 3));
    await expect(pool.query("UPDATE events SET body_text = 'x' WHERE session_id = $1", [id])).rejects.toThrow(/events is append-only \(UPDATE refused\)/);
    await expect(pool.query('DELETE FROM events WHERE session_id = $1', [id])).rejects.toThrow(/events is append-only \(DELETE refused\)/);
    await expect(pool.query('TRUNCATE events')).rejects.toThrow(/append-only \(TRUNCATE refused\)/);
    await expect(pool.query('DELETE FROM sessions WHERE id = $1', [id])).rejects.toThrow(/sessions is append-only/);
    await expect(pool.query('UPDATE sessions SET head_seq = 1 WHERE id = $1', [id])).rejects.toThrow(/cannot move backwards/);
    await sut.sealSession(id);
    await expect(pool.query("UPDATE sessions SET sealed_hash = '\\x00' WHERE id = $1", [id])).rejects.toThrow(/is sealed/);
    expect((await collect(sut.readSession(id))).length).toBe(3);
  });
});
