import { randomUUID } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { Pool } from 'pg';
import { migrate, MIGRATIONS_DIR } from '@rewind/db';
import { createScratchDatabase, createTestPool, ScratchDatabase, tamper } from '@rewind/db/test-support';
import { aFrame, aSession, frames } from '../test-support';
import { EventStore, ReadSessionOptions } from '../event-store';
import { NewEvent, StoredEvent } from '../types';
import { verifySession } from '../verify';
import { exportSession, importSession, PortableError, PortableErrorCode } from './index';

/** Collects everything written (a whole small export, for the tests). */
class Sink extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    done();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** A store that counts the events its readSession has handed out. */
class CountingStore extends EventStore {
  yielded = 0;
  override async *readSession(sessionId: string, options?: ReadSessionOptions): AsyncGenerator<StoredEvent> {
    for await (const e of super.readSession(sessionId, options)) {
      this.yielded++;
      yield e;
    }
  }
}

const fromText = (text: string): Readable => Readable.from([Buffer.from(text, 'utf8')]);
const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');
/** Replaces `from` in `line`, failing if it is not there (so no refusal test passes by editing nothing). */
const sub = (line: string, from: string, to: string): string => {
  if (!line.includes(from)) throw new Error(`${from} not in ${line}`);
  return line.replace(from, to);
};
const withLines = (text: string, edit: (ls: string[]) => string[]): string => edit(lines(text)).join('\n') + '\n';

async function exportText(store: EventStore, id: string): Promise<string> {
  const sink = new Sink();
  await exportSession(store, id, sink);
  return sink.text;
}

async function refusal(store: EventStore, text: string): Promise<PortableError> {
  const e = await importSession(store, fromText(text)).then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof PortableError)) throw new Error(`expected a PortableError, got ${String(e)}`);
  return e;
}

const INVALID_UTF8 = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0x0a, 0x0d]);

/** One of every kind of body, meta, tick and request id. */
function variedEvents(id: string): NewEvent[] {
  const base = (seq: number, o: Partial<NewEvent>): NewEvent => aFrame(id, seq, { tick: null, msgType: null, ...o });
  return [
    base(1, { kind: 'lifecycle', direction: 'internal', channel: 'internal', format: 'text', body: 'capture started', msgType: 'start' }),
    base(2, { format: 'json', body: '{"b": 1,  "a":[2, 3.50], "s":"é\\u00e9 \u2028 line"}', msgType: 'frame', tick: 7 }),
    base(3, { kind: 'notification', format: 'ndjson', body: '{"n":1}\n{"n":2}\n', tick: -3 }),
    base(4, { kind: 'frame', format: 'binary', body: INVALID_UTF8, channel: 'spectate_ws' }),
    base(5, { kind: 'marker', format: 'empty', body: null, direction: 'internal', channel: 'internal' }),
    base(6, {
      kind: 'request',
      direction: 'client_to_platform',
      channel: 'http',
      format: 'json',
      body: '{"move":"left"}',
      requestId: 'req-1',
      meta: '{"method":"POST","path":"/api/move","headers":{"x":"1"}}',
    }),
    base(7, { kind: 'response', channel: 'http', format: 'text', body: 'tab\there\r\nNUL\u0000 quote" back\\slash 🎮', requestId: 'req-1', meta: '{"status":200}' }),
    base(8, { kind: 'response', channel: 'http', format: 'binary', body: Buffer.alloc(0), requestId: 'req-2', meta: '{"status":204}' }),
    base(9, { kind: 'notification', format: 'text', body: '' }),
    base(10, { kind: 'outcome', format: 'json', body: '{"winner":"agent"}', msgType: 'outcome', tick: 2_147_483_647 }),
  ];
}

async function collect(store: EventStore, id: string): Promise<Omit<StoredEvent, 'globalPosition' | 'txId'>[]> {
  const out: Omit<StoredEvent, 'globalPosition' | 'txId'>[] = [];
  for await (const { globalPosition: _g, txId: _t, ...rest } of store.readSession(id)) out.push(rest);
  return out;
}

describe('portable sessions (rewind-export/1)', () => {
  let pool: Pool;
  let store: EventStore;
  let target: ScratchDatabase;
  let targetStore: EventStore;

  beforeAll(async () => {
    pool = createTestPool(4);
    store = new EventStore(pool);
    target = await createScratchDatabase();
    await migrate(target.pool, MIGRATIONS_DIR, () => undefined);
    targetStore = new EventStore(target.pool);
  });
  afterAll(async () => {
    await pool.end();
    await target.drop();
  });

  async function sealedVariedSession(): Promise<string> {
    const { id } = await store.openSession(aSession({ platformSessionId: 'ms_42', metadata: { z: 1, a: { nested: [1, 'two'] } } }));
    await store.append(variedEvents(id));
    await store.endSession(id, new Date(Date.UTC(2026, 10, 23, 10, 5, 0, 321)), { result: 'win', score: 120, ranks: [1, 2] });
    await store.sealSession(id);
    return id;
  }

  it('round-trips every field, the end state and the seal, and the copy verifies', async () => {
    const id = await sealedVariedSession();
    const text = await exportText(store, id);
    const [header, ...rest] = lines(text);
    expect(JSON.parse(header as string)).toMatchObject({ format: 'rewind-export/1', events: 10, session: { id, status: 'sealed', sealedCount: 10 } });
    expect(rest).toHaveLength(11); // 10 events + trailer
    expect(JSON.parse(rest[3] as string)).toMatchObject({ seq: 4, format: 'binary', b64: true, body: INVALID_UTF8.toString('base64') });
    expect(JSON.parse(rest[4] as string)).toMatchObject({ seq: 5, format: 'empty', body: null });
    expect(JSON.parse(rest[10] as string)).toEqual({ end: true, events: 10, headHash: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const result = await importSession(targetStore, fromText(text));
    expect(result).toMatchObject({ sessionId: id, status: 'imported', events: 10, sealed: true });

    const report = await verifySession(targetStore, id);
    expect(report).toMatchObject({ ok: true, eventsChecked: 10, sealed: true });
    expect(await collect(targetStore, id)).toEqual(await collect(store, id));
    const original = await store.getSession(id);
    const copy = await targetStore.getSession(id);
    expect(copy).toEqual(original);
    expect(copy?.sealedHash?.equals(original?.sealedHash as Buffer)).toBe(true);
    // Microsecond times survive (a JS Date would keep only milliseconds): a re-export is identical but for exportedAt.
    const again = await exportText(targetStore, id);
    const strip = (t: string): string => t.replace(/"exportedAt":"[^"]*"/, '');
    expect(strip(again)).toBe(strip(text));
  });

  it('round-trips an open session and an ended, unsealed one', async () => {
    const open = await store.openSession(aSession());
    await store.append(frames(open.id, 1, 3));
    const ended = await store.openSession(aSession({ platform: 'rgs' }));
    await store.append(frames(ended.id, 1, 2));
    await store.endSession(ended.id, new Date(), { result: 'loss' });
    for (const id of [open.id, ended.id]) {
      await importSession(targetStore, fromText(await exportText(store, id)));
      expect(await targetStore.getSession(id)).toEqual(await store.getSession(id));
      expect(await verifySession(targetStore, id)).toMatchObject({ ok: true });
    }
    expect((await targetStore.getSession(open.id))?.status).toBe('open');
    expect((await targetStore.getSession(ended.id))?.status).toBe('ended');
  });

  it('streams a 30k-event session both ways: export writes before reading it all, never far ahead of the import', async () => {
    const { id } = await store.openSession(aSession());
    const total = 30_000;
    for (let from = 1; from <= total; from += 5000) await store.append(frames(id, from, 5000));
    await store.sealSession(id);

    const source = new CountingStore(pool);
    const pipe = new PassThrough({ highWaterMark: 16 * 1024 });
    let readAtFirstData = -1;
    let imported = 0;
    let maxLead = 0;
    const origWrite = pipe.write.bind(pipe) as (chunk: unknown, ...rest: unknown[]) => boolean;
    (pipe as unknown as { write: typeof origWrite }).write = (chunk: unknown, ...rest: unknown[]) => {
      if (readAtFirstData < 0) readAtFirstData = source.yielded;
      maxLead = Math.max(maxLead, source.yielded - imported);
      return origWrite(chunk, ...rest);
    };
    const exporting = exportSession(source, id, pipe, { pageSize: 1000 }).then((r) => {
      pipe.end();
      return r;
    });
    const importing = importSession(targetStore, pipe, { batchSize: 1000, onProgress: (p) => (imported = p.events) });
    const [exported, result] = await Promise.all([exporting, importing]);

    expect(exported.events).toBe(total);
    expect(result).toMatchObject({ status: 'imported', events: total, sealed: true });
    expect(readAtFirstData).toBeGreaterThanOrEqual(0);
    expect(readAtFirstData).toBeLessThan(total / 4); // the first bytes left before most of the session was read
    expect(maxLead).toBeLessThan(5000); // read-but-not-yet-imported events stay bounded (pages + pipe + one batch)
    expect(await verifySession(targetStore, id)).toMatchObject({ ok: true, eventsChecked: total, sealed: true });
    expect((await targetStore.getSession(id))?.sealedHash).toEqual((await store.getSession(id))?.sealedHash);
  }, 120_000);

  it('importing the same file twice: the second is a no-op "already imported"', async () => {
    const id = await sealedVariedSession();
    const text = await exportText(store, id);
    expect((await importSession(targetStore, fromText(text))).status).toBe('imported');
    const before = await collect(targetStore, id);
    expect(await importSession(targetStore, fromText(text))).toMatchObject({ status: 'already-imported', events: 10, sessionId: id });
    expect(await collect(targetStore, id)).toEqual(before);
    // The same id already held by an import whose session fields differ is refused, naming the fields.
    const changed = withLines(text, ([h, ...r]) => [sub(h as string, '"agent":"test-agent"', '"agent":"someone-else"'), ...r]);
    const e = await refusal(targetStore, changed);
    expect(e.code).toBe(PortableErrorCode.SessionConflict);
    expect(e.message).toContain('agent');
  });

  it('refuses the same id with different events, and leaves the target untouched', async () => {
    const a = await store.openSession(aSession());
    await store.append(frames(a.id, 1, 5));
    const text = await exportText(store, a.id);
    await importSession(targetStore, fromText(text));
    await store.append(frames(a.id, 6, 2)); // the source moves on: same id, more events
    const e = await refusal(targetStore, await exportText(store, a.id));
    expect(e.code).toBe(PortableErrorCode.SessionConflict);
    expect(e.message).toMatch(/already exists in the target with different content \(.*headSeq.*\)/);
    expect((await targetStore.getSession(a.id))?.headSeq).toBe(5);
  });

  describe('refusals (nothing is written for a refused file)', () => {
    let id: string;
    let text: string;
    beforeAll(async () => {
      id = await sealedVariedSession();
      text = await exportText(store, id);
    });
    afterEach(async () => expect(await targetStore.getSession(id)).toBeNull());

    it('a file without a header, or with an unknown format', async () => {
      const noHeader = await refusal(
        targetStore,
        withLines(text, ([, ...r]) => r),
      );
      expect(noHeader).toMatchObject({ code: PortableErrorCode.BadFile, line: 1 });
      expect(noHeader.message).toContain('no header');
      const unknown = await refusal(targetStore, sub(text, '"format":"rewind-export/1"', '"format":"rewind-export/9"'));
      expect(unknown.message).toBe('line 1: unknown format "rewind-export/9" (this version reads "rewind-export/1")');
      expect((await refusal(targetStore, '')).message).toContain('the file is empty');
      const missing = await refusal(
        targetStore,
        withLines(text, ([h, ...r]) => [(h as string).replace(/,"sealedCount":\d+/, ''), ...r]),
      );
      expect(missing.message).toContain('header.session.sealedCount is missing');
    });

    it('malformed JSON on line N names line N', async () => {
      const e = await refusal(
        targetStore,
        withLines(text, (ls) => ls.map((l, i) => (i === 6 ? l.slice(0, -3) : l))),
      );
      expect(e).toMatchObject({ code: PortableErrorCode.BadFile, line: 7 });
      expect(e.message).toMatch(/^line 7: not valid JSON/);
      const field = await refusal(
        targetStore,
        withLines(text, (ls) => ls.map((l, i) => (i === 3 ? sub(l, '"kind":"notification"', '"kind":"gossip"') : l))),
      );
      expect(field.message).toBe('line 4: unknown kind "gossip"');
    });

    it('a changed body is a hash mismatch naming the seq and line', async () => {
      const e = await refusal(
        targetStore,
        withLines(text, (ls) => ls.map((l, i) => (i === 6 ? sub(l, 'left', 'right') : l))),
      );
      expect(e).toMatchObject({ code: PortableErrorCode.HashMismatch, line: 7, details: { seq: 6 } });
      expect(e.message).toMatch(/^line 7: seq 6: the file's hash/);
      const bin = await refusal(
        targetStore,
        withLines(text, (ls) => ls.map((l, i) => (i === 4 ? sub(l, INVALID_UTF8.toString('base64'), Buffer.from('other!!!').toString('base64')) : l))),
      );
      expect(bin).toMatchObject({ code: PortableErrorCode.HashMismatch, line: 5, details: { seq: 4 } });
    });

    it('a missing line is a seq gap naming the line', async () => {
      const e = await refusal(
        targetStore,
        withLines(text, (ls) => ls.filter((_, i) => i !== 4)),
      );
      expect(e).toMatchObject({ code: PortableErrorCode.SeqGap, line: 5, details: { expected: 4, got: 5 } });
      expect(e.message).toBe('line 5: expected seq 4, found seq 5: event 4 is missing');
    });

    it('a truncated file (last events and trailer gone) and a forged trailer', async () => {
      const truncated = await refusal(
        targetStore,
        withLines(text, (ls) => ls.slice(0, 9)),
      );
      expect(truncated).toMatchObject({ code: PortableErrorCode.HeadMismatch, line: 9 });
      expect(truncated.message).toContain('the file ends after 8 events, the header says 10');
      const forged = await refusal(
        targetStore,
        withLines(text, (ls) => ls.map((l, i) => (i === 11 ? sub(l, '"events":10', '"events":9') : l))),
      );
      expect(forged).toMatchObject({ code: PortableErrorCode.HeadMismatch, line: 12 });
    });
  });

  it('export: an unknown session, and a session whose stored chain is broken', async () => {
    await expect(exportSession(store, randomUUID(), new Sink())).rejects.toMatchObject({ code: PortableErrorCode.SessionNotFound });
    const { id } = await store.openSession(aSession());
    await store.append(frames(id, 1, 4));
    await tamper(pool, `UPDATE events SET body_text = replace(body_text, 'running', 'ended') WHERE session_id = $1 AND seq = 3`, [id]);
    await expect(exportSession(store, id, new Sink())).rejects.toMatchObject({ code: PortableErrorCode.ChainBroken, details: { seq: 3 } });
  });
});
