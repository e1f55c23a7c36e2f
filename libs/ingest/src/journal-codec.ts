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
  // The hot path (one line per recorded event, on the recorder's event loop): the line is built as a string, no
  // intermediate object; every value goes through JSON.stringify (bar numbers), so it is the same JSON.
  const e = item.event;
  const binary = Buffer.isBuffer(e.body);
  const body = binary ? `"${(e.body as Buffer).toString('base64')}","b64":true` : JSON.stringify(e.body);
  const meta = e.meta !== undefined && e.meta !== null ? `,"meta":${JSON.stringify(e.meta)}` : '';
  const outbox = item.outbox && item.outbox.length > 0 ? `,"outbox":${JSON.stringify(item.outbox)}` : '';
  return (
    `{"t":"event","o":${num(item.ordinal)},"sessionId":${JSON.stringify(e.sessionId)},"seq":${num(e.seq)},"kind":${word(e.kind)},` +
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

/** A journal line that is JSON but not a journal item: says which and why (the ingest logs and keeps it). */
export class JournalLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalLineError';
  }
}

export function decodeItem(line: string): IngestItem {
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
  if (j['t'] !== 'event') throw new Error(`unknown journal line type ${JSON.stringify(j['t'])}`);
  if (j['b64'] === true) need(typeof j['body'] === 'string', 'its base64 body');
  const event: NewEvent = {
    sessionId: j['sessionId'] as string,
    seq: j['seq'] as number,
    kind: j['kind'] as NewEvent['kind'],
    direction: j['direction'] as NewEvent['direction'],
    channel: j['channel'] as NewEvent['channel'],
    recordedAtUs: j['recordedAtUs'] as number,
    offsetUs: j['offsetUs'] as number,
    format: j['format'] as NewEvent['format'],
    body: j['b64'] === true ? Buffer.from(j['body'] as string, 'base64') : (j['body'] as string | null),
    msgType: j['msgType'] as string | null,
    tick: j['tick'] as number | null,
    requestId: j['requestId'] as string | null,
    ...(typeof j['meta'] === 'string' ? { meta: j['meta'] } : {}),
  };
  const outbox = Array.isArray(j['outbox']) ? (j['outbox'] as NewOutboxMessage[]) : undefined;
  return { ordinal: j['o'] as number, type: 'event', event, ...(outbox ? { outbox } : {}) };
}
