import { createHash, hash } from 'node:crypto';
import { NewEvent } from './types';

/**
 * The hash chain. Each event's hash is sha256(previous hash ‖ canonical encoding of the event); the
 * first event's previous hash is the session's genesis hash, so a chain cannot be moved to another session.
 *
 * Canonical encoding (documented in docs/event-log.md; a version is never changed in place):
 *   version 1, an event without meta:
 *     header = JSON.stringify(["rewind-event/1", sessionId, seq, kind, direction, channel, recordedAtUs,
 *                              offsetUs, format, msgType|null, tick|null, requestId|null, bodyByteLength])
 *   version 2, an event with meta: the same array with "rewind-event/2" first and the meta text appended
 *   encoding = utf8(header) ‖ 0x0a ‖ body bytes (utf8 of a text body; the raw bytes of a binary one)
 * Which version applies follows from the event itself (meta present or not), so events written before
 * meta existed keep verifying unchanged.
 */
export const HASH_VERSION = 'rewind-event/1';
export const HASH_VERSION_META = 'rewind-event/2';

export function genesisHash(sessionId: string): Buffer {
  return createHash('sha256').update(`rewind-genesis/1\n${sessionId}`, 'utf8').digest();
}

export function bodyBytes(body: string | Buffer | null): Buffer {
  if (body === null) return EMPTY;
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

const EMPTY = Buffer.alloc(0);
const NEWLINE = Buffer.from('\n');

/**
 * The header line, byte for byte what JSON.stringify of the array above gives, built without the
 * array (uuid, enum and integer fields need no escaping; validated before hashing).
 */
export function canonicalHeader(event: NewEvent, bodyLength: number): string {
  const meta = event.meta ?? null;
  return (
    `["${meta === null ? HASH_VERSION : HASH_VERSION_META}","${event.sessionId}",${event.seq},"${event.kind}","${event.direction}","${event.channel}",` +
    `${event.recordedAtUs},${event.offsetUs},"${event.format}",${jsonOrNull(event.msgType)},${event.tick ?? 'null'},` +
    `${jsonOrNull(event.requestId)},${bodyLength}${meta === null ? '' : `,${JSON.stringify(meta)}`}]`
  );
}

const jsonOrNull = (v: string | null | undefined): string => (v == null ? 'null' : JSON.stringify(v));

/**
 * The event's hash after `previous`. A text body is hashed as its UTF-8 bytes without making them a Buffer first
 * (`Buffer.byteLength` and the hash's own UTF-8 conversion give the bytes `Buffer.from(body, 'utf8')` would, lone
 * surrogates included): one copy and one allocation less per appended event, on the store's hot path.
 */
export function eventHash(previous: Buffer, event: NewEvent, body?: Buffer): Buffer {
  const h = createHash('sha256').update(previous);
  if (body === undefined && typeof event.body === 'string') {
    return h
      .update(canonicalHeader(event, Buffer.byteLength(event.body, 'utf8')), 'utf8')
      .update(NEWLINE)
      .update(event.body, 'utf8')
      .digest();
  }
  const bytes = body ?? bodyBytes(event.body);
  return h.update(canonicalHeader(event, bytes.length), 'utf8').update(NEWLINE).update(bytes).digest();
}

/** Above this many bytes an event's hash input is streamed piece by piece instead of assembled in the scratch buffer. */
const SCRATCH_MAX = 1024 * 1024;
/** Where `eventHashOfBody` assembles an event's hash input (one per thread: a module instance per thread). */
let scratch = Buffer.allocUnsafe(16 * 1024);

/**
 * The event's hash after `previous`, its body given as bytes already encoded (`bytes[start, end)`: where a COPY row
 * holds them): previous ‖ header ‖ 0x0a ‖ body assembled in one scratch buffer and hashed in one call, the bytes
 * `eventHash` feeds its hash piece by piece (a Hash object and four updates per event cost a third more).
 */
export function eventHashOfBody(previous: Buffer, event: NewEvent, bytes: Buffer, start: number, end: number): Buffer {
  const header = canonicalHeader(event, end - start);
  const need = previous.length + header.length * 3 + 1 + (end - start);
  if (need > SCRATCH_MAX) return createHash('sha256').update(previous).update(header, 'utf8').update(NEWLINE).update(bytes.subarray(start, end)).digest();
  if (need > scratch.length) scratch = Buffer.allocUnsafe(Math.max(need, scratch.length * 2));
  let n = previous.copy(scratch, 0);
  n += scratch.write(header, n, 'utf8');
  scratch[n++] = 0x0a;
  n += bytes.copy(scratch, n, start, end);
  return hash('sha256', scratch.subarray(0, n), 'buffer');
}
