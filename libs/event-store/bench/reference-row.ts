import { COPY_NULL, copyBytea, copyText } from '../src/copy-encoding';
import { bodyBytes } from '../src/hash';
import type { NewEvent } from '../src/types';

/**
 * A COPY row as the store encoded it before rows were written as bytes (one string per row, a `Date` per
 * timestamp): the reference the byte writer is held to (copy-encoding.spec.ts) and measured against
 * (bench/copy-rows.bench.ts).
 */
export function referenceRow(e: NewEvent, hash: Buffer): string {
  const text = typeof e.body === 'string' && e.body.length > 0 && !e.body.includes('\u0000') ? e.body : null;
  const bytes = e.format === 'binary' || (typeof e.body === 'string' && text === null && e.body.length > 0) ? bodyBytes(e.body) : null;
  const row = [
    e.sessionId,
    e.seq,
    e.kind,
    e.direction,
    e.channel,
    referenceTimestamp(e.recordedAtUs),
    e.offsetUs,
    e.format,
    e.format === 'empty' ? COPY_NULL : e.body === '' ? '' : copyText(text),
    copyBytea(bytes),
    copyText(e.msgType),
    e.tick == null ? COPY_NULL : String(e.tick),
    copyText(e.requestId),
    copyText(e.meta),
    copyBytea(hash),
  ].join('\t');
  return `${row}\n`;
}

/** The timestamp literal as it was formatted per row (a Date per row). */
export function referenceTimestamp(us: number): string {
  const iso = new Date(Math.floor(us / 1000)).toISOString();
  return `${iso.slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}+00`;
}
