import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStoreError, EventStoreErrorCode, NewEvent } from '@rewind/event-store';
import { Batcher } from './batcher';
import { OutageJournal } from './outage-journal';
import { Rehoming, RehomedOrigin } from './rehoming';
import { SeqAllocator } from './seq-allocator';
import { decodeRecords, encodeItem } from './journal-codec';
import { WriteAheadLog } from './write-ahead';
import type { IngestItem, IngestLogger } from './types';

// The Ingest's four units, without Postgres: ingest.int-spec.ts drives them together against the store.

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';

const event = (sessionId: string, seq: number, recordedAtUs = 1_000_000 + seq): NewEvent => ({
  sessionId,
  seq,
  kind: 'frame',
  direction: 'platform_to_client',
  channel: 'play_ws',
  recordedAtUs,
  offsetUs: seq * 10,
  format: 'text',
  body: `e${seq}`,
  msgType: null,
  tick: null,
  requestId: null,
});
const ev = (ordinal: number, sessionId: string, seq: number, recordedAtUs?: number): IngestItem => ({ ordinal, type: 'event', event: event(sessionId, seq, recordedAtUs) });
const end = (ordinal: number, sessionId: string): IngestItem => ({ ordinal, type: 'end', sessionId, endedAt: new Date(0) });
const seal = (ordinal: number, sessionId: string): IngestItem => ({ ordinal, type: 'seal', sessionId });

/** A logger that keeps its lines. */
const lines = () => {
  const out: string[] = [];
  const log: IngestLogger = { info: (m) => out.push(`info ${m}`), warn: (m) => out.push(`warn ${m}`), error: (m) => out.push(`error ${m}`) };
  return { out, log };
};

describe('SeqAllocator', () => {
  it('given a new stream, when events are numbered, then seqs count from 1 and offsets from its start, never decreasing', () => {
    const seqs = new SeqAllocator();
    seqs.open(A, { startNs: 1_000_000n });
    const clock = seqs.get(A)!;
    const first = clock.offsetAt(3_000_000n);
    expect([first, clock.advance(first)]).toEqual([2000, 1]);
    // an observation stamped before the last one keeps the last offset (offsets never go back)
    const earlier = clock.offsetAt(2_000_000n);
    expect([earlier, clock.advance(earlier)]).toEqual([2000, 2]);
    expect(clock.nextSeq).toBe(3);
  });

  it('given resumeFrom, then the stream continues after the stored head, its offsets after the head offset', () => {
    const seqs = new SeqAllocator();
    seqs.open(A, { startNs: 0n, resumeFrom: { seq: 41, offsetUs: 5_000 } });
    const clock = seqs.get(A)!;
    expect([clock.nextSeq, clock.offsetAt(1_000_000n)]).toEqual([42, 6_000]);
  });

  it('given a stream already held, then a re-open keeps its counters unless the stored head is ahead of them', () => {
    const seqs = new SeqAllocator();
    seqs.open(A, { startNs: 0n });
    const clock = seqs.get(A)!;
    clock.advance(clock.offsetAt(0n));
    seqs.open(A, { startNs: 0n, resumeFrom: { seq: 0, offsetUs: 0 } });
    expect(seqs.get(A)!.nextSeq).toBe(2);
    seqs.open(A, { startNs: 10_000n, resumeFrom: { seq: 9, offsetUs: 700 } });
    expect([seqs.get(A)!.nextSeq, seqs.get(A)!.offsetAt(10_000n)]).toEqual([10, 700]);
  });

  it('given a journal scan, then its streams continue after their last journaled event; forget drops a stream', () => {
    const seqs = new SeqAllocator();
    seqs.restore(new Map([[A, { lastSeq: 7, lastOffsetUs: 900 }]]), 5_000n);
    expect([seqs.get(A)!.nextSeq, seqs.get(A)!.offsetAt(5_000n)]).toEqual([8, 900]);
    expect(seqs.has(B)).toBe(false);
    seqs.forget(A);
    expect([seqs.has(A), seqs.get(A)]).toEqual([false, undefined]);
  });
});

describe('Batcher', () => {
  it("numbers items in record order, from 1 or after a journal's highest ordinal", () => {
    const b = new Batcher(10);
    expect([b.lastOrdinal, b.nextOrdinal(), b.nextOrdinal(), b.lastOrdinal]).toEqual([0, 1, 2, 2]);
    const c = new Batcher(10);
    c.continueAfter(41);
    expect(c.nextOrdinal()).toBe(42);
  });

  it('given more events than a batch holds, then a batch takes batchSize events and the end and seal right after its last one', () => {
    const b = new Batcher(2);
    for (const i of [ev(1, A, 1), ev(2, A, 2), end(3, A), seal(4, A), ev(5, B, 1)]) b.push(i);
    expect([b.length, b.bufferedEvents]).toEqual([5, 3]);
    const batch = b.takeBatch();
    expect(batch.map((i) => i.ordinal)).toEqual([1, 2, 3, 4]);
    expect([b.inflight, b.length, b.bufferedEvents, b.eventsHeld(), b.minOrdinal()]).toEqual([batch, 1, 1, 3, 1]);
    b.settle();
    expect([b.inflight, b.eventsHeld(), b.minOrdinal()]).toEqual([null, 1, 5]);
  });

  it('given items taken and put back (the journal refused them), then they are first again, counted again', () => {
    const b = new Batcher(100);
    b.push(ev(1, A, 1));
    b.push(ev(2, A, 2));
    const all = b.takeAll();
    expect([b.length, b.bufferedEvents, b.minOrdinal()]).toEqual([0, 0, undefined]);
    b.push(ev(3, A, 3));
    b.putBack(all);
    expect([b.takeBatch().map((i) => i.ordinal), b.bufferedEvents]).toEqual([[1, 2, 3], 0]);
  });

  it('tells the oldest event waiting or in flight', () => {
    const b = new Batcher(1);
    expect(b.oldestEventWallUs()).toBeNull();
    b.push(ev(1, A, 1, 500));
    b.push(ev(2, A, 2, 300));
    b.takeBatch();
    expect(b.oldestEventWallUs()).toBe(300);
    b.settle();
    expect(b.oldestEventWallUs()).toBe(300);
  });

  it('cuts a journal segment into chunks of batchSize events, each with the items after its last event', () => {
    const b = new Batcher(2);
    const items = [ev(1, A, 1), ev(2, A, 2), end(3, A), ev(4, B, 1), ev(5, B, 2), ev(6, B, 3), seal(7, B)];
    expect([...b.chunks(items)].map((c) => c.map((i) => i.ordinal))).toEqual([
      [1, 2, 3],
      [4, 5],
      [6, 7],
    ]);
    expect([...b.chunks([])]).toEqual([]);
  });
});

describe('Rehoming', () => {
  const original: RehomedOrigin = { platform: 'moltstation', game: 'flappybots', platformSessionId: 'ms_1', agent: 'bot', source: 'proxy', metadata: { runId: 'r1' } };
  const refusal = new EventStoreError(EventStoreErrorCode.SeqGap, 'seq gap', { sessionId: A });
  const NEW = '00000000-0000-4000-8000-0000000000ff';

  it('is called for by the refusals that mean another writer wrote the stream, once per stream', () => {
    const r = new Rehoming(lines().log, undefined, () => NEW);
    expect(r.calledFor(A, refusal)).toBe(true);
    expect(r.calledFor(A, new EventStoreError(EventStoreErrorCode.InvalidEvent, 'bad'))).toBe(false);
    r.begin(A, original, refusal, [ev(1, A, 5)]);
    expect(r.calledFor(A, refusal)).toBe(false);
    expect(r.homeOf(A)).toBe(NEW);
  });

  it('given a batch, then its items of the stream move to a new home opened first, renumbered from 1, loudly; others stay', () => {
    const { out, log } = lines();
    const r = new Rehoming(log, 'writer-1', () => NEW);
    const outbox = [{ sessionId: A, queue: 'reward-handoff', jobName: 'reward', payload: { sessionId: A, score: 3 } }];
    const batch: IngestItem[] = [ev(1, B, 1), { ...(ev(2, A, 7, 2_000_000) as Extract<IngestItem, { type: 'event' }>), outbox }, ev(3, A, 8), end(4, A)];
    expect(r.begin(A, original, refusal, batch)).toBe(NEW);
    expect(batch.map((i) => [i.type, i.type === 'open' ? i.session.id : i.type === 'event' ? `${i.event.sessionId}#${i.event.seq}` : i.sessionId])).toEqual([
      ['event', `${B}#1`],
      ['open', NEW],
      ['event', `${NEW}#1`],
      ['event', `${NEW}#2`],
      ['end', NEW],
    ]);
    const open = batch[1] as Extract<IngestItem, { type: 'open' }>;
    expect(open.session).toMatchObject({
      platform: 'moltstation',
      game: 'flappybots',
      agent: 'bot',
      startedAt: new Date(2000),
      metadata: { runId: 'r1', writer: 'writer-1', rehomedFrom: A, rehomeReason: 'SEQ_GAP' },
    });
    expect((batch[2] as Extract<IngestItem, { type: 'event' }>).outbox).toEqual([{ sessionId: NEW, queue: 'reward-handoff', jobName: 'reward', payload: { sessionId: NEW, score: 3 } }]);
    expect(out).toEqual([expect.stringMatching(new RegExp(`^warn the stream ${A} was written by another writer meanwhile \\(SEQ_GAP.*2 events.*${NEW}`))]);
  });

  it('given later batches, then they follow the new home until a seal, which seals both streams and ends the re-homing', () => {
    const r = new Rehoming(lines().log, undefined, () => NEW);
    r.begin(A, original, refusal, [ev(1, A, 1)]);
    const later: IngestItem[] = [{ ordinal: 2, type: 'open', session: { id: A, platform: 'moltstation', startedAt: new Date(0) } }, ev(3, A, 2), seal(4, A), ev(5, A, 3)];
    r.apply(later);
    expect(later.map((i) => [i.type, i.type === 'event' ? `${i.event.sessionId}#${i.event.seq}` : itemId(i)])).toEqual([
      ['event', `${NEW}#2`],
      ['seal', NEW],
      ['seal', A],
      ['event', `${A}#3`],
    ]);
    expect(r.homeOf(A)).toBeUndefined();
  });

  it('given a release, then the new home is sealed and the stream itself is written again', () => {
    const r = new Rehoming(lines().log, undefined, () => NEW);
    r.begin(A, original, refusal, [ev(1, A, 1)]);
    const later: IngestItem[] = [{ ordinal: 2, type: 'release', sessionId: A }, ev(3, A, 9)];
    r.apply(later);
    expect(later).toEqual([seal(2, NEW), ev(3, A, 9)]);
  });

  it('leaves a batch alone while nothing is re-homed', () => {
    const r = new Rehoming(lines().log, undefined);
    const batch = [ev(1, A, 1), seal(2, A)];
    const copy = structuredClone(batch);
    r.apply(batch);
    expect(batch).toEqual(copy);
  });
});

function itemId(i: IngestItem): string {
  return i.type === 'open' ? i.session.id : i.type === 'event' ? i.event.sessionId : i.sessionId;
}

describe('OutageJournal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rewind-outage-journal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('given failures in a row, then the next try waits the base delay, doubling up to the cap, and starts afresh once recovered', async () => {
    const { out, log } = lines();
    const j = new OutageJournal({ dir, writeAhead: false, log, retryDelayMs: 100, maxRetryDelayMs: 350 });
    await j.recover();
    expect([j.inOutage, j.retryAt]).toEqual([false, 0]);
    const waits = [1, 2, 3, 4].map(() => (j.failed(new Error('ECONNREFUSED'), 1000), j.retryAt - 1000));
    expect(waits).toEqual([100, 200, 350, 350]);
    expect(j.inOutage).toBe(true);
    j.deferRetryLong(1000);
    expect(j.retryAt).toBe(1350);
    j.recovered();
    j.deferRetry(1000); // the disk refused while the store is reachable: the first delay
    expect([j.inOutage, j.retryAt]).toEqual([false, 1100]);
    j.failed(new Error('ECONNREFUSED'), 2000);
    expect(j.retryAt).toBe(2100);
    // said once per outage, not per failure
    expect(out.filter((l) => l.startsWith('warn the event store is unreachable'))).toHaveLength(2);
    expect(out.filter((l) => l === 'info the event store is reachable again')).toHaveLength(1);
  });

  it('keeps a cap below the first delay at the first delay (as the Ingest options do)', () => {
    const j = new OutageJournal({ dir, writeAhead: false, log: lines().log, retryDelayMs: 500, maxRetryDelayMs: 100 });
    j.failed(new Error('x'), 0);
    j.failed(new Error('x'), 0);
    expect(j.retryAt).toBe(500);
  });

  it('during an outage, journals the buffer when pressed or once the interval passed since the last time', () => {
    const j = new OutageJournal({ dir, writeAhead: false, log: lines().log, outageJournalIntervalMs: 1000 });
    j.journaled(10_000);
    expect([j.journalDue(false, 10_500), j.journalDue(true, 10_500), j.journalDue(false, 11_000)]).toEqual([false, true, true]);
  });

  it('given segments written out of order, then they drain in record order and are gone once drained', async () => {
    const j = new OutageJournal({ dir, writeAhead: false, log: lines().log });
    await j.recover();
    await j.write([ev(5, A, 5), ev(6, A, 6)]);
    await j.write([ev(2, A, 2), end(3, A)]);
    expect([j.isEmpty, j.events, j.minOrdinal(), j.minPendingOrdinal(), j.oldestWallUs()]).toEqual([false, 3, 2, null, 1_000_002]);
    const [first, second] = j.segments();
    expect(await j.read(first!.name)).toEqual([ev(2, A, 2), end(3, A)]);
    await j.drained(first!.name);
    await j.drained(second!.name);
    expect([j.isEmpty, j.events, j.minOrdinal()]).toEqual([true, 0, null]);
  });

  it('given a write-ahead log left by a dead process, then recover journals it and indexes its streams', async () => {
    const first = new OutageJournal({ dir, writeAhead: true, log: lines().log });
    await first.recover();
    for (const i of [ev(1, A, 1), ev(2, A, 2), ev(3, B, 4)]) first.writeAhead(i);
    expect(first.walBytes).toBeGreaterThan(0);
    // the process dies here: nothing released (close(false) only closes the file, as the death of the process does)
    first.close(false);
    const { out, log } = lines();
    const next = new OutageJournal({ dir, writeAhead: true, log });
    const scan = await next.recover();
    expect([scan.maxOrdinal, scan.events, Object.fromEntries(scan.sessions)]).toEqual([3, 3, { [A]: { lastSeq: 2, lastOffsetUs: 20 }, [B]: { lastSeq: 4, lastOffsetUs: 40 } }]);
    expect(next.events).toBe(3);
    expect(out).toEqual([expect.stringMatching(/^info the write-ahead log of an earlier process held 3 items/)]);
    next.close(true);
  });

  it('keeps refused items in rejected/, per session', async () => {
    const j = new OutageJournal({ dir, writeAhead: false, log: lines().log });
    await j.recover();
    await j.reject(A, [ev(1, A, 1)]);
    expect(j.rejectedDir).toBe(join(dir, 'rejected'));
    expect(await readdir(j.rejectedDir)).toEqual([`${A}.ndjson`]);
  });

  it('given an unfinished temporary segment, then recover removes it (never durable, never acknowledged)', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'seg-000000000000001.ndjson.tmp'), 'torn');
    const j = new OutageJournal({ dir, writeAhead: false, log: lines().log });
    const scan = await j.recover();
    expect([scan.events, j.isEmpty, (await readdir(dir)).filter((n) => n.endsWith('.tmp'))]).toEqual([0, true, []]);
  });
});

describe('WriteAheadLog', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rewind-wal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  /** The records on disk (a record is one line, or a line and its raw body), read synchronously (an await would let the turn end). */
  const fileLines = (): IngestItem[] => {
    const { items, torn, bad } = decodeRecords(
      readdirSync(dir)
        .filter((n) => n.endsWith('.ndjson'))
        .map((n) => readFileSync(join(dir, n), 'utf8'))
        .join(''),
    );
    expect({ torn, bad }).toEqual({ torn: false, bad: null });
    return items;
  };

  it('given items appended in one event-loop turn, when the turn ends, then they are all in the file, in order, without anyone flushing', async () => {
    const wal = new WriteAheadLog(dir, lines().log);
    for (const i of [ev(1, A, 1), ev(2, A, 2), ev(3, B, 1)]) wal.append(i);
    expect(fileLines()).toEqual([]); // still this turn: held in memory
    await new Promise<void>((r) => setImmediate(r));
    expect(fileLines().map((i) => i.ordinal)).toEqual([1, 2, 3]);
    expect(wal.bytes).toBeGreaterThan(0);
    wal.close(false);
  });

  it('given items appended in this turn, when flush is called, then they are in the file before the turn ends; a flush with nothing pending writes nothing', () => {
    const wal = new WriteAheadLog(dir, lines().log);
    for (const i of [ev(1, A, 1), ev(2, A, 2)]) wal.append(i);
    expect(fileLines()).toEqual([]);
    wal.flush();
    expect(fileLines().map((i) => i.ordinal)).toEqual([1, 2]);
    const bytes = wal.bytes;
    wal.flush();
    expect([fileLines().length, wal.bytes]).toEqual([2, bytes]);
    wal.append(ev(3, B, 1));
    wal.flush();
    expect(fileLines().map((i) => i.ordinal)).toEqual([1, 2, 3]);
    wal.close(false);
  });

  it('given more than 64 KiB appended in one turn, then it is written at once, and release and close write the rest first', async () => {
    const wal = new WriteAheadLog(dir, lines().log);
    const big = (o: number): IngestItem => ({ ordinal: o, type: 'event', event: { ...event(A, o), body: 'x'.repeat(40_000) } });
    wal.append(big(1));
    expect(fileLines()).toEqual([]);
    wal.append(big(2));
    expect(fileLines().length).toBe(2);
    wal.append(ev(3, A, 3));
    wal.close(false);
    expect(fileLines().length).toBe(3);
  });

  /** Events whose text bodies take both record forms (raw: 64 units or more, well-formed; a line: the rest). */
  const bodies = (): IngestItem[] =>
    [
      `{"t":"frame","frame":{"tick":1,"note":"a \\"quoted\\" value, a tab\\t, 🎮 and ü"},"pad":"${'x'.repeat(80)}"}`,
      `{"a":1}\n{"t":"event","o":99,"body":null,"raw":3}\n${'y'.repeat(70)}\n\n`,
      `lone \ud800 surrogate ${'z'.repeat(80)}`,
      `a NUL \u0000 inside ${'n'.repeat(80)}`,
      'short',
      '',
    ].map((body, i) => ({ ordinal: 10 + i, type: 'event', event: { ...event(A, 10 + i), format: 'text', body } }));

  it('given events with long, short, multi-line, NUL-holding and lone-surrogate bodies, when logged and recovered, then each item comes back exactly (its hash unchanged)', async () => {
    const wal = new WriteAheadLog(dir, lines().log);
    const items = [...bodies(), { ordinal: 16, type: 'event', event: { ...event(A, 16), format: 'binary', body: Buffer.from([0, 10, 13, 255]) } } as IngestItem, end(17, A)];
    for (const i of items) wal.append(i);
    wal.close(false);
    const text = readdirSync(dir)
      .filter((n) => n.endsWith('.ndjson'))
      .map((n) => readFileSync(join(dir, n), 'utf8'))
      .join('');
    // The long well-formed bodies follow their lines as they are (not escaped into JSON).
    expect(text).toContain(`\n${(bodies()[1] as Extract<IngestItem, { type: 'event' }>).event.body as string}\n`);
    const kept: IngestItem[] = [];
    await new WriteAheadLog(dir, lines().log).recover(async (got) => void kept.push(...got));
    expect(kept).toEqual(items);
  });

  it('given a log written by the version before (journal lines only), when recovered after the upgrade, then every item drains', async () => {
    const items = [...bodies(), end(16, A), seal(17, A)];
    await writeFile(join(dir, 'wal-000000000000010.ndjson'), items.map((i) => `${encodeItem(i)}\n`).join(''));
    const log = lines();
    const kept: IngestItem[] = [];
    expect(await new WriteAheadLog(dir, log.log).recover(async (got) => void kept.push(...got))).toEqual({ items: items.length, files: 1 });
    expect(kept).toEqual(items);
    expect(log.out).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('given a log cut at every point of its last record (the machine stopped mid-write), then the records before it are recovered and the cut one is dropped and said', async () => {
    const wal = new WriteAheadLog(dir, lines().log);
    const items = bodies().slice(0, 2);
    for (const i of items) wal.append(i);
    wal.close(false);
    const [name] = readdirSync(dir);
    const whole = readFileSync(join(dir, name as string), 'utf8');
    const lastStart = whole.indexOf(`{"t":"event-raw","o":11`);
    expect(lastStart).toBeGreaterThan(0);
    for (let cut = lastStart + 1; cut < whole.length; cut++) {
      await writeFile(join(dir, name as string), whole.slice(0, cut));
      const log = lines();
      const kept: IngestItem[] = [];
      await new WriteAheadLog(dir, log.log).recover(async (got) => void kept.push(...got));
      expect({ cut, kept: kept.map((i) => i.ordinal) }).toEqual({ cut, kept: [10] });
      expect(log.out.filter((l) => l.includes('cut mid-write')).length).toBe(1);
      expect(readdirSync(dir).filter((n) => n.endsWith('.corrupt'))).toEqual([]);
    }
  });

  it('given a raw body whose length does not match (a record damaged mid-file), then the file is kept aside as corrupt, not read past the damage', async () => {
    const wal = new WriteAheadLog(dir, lines().log);
    for (const i of bodies().slice(0, 2)) wal.append(i);
    wal.close(false);
    const [name] = readdirSync(dir);
    const whole = readFileSync(join(dir, name as string), 'utf8');
    await writeFile(
      join(dir, name as string),
      whole.replace(/"raw":(\d+)/, (_m, n: string) => `"raw":${Number(n) - 1}`),
    );
    const log = lines();
    const kept: IngestItem[] = [];
    await new WriteAheadLog(dir, log.log).recover(async (got) => void kept.push(...got));
    expect(kept).toEqual([]);
    expect(readdirSync(dir)).toEqual([`${name as string}.corrupt`]);
    expect(log.out.some((l) => l.includes('record 1 cannot be read'))).toBe(true);
  });
});
