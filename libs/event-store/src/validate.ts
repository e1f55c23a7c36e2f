import { invalidEvent } from './errors';
import { BODY_FORMATS, CHANNELS, DIRECTIONS, EVENT_KINDS, NewEvent } from './types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const kinds = new Set<string>(EVENT_KINDS);
const directions = new Set<string>(DIRECTIONS);
const channels = new Set<string>(CHANNELS);
const formats = new Set<string>(BODY_FORMATS);
const INT32_MAX = 2_147_483_647;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** Checks one event at the store's edge; throws `INVALID_EVENT` naming the first problem. */
export function validateEvent(e: NewEvent, index: number): void {
  if (!isUuid(e.sessionId)) throw invalidEvent(index, `sessionId must be a uuid (got ${JSON.stringify(e.sessionId)})`);
  if (!Number.isInteger(e.seq) || e.seq < 1 || e.seq > INT32_MAX) throw invalidEvent(index, `seq must be an integer from 1 (got ${e.seq})`);
  if (!kinds.has(e.kind)) throw invalidEvent(index, `unknown kind ${JSON.stringify(e.kind)}`);
  if (!directions.has(e.direction)) throw invalidEvent(index, `unknown direction ${JSON.stringify(e.direction)}`);
  if (!channels.has(e.channel)) throw invalidEvent(index, `unknown channel ${JSON.stringify(e.channel)}`);
  if (!Number.isSafeInteger(e.recordedAtUs) || e.recordedAtUs < 0) throw invalidEvent(index, `recordedAtUs must be a non-negative integer`);
  if (!Number.isSafeInteger(e.offsetUs) || e.offsetUs < 0) throw invalidEvent(index, `offsetUs must be a non-negative integer`);
  if (!formats.has(e.format)) throw invalidEvent(index, `unknown format ${JSON.stringify(e.format)}`);
  if (e.format === 'empty') {
    if (e.body !== null && e.body !== '') throw invalidEvent(index, `an empty-format event has no body`);
  } else if (e.format === 'binary') {
    if (!Buffer.isBuffer(e.body)) throw invalidEvent(index, `a binary event's body must be a Buffer`);
  } else if (typeof e.body !== 'string') {
    throw invalidEvent(index, `a ${e.format} event's body must be a string`);
  }
  if (e.tick != null && (!Number.isInteger(e.tick) || Math.abs(e.tick) > INT32_MAX)) throw invalidEvent(index, `tick must be a 32-bit integer`);
  if (e.msgType != null && typeof e.msgType !== 'string') throw invalidEvent(index, `msgType must be a string`);
  if (e.requestId != null && typeof e.requestId !== 'string') throw invalidEvent(index, `requestId must be a string`);
  if (e.meta != null) {
    if (typeof e.meta !== 'string') throw invalidEvent(index, `meta must be JSON text (a string)`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(e.meta);
    } catch {
      throw invalidEvent(index, `meta is not valid JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidEvent(index, `meta must be a JSON object`);
  }
}
