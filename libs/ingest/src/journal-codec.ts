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
    `{"t":"event","o":${num(item.ordinal)},"sessionId":${JSON.stringify(e.sessionId)},"seq":${num(e.seq)},"kind":${JSON.stringify(e.kind)},` +
    `"direction":${JSON.stringify(e.direction)},"channel":${JSON.stringify(e.channel)},"recordedAtUs":${num(e.recordedAtUs)},"offsetUs":${num(e.offsetUs)},` +
    `"format":${JSON.stringify(e.format)},"body":${body},"msgType":${JSON.stringify(e.msgType ?? null)},"tick":${num(e.tick ?? null)},"requestId":${JSON.stringify(e.requestId ?? null)}${meta}${outbox}}`
  );
}

/** A number as JSON.stringify writes it (null for NaN / Infinity / null). */
function num(n: number | null): string {
  return n !== null && Number.isFinite(n) ? String(n) : 'null';
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
