import { createHash, randomUUID } from 'node:crypto';
import { aFrame } from './test-support';
import { canonicalHeader, eventHash, genesisHash, HASH_VERSION, HASH_VERSION_META } from './hash';
import { NewEvent } from './types';

/** The documented definition, written out the slow, obvious way. */
function referenceHash(previous: Buffer, e: NewEvent): Buffer {
  const body = e.body === null ? Buffer.alloc(0) : typeof e.body === 'string' ? Buffer.from(e.body, 'utf8') : e.body;
  const fields = [
    e.meta == null ? HASH_VERSION : HASH_VERSION_META,
    e.sessionId,
    e.seq,
    e.kind,
    e.direction,
    e.channel,
    e.recordedAtUs,
    e.offsetUs,
    e.format,
    e.msgType ?? null,
    e.tick ?? null,
    e.requestId ?? null,
    body.length,
  ];
  const header = JSON.stringify(e.meta == null ? fields : [...fields, e.meta]);
  return createHash('sha256')
    .update(Buffer.concat([previous, Buffer.from(header + '\n', 'utf8'), body]))
    .digest();
}

describe('event hash', () => {
  const id = randomUUID();
  const variants: Partial<NewEvent>[] = [
    {},
    { msgType: 'quote " backslash \\ newline \n tab \t unicode ✓ \u0001', requestId: 'r"1' },
    { msgType: null, tick: null, requestId: null },
    { tick: -5 },
    { format: 'binary', body: Buffer.from([0, 255, 10]) },
    { format: 'empty', body: null },
    { format: 'text', body: 'ünïcödé 🦀' },
    // A text body is hashed from the string (no Buffer first): lone surrogates, NUL and empty hash as their UTF-8 bytes would.
    { format: 'text', body: 'lone \ud800 high, \udfff low, nul \u0000 end' },
    { format: 'json', body: '' },
    { kind: 'response', channel: 'http', meta: '{"status":200,"headers":[["content-type","application/json"]],"note":"quote \\" ✓"}' },
  ];

  it.each(variants.map((v, i) => [i, v] as const))('matches the documented encoding (variant %i)', (_i, v) => {
    const e = aFrame(id, 3, v);
    const body = e.body === null ? 0 : Buffer.byteLength(e.body as string | Buffer);
    const fields = [
      e.meta == null ? HASH_VERSION : HASH_VERSION_META,
      e.sessionId,
      e.seq,
      e.kind,
      e.direction,
      e.channel,
      e.recordedAtUs,
      e.offsetUs,
      e.format,
      e.msgType ?? null,
      e.tick ?? null,
      e.requestId ?? null,
      body,
    ];
    expect(canonicalHeader(e, body)).toBe(JSON.stringify(e.meta == null ? fields : [...fields, e.meta]));
    const previous = createHash('sha256').update('prev').digest();
    expect(eventHash(previous, e).equals(referenceHash(previous, e))).toBe(true);
  });

  it('keeps the version-1 hash of an event without meta (events written before meta existed still verify)', () => {
    const e = aFrame(id, 7);
    const previous = genesisHash(id);
    expect(eventHash(previous, { ...e, meta: null }).equals(eventHash(previous, e))).toBe(true);
    expect(canonicalHeader(e, 1).startsWith(`["${HASH_VERSION}",`)).toBe(true);
    expect(canonicalHeader({ ...e, meta: '{}' }, 1).startsWith(`["${HASH_VERSION_META}",`)).toBe(true);
  });

  it('binds the chain to its session and to every field', () => {
    expect(genesisHash(id).equals(genesisHash(randomUUID()))).toBe(false);
    const base = aFrame(id, 3);
    const g = genesisHash(id);
    const changed: Partial<NewEvent>[] = [
      { seq: 4 },
      { kind: 'input' },
      { direction: 'internal' },
      { channel: 'spectate_ws' },
      { recordedAtUs: base.recordedAtUs + 1 },
      { offsetUs: base.offsetUs + 1 },
      { format: 'text' },
      { msgType: 'x' },
      { tick: 99 },
      { requestId: 'r' },
      { body: `${base.body} ` },
      { meta: '{}' },
      { meta: '{"status":200}' },
    ];
    for (const c of changed) expect(eventHash(g, { ...base, ...c }).equals(eventHash(g, base))).toBe(false);
  });
});
