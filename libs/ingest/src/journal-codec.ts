import type { NewEvent, NewOutboxMessage, NewSession } from '@rewind/event-store';
import { IngestItem } from './types';

/**
 * One NDJSON line per item. Events keep every field, the seq included; a binary body is base64 with
 * `"b64":true`, a text body is the exact string (JSON.stringify round-trips every UTF-16 string,
 * lone surrogates included), so a replayed event hashes exactly as the original would have.
 */
export function encodeItem(item: IngestItem): string {
  if (item.type === 'open') {
    const s = item.session;
    return JSON.stringify({
      t: 'open',
      o: item.ordinal,
      session: { ...s, startedAt: s.startedAt.toISOString() },
    });
  }
  if (item.type === 'end') {
    return JSON.stringify({ t: 'end', o: item.ordinal, sessionId: item.sessionId, endedAt: item.endedAt.toISOString(), ...(item.outcome !== undefined ? { outcome: item.outcome } : {}) });
  }
  if (item.type === 'seal' || item.type === 'release') return JSON.stringify({ t: item.type, o: item.ordinal, sessionId: item.sessionId });
  const e = item.event;
  const binary = Buffer.isBuffer(e.body);
  return eventLine(item, binary ? `"${(e.body as Buffer).toString('base64')}","b64":true` : JSON.stringify(e.body));
}

/**
 * An event's line with its body's JSON given (`"body":` is followed by `body`). The hot path (one line per recorded
 * event, on the recorder's event loop): the line is built as a string, no intermediate object; every value goes
 * through JSON.stringify (bar numbers), so it is the same JSON.
 */
function eventLine(item: Extract<IngestItem, { type: 'event' }>, body: string, type: 'event' | 'event-raw' = 'event'): string {
  const e = item.event;
  const meta = e.meta !== undefined && e.meta !== null ? `,"meta":${JSON.stringify(e.meta)}` : '';
  const outbox = item.outbox && item.outbox.length > 0 ? `,"outbox":${JSON.stringify(item.outbox)}` : '';
  return (
    `{"t":"${type}","o":${num(item.ordinal)},"sessionId":${JSON.stringify(e.sessionId)},"seq":${num(e.seq)},"kind":${word(e.kind)},` +
    `"direction":${word(e.direction)},"channel":${word(e.channel)},"recordedAtUs":${num(e.recordedAtUs)},"offsetUs":${num(e.offsetUs)},` +
    `"format":${word(e.format)},"body":${body},"msgType":${e.msgType === null || e.msgType === undefined ? 'null' : word(e.msgType)},"tick":${num(e.tick ?? null)},"requestId":${JSON.stringify(e.requestId ?? null)}${meta}${outbox}}`
  );
}

/**
 * Short strings that recur on every line (kind, direction, channel, format, the message types), as JSON: each is
 * quoted once and then looked up. Bounded: past 512 distinct strings (message types come from the wire) the rest
 * are quoted each time.
 */
const words = new Map<string, string>();
function word(s: string): string {
  let q = words.get(s);
  if (q === undefined) {
    q = JSON.stringify(s);
    if (words.size < 512 && s.length <= 64) words.set(s, q);
  }
  return q;
}

const ZEROS = ['', '0', '00', '000', '0000', '00000'];

/** Below this, `n / 1e6` is exact enough that its floor is the integer's high digits (its high half stays below 2^31). */
const SPLIT_BELOW = 2_147_483_647 * 1e6;

/**
 * A number as JSON.stringify writes it (null for NaN / Infinity / null). The wall-clock µs of every line
 * (~1.8e15) is no small integer, and V8's general number-to-string of it costs ~250 ns: such an integer is
 * written as its two halves, each a small integer, instead (~90 ns); the same digits.
 */
export function num(n: number | null): string {
  if (n === null) return 'null';
  if ((n | 0) === n) return `${n}`;
  if (n > 0 && n < SPLIT_BELOW && Number.isInteger(n)) {
    const hi = Math.floor(n / 1e6);
    const lo = `${n - hi * 1e6}`;
    return `${hi}${ZEROS[6 - lo.length] as string}${lo}`;
  }
  return Number.isFinite(n) ? String(n) : 'null';
}

/** A text body shorter than this is written in its line (its JSON costs less than a second line's bookkeeping). */
const RAW_MIN = 64;

/**
 * One item as the write-ahead log writes it. An event with a text body of 64 UTF-16 units or more, well-formed (no lone
 * surrogate: its UTF-8 decodes back to the very string), is two lines: its line, of type `event-raw`, with
 * `"body":null,"raw":<length>`, then the body as it is, then a newline: the body is not escaped into JSON
 * (`JSON.stringify` of a 740-character frame was most of the line's cost, issue 18). A version that does not know
 * `event-raw` refuses the line and sets the file aside (`*.corrupt`) rather than read the body's line as an item. Everything else is its journal line (`encodeItem`). `decodeRecords` reads both,
 * and so a log left by a version that wrote journal lines only.
 */
export function encodeRecord(item: IngestItem): string {
  if (item.type === 'event') {
    const body = item.event.body;
    if (typeof body === 'string' && body.length >= RAW_MIN && wellFormed(body)) return `${eventLine(item, `null,"raw":${body.length}`, 'event-raw')}\n${body}\n`;
  }
  return `${encodeItem(item)}\n`;
}

/** No lone surrogate (`String.prototype.isWellFormed`, Node ≥ 20; not in the compiler's lib yet). */
const wellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * The items of a write-ahead log file's text (`encodeRecord`'s records, or journal lines of an older version), in
 * order. A last record cut short (the machine stopped mid-write: no final newline, or a body shorter than its length)
 * is left out and said (`torn`); a record that cannot be read elsewhere stops the reading (`bad`: its number and why).
 */
export function decodeRecords(text: string): { items: IngestItem[]; torn: boolean; bad: { record: number; message: string } | null } {
  const items: IngestItem[] = [];
  let pos = 0;
  for (let record = 1; pos < text.length; record++) {
    const nl = text.indexOf('\n', pos);
    const line = nl < 0 ? text.slice(pos) : text.slice(pos, nl);
    /** Where a raw body's closing newline is (-1: the record is one line). */
    let rawEnd = -1;
    try {
      const item = decodeItem(line, (length) => {
        const start = nl + 1;
        if (nl < 0 || start + length >= text.length) throw new TornRecord();
        if (text.charCodeAt(start + length) !== 0x0a) throw new JournalLineError(`a raw body of ${length} units is not followed by a newline`);
        rawEnd = start + length;
        return text.slice(start, start + length);
      });
      items.push(item);
    } catch (e) {
      const last = e instanceof TornRecord || nl < 0;
      if (last) return { items, torn: true, bad: null };
      return { items, torn: false, bad: { record, message: (e as Error).message } };
    }
    if (nl < 0) break; // a last line without its newline that reads whole: kept, as before
    pos = (rawEnd < 0 ? nl : rawEnd) + 1;
  }
  return { items, torn: false, bad: null };
}

/** A raw body that the file ends before (see `decodeRecords`). */
class TornRecord extends Error {
  constructor() {
    super('the record was cut mid-write');
  }
}

/** A journal line that is JSON but not a journal item: says which and why (the ingest logs and keeps it). */
export class JournalLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalLineError';
  }
}

/**
 * Reads one journal line. `rawBody` gives the body of a write-ahead log record whose body follows its line
 * (`"raw":<length>`, see `encodeRecord`); without it such a line is refused (the journal's segments hold none).
 */
export function decodeItem(line: string, rawBody?: (length: number) => string): IngestItem {
  const parsed = JSON.parse(line) as unknown;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new JournalLineError(`a journal line must be a JSON object (got ${line.slice(0, 40)})`);
  const j = parsed as Record<string, unknown>;
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new JournalLineError(`journal ${String(j['t'])} line without ${what}`);
  };
  need(typeof j['o'] === 'number', 'its ordinal ("o")');
  if (j['t'] === 'open') {
    const s = j['session'] as Record<string, unknown>;
    need(!!s && typeof s === 'object' && typeof s['id'] === 'string' && typeof s['startedAt'] === 'string', 'a session with id and startedAt');
    return { ordinal: j['o'] as number, type: 'open', session: { ...(s as unknown as NewSession), startedAt: new Date(s['startedAt'] as string) } };
  }
  if (j['t'] === 'end') {
    need(typeof j['sessionId'] === 'string' && typeof j['endedAt'] === 'string', 'sessionId and endedAt');
    return {
      ordinal: j['o'] as number,
      type: 'end',
      sessionId: j['sessionId'] as string,
      endedAt: new Date(j['endedAt'] as string),
      ...('outcome' in j ? { outcome: j['outcome'] } : {}),
    };
  }
  if (j['t'] === 'seal' || j['t'] === 'release') {
    need(typeof j['sessionId'] === 'string', 'its sessionId');
    return { ordinal: j['o'] as number, type: j['t'], sessionId: j['sessionId'] as string };
  }
  if (j['t'] !== 'event' && j['t'] !== 'event-raw') throw new Error(`unknown journal line type ${JSON.stringify(j['t'])}`);
  if (j['b64'] === true) need(typeof j['body'] === 'string', 'its base64 body');
  let body = j['b64'] === true ? Buffer.from(j['body'] as string, 'base64') : (j['body'] as string | null);
  // An event whose body follows its line (the write-ahead log's `event-raw`: a type of its own, so a version that
  // does not know it refuses the line, and sets its file aside, instead of taking the body's line for an item).
  if (j['t'] === 'event-raw') {
    const length = j['raw'];
    need(typeof length === 'number' && Number.isSafeInteger(length) && length >= 0 && j['body'] === null, 'a raw body length (a whole number) and "body":null');
    if (!rawBody) throw new JournalLineError('a line whose body follows it ("event-raw") outside a write-ahead log');
    body = rawBody(length as number);
  } else if ('raw' in j) throw new JournalLineError('a line of type event with a raw body length (only event-raw has one)');
  const event: NewEvent = {
    sessionId: j['sessionId'] as string,
    seq: j['seq'] as number,
    kind: j['kind'] as NewEvent['kind'],
    direction: j['direction'] as NewEvent['direction'],
    channel: j['channel'] as NewEvent['channel'],
    recordedAtUs: j['recordedAtUs'] as number,
    offsetUs: j['offsetUs'] as number,
    format: j['format'] as NewEvent['format'],
    body,
    msgType: j['msgType'] as string | null,
    tick: j['tick'] as number | null,
    requestId: j['requestId'] as string | null,
    ...(typeof j['meta'] === 'string' ? { meta: j['meta'] } : {}),
  };
  const outbox = Array.isArray(j['outbox']) ? (j['outbox'] as NewOutboxMessage[]) : undefined;
  return { ordinal: j['o'] as number, type: 'event', event, ...(outbox ? { outbox } : {}) };
}
