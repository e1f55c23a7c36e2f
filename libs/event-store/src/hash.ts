import { createHash } from 'node:crypto';
import { NewEvent } from './types';

/**
 * The hash chain. Each event's hash is sha256(previous hash ‖ canonical encoding of the event); the
 * first event's previous hash is the session's genesis hash, so a chain cannot be moved to another session.
 *
 * Canonical encoding, version 1 (documented in docs/event-log.md, never changed in place):
 *   header = JSON.stringify(["rewind-event/1", sessionId, seq, kind, direction, channel, recordedAtUs,
 *                            offsetUs, format, msgType|null, tick|null, requestId|null, bodyByteLength])
 *   encoding = utf8(header) ‖ 0x0a ‖ body bytes (utf8 of a text body; the raw bytes of a binary one)
 */
export const HASH_VERSION = 'rewind-event/1';

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
  return (
    `["${HASH_VERSION}","${event.sessionId}",${event.seq},"${event.kind}","${event.direction}","${event.channel}",` +
    `${event.recordedAtUs},${event.offsetUs},"${event.format}",${jsonOrNull(event.msgType)},${event.tick ?? 'null'},` +
    `${jsonOrNull(event.requestId)},${bodyLength}]`
  );
}

const jsonOrNull = (v: string | null | undefined): string => (v == null ? 'null' : JSON.stringify(v));

export function eventHash(previous: Buffer, event: NewEvent, body: Buffer = bodyBytes(event.body)): Buffer {
  return createHash('sha256').update(previous).update(canonicalHeader(event, body.length), 'utf8').update(NEWLINE).update(body).digest();
}
