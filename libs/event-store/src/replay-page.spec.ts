import fc from 'fast-check';
import { BODY_FORMATS, CHANNELS, DIRECTIONS, EVENT_KINDS } from '@rewind/platforms';
import { ReplayPage, type ReplayPageColumns } from './replay-page';
import type { ReplayRow } from './types';

/** A stored row as the replay query sees it (the columns of `events`). */
interface StoredRow {
  seq: number;
  offsetUs: number;
  kind: ReplayRow['kind'];
  direction: ReplayRow['direction'];
  channel: ReplayRow['channel'];
  format: ReplayRow['format'];
  bodyText: string | null;
  bodyBytes: Buffer | null;
  msgType: string | null;
  tick: number | null;
  meta: string | null;
}

/** What Postgres answers for `REPLAY_PAGE_AGGREGATES` over these rows (and `pg` parses): the aggregates, in JavaScript. */
function columnsOf(rows: readonly StoredRow[]): ReplayPageColumns {
  const agg = (f: (r: StoredRow) => string): string | null => (rows.length ? rows.map(f).join(',') : null);
  const texts = rows.filter((r) => r.bodyText !== null);
  return {
    n: rows.length,
    seqs: agg((r) => String(r.seq)),
    offsets: agg((r) => String(r.offsetUs)),
    labels: agg((r) => `${r.kind} ${r.direction} ${r.channel} ${r.format}`),
    ticks: agg((r) => (r.tick === null ? '' : String(r.tick))),
    body_text: texts.length ? texts.map((r) => r.bodyText).join('') : null,
    body_text_bytes: agg((r) => (r.bodyText === null ? '' : String(Buffer.byteLength(r.bodyText)))),
    body_bytes: rows.some((r) => r.bodyBytes !== null) ? rows.map((r) => r.bodyBytes) : null,
    msg_types: rows.length ? rows.map((r) => r.msgType) : null,
    metas: rows.some((r) => r.meta !== null) ? rows.map((r) => r.meta) : null,
  };
}

/** The row reader's `ReplayRow` of a stored row (`bodyOf` of event-reads.repository.ts). */
function rowOf(r: StoredRow): ReplayRow {
  const body = r.format === 'empty' ? null : r.format === 'binary' ? r.bodyBytes : (r.bodyText ?? (r.bodyBytes ? r.bodyBytes.toString('utf8') : ''));
  return { seq: r.seq, offsetUs: r.offsetUs, kind: r.kind, direction: r.direction, channel: r.channel, format: r.format, body, msgType: r.msgType, tick: r.tick, meta: r.meta };
}

// Text as Postgres holds it: well-formed Unicode (astral characters included), no NUL.
const text = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.split('\u0000').join(''));
const bytes = fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a));

const storedRow = fc.record({
  offsetUs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  kind: fc.constantFrom(...EVENT_KINDS),
  direction: fc.constantFrom(...DIRECTIONS),
  channel: fc.constantFrom(...CHANNELS),
  format: fc.constantFrom(...BODY_FORMATS),
  bodyText: fc.option(text),
  bodyBytes: fc.option(bytes),
  msgType: fc.option(fc.oneof(fc.constantFrom('frame', 'tick', 'ws-close', 'NULL', ''), text)),
  tick: fc.option(fc.integer({ min: -2_147_483_648, max: 2_147_483_647 })),
  meta: fc.option(fc.oneof(fc.constant('{"code":1000,"reason":"GAME_OVER"}'), text)),
});

describe('ReplayPage', () => {
  it('yields the same rows as the row reader, for any page (property)', () => {
    fc.assert(
      fc.property(fc.array(storedRow, { maxLength: 30 }), fc.integer({ min: 1, max: 1000 }), (drafts, firstSeq) => {
        const rows: StoredRow[] = drafts.map((d, i) => ({ ...d, seq: firstSeq + i }));
        const page = ReplayPage.fromColumns(columnsOf(rows));
        expect(page.length).toBe(rows.length);
        expect(page.rows()).toEqual(rows.map(rowOf));
        expect([...page]).toEqual(rows.map(rowOf));
        rows.forEach((r, i) => {
          expect(page.seqAt(i)).toBe(r.seq);
          expect(page.offsetUsAt(i)).toBe(r.offsetUs);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('builds each row when asked: a fresh object, the same strings, a binary body copied out of the page', () => {
    const rows: StoredRow[] = [
      { seq: 1, offsetUs: 7, kind: 'frame', direction: 'platform_to_client', channel: 'play_ws', format: 'json', bodyText: '{"t":"tick"}', bodyBytes: null, msgType: 'tick', tick: 1, meta: null },
      {
        seq: 2,
        offsetUs: 9,
        kind: 'input',
        direction: 'client_to_platform',
        channel: 'play_ws',
        format: 'binary',
        bodyText: null,
        bodyBytes: Buffer.from([1, 2, 3]),
        msgType: null,
        tick: null,
        meta: null,
      },
    ];
    const page = ReplayPage.fromColumns(columnsOf(rows));
    const a = page.at(0);
    expect(page.at(0)).not.toBe(a);
    expect(page.at(0).kind).toBe('frame');
    const binary = page.at(1).body as Buffer;
    binary[0] = 99;
    expect(page.at(1).body).toEqual(Buffer.from([1, 2, 3]));
  });

  it('refuses columns that do not agree with the count of events', () => {
    const good = columnsOf([
      { seq: 1, offsetUs: 7, kind: 'frame', direction: 'platform_to_client', channel: 'play_ws', format: 'text', bodyText: 'x', bodyBytes: null, msgType: null, tick: null, meta: null },
    ]);
    expect(() => ReplayPage.fromColumns({ ...good, n: 2 })).toThrow(/replay page/);
    expect(() => ReplayPage.fromColumns({ ...good, seqs: '1,2' })).toThrow(/replay page/);
    expect(() => ReplayPage.fromColumns({ ...good, body_text: 'xy' })).toThrow(/replay page/);
    expect(() => ReplayPage.fromColumns({ ...good, offsets: 'seven' })).toThrow(/replay page/);
  });
});
