import { EventStoreError } from '../errors';
import { validateEvent, isUuid } from '../validate';
import { NewEvent, PLATFORMS, SESSION_STATUSES, SessionStatus, StoredEvent, Platform } from '../types';

/**
 * The portable session format `rewind-export/1` (NDJSON), documented in docs/export-format.md:
 *   line 1     the header: format tag, export time, the session row, the event count
 *   lines 2…   one event per line, in seq order, every field (binary bodies base64 with "b64": true)
 *   last line  optionally the trailer { end: true, events, headHash }
 */
export const EXPORT_FORMAT = 'rewind-export/1';

export interface ExportedSession {
  id: string;
  platform: Platform;
  game: string | null;
  platformSessionId: string | null;
  agent: string | null;
  source: string | null;
  status: SessionStatus;
  /** ISO 8601, UTC, microseconds (`2026-11-23T10:00:00.123456Z`). */
  startedAt: string;
  endedAt: string | null;
  outcome: unknown;
  metadata: Record<string, unknown>;
  headSeq: number;
  /** Lower-case hex. */
  headHash: string;
  sealedAt: string | null;
  sealedHash: string | null;
  sealedCount: number | null;
}

export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  session: ExportedSession;
  /** Event lines that follow (= session.headSeq). */
  events: number;
}

export interface ExportTrailer {
  end: true;
  events: number;
  headHash: string;
}

export interface ExportProgress {
  sessionId: string;
  /** Events written (export) or read and checked (import) so far. */
  events: number;
  /** Events of the whole session, from the header. */
  total: number;
}

export enum PortableErrorCode {
  /** Not a `rewind-export/1` file, or a line that is not what the format says. */
  BadFile = 'BAD_FILE',
  /** An event line's seq does not follow the previous one (a line missing, duplicated or moved). */
  SeqGap = 'SEQ_GAP',
  /** An event's stored hash differs from the one recomputed from the file (edited content). */
  HashMismatch = 'HASH_MISMATCH',
  /** The file's chain does not end where the header (or trailer) says: truncated, or head/seal edited. */
  HeadMismatch = 'HEAD_MISMATCH',
  /** The target already holds this session id with different content. */
  SessionConflict = 'SESSION_CONFLICT',
  /** Export: no such session. */
  SessionNotFound = 'SESSION_NOT_FOUND',
  /** Export: the stored chain does not verify (run `rewind verify`); an export would not import. */
  ChainBroken = 'CHAIN_BROKEN',
}

export class PortableError extends Error {
  constructor(
    readonly code: PortableErrorCode,
    message: string,
    /** 1-based line of the file the problem is on, when it is about one. */
    readonly line: number | null = null,
    readonly details: Record<string, unknown> = {},
  ) {
    super(line === null ? message : `line ${line}: ${message}`);
    this.name = 'PortableError';
  }
}

const HEX32 = /^[0-9a-f]{64}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const EVENT_KEYS = new Set(['seq', 'kind', 'direction', 'channel', 'recordedAtUs', 'offsetUs', 'format', 'body', 'b64', 'msgType', 'tick', 'requestId', 'meta', 'hash']);
const REQUIRED_EVENT_KEYS = [...EVENT_KEYS].filter((k) => k !== 'b64');

/** One event line (without the newline). Key order is fixed, so an export is deterministic. */
export function encodeEventLine(e: StoredEvent): string {
  let body: string;
  if (e.format === 'binary') body = `${JSON.stringify((e.body as Buffer).toString('base64'))},"b64":true`;
  else if (e.format === 'empty' || e.body === null) body = 'null';
  else body = JSON.stringify(typeof e.body === 'string' ? e.body : e.body.toString('utf8'));
  return (
    `{"seq":${e.seq},"kind":"${e.kind}","direction":"${e.direction}","channel":"${e.channel}",` +
    `"recordedAtUs":${e.recordedAtUs},"offsetUs":${e.offsetUs},"format":"${e.format}","body":${body},` +
    `"msgType":${JSON.stringify(e.msgType)},"tick":${e.tick === null ? 'null' : e.tick},"requestId":${JSON.stringify(e.requestId)},` +
    `"meta":${JSON.stringify(e.meta)},"hash":"${e.hash.toString('hex')}"}`
  );
}

export function parseJsonLine(text: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PortableError(PortableErrorCode.BadFile, `not valid JSON (${(e as Error).message})`, line);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PortableError(PortableErrorCode.BadFile, 'expected a JSON object', line);
  }
  return value as Record<string, unknown>;
}

const bad = (line: number, problem: string): PortableError => new PortableError(PortableErrorCode.BadFile, problem, line);

function nullableString(o: Record<string, unknown>, key: string, line: number): string | null {
  const v = o[key];
  if (v === null || typeof v === 'string') return v;
  throw bad(line, `session.${key} must be a string or null`);
}

function nullableTime(o: Record<string, unknown>, key: string, line: number): string | null {
  const v = o[key];
  if (v === null) return null;
  if (typeof v === 'string' && ISO_UTC.test(v) && !Number.isNaN(Date.parse(v))) return v;
  throw bad(line, `session.${key} must be an ISO 8601 UTC time (…Z) or null`);
}

function nullableHex(o: Record<string, unknown>, key: string, line: number): string | null {
  const v = o[key];
  if (v === null) return null;
  if (typeof v === 'string' && HEX32.test(v)) return v;
  throw bad(line, `session.${key} must be 64 lower-case hex digits or null`);
}

function count(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 2_147_483_647;
}

/** Checks the header line (line 1): the format tag and every session field. */
export function parseHeader(text: string | undefined): ExportHeader {
  if (text === undefined || text.trim() === '') throw bad(1, `the file is empty: expected a ${EXPORT_FORMAT} header`);
  const h = parseJsonLine(text, 1);
  if (!('format' in h) || ('seq' in h && !('session' in h))) throw bad(1, `no header: line 1 is not a ${EXPORT_FORMAT} header (it has no "format" and "session"; an event line?)`);
  if (h.format !== EXPORT_FORMAT) throw bad(1, `unknown format ${JSON.stringify(h.format)} (this version reads "${EXPORT_FORMAT}")`);
  if (typeof h.exportedAt !== 'string') throw bad(1, 'header.exportedAt must be a string');
  if (!count(h.events)) throw bad(1, 'header.events must be a non-negative integer');
  const s = h.session;
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw bad(1, 'header.session must be an object');
  const o = s as Record<string, unknown>;
  for (const key of [
    'id',
    'platform',
    'game',
    'platformSessionId',
    'agent',
    'source',
    'status',
    'startedAt',
    'endedAt',
    'outcome',
    'metadata',
    'headSeq',
    'headHash',
    'sealedAt',
    'sealedHash',
    'sealedCount',
  ]) {
    if (!(key in o)) throw bad(1, `header.session.${key} is missing`);
  }
  if (!isUuid(o.id)) throw bad(1, 'session.id must be a uuid');
  if (!(PLATFORMS as readonly unknown[]).includes(o.platform)) throw bad(1, `unknown session.platform ${JSON.stringify(o.platform)}`);
  if (!(SESSION_STATUSES as readonly unknown[]).includes(o.status)) throw bad(1, `unknown session.status ${JSON.stringify(o.status)}`);
  const startedAt = nullableTime(o, 'startedAt', 1);
  if (startedAt === null) throw bad(1, 'session.startedAt is required');
  if (typeof o.metadata !== 'object' || o.metadata === null || Array.isArray(o.metadata)) throw bad(1, 'session.metadata must be an object');
  if (!count(o.headSeq)) throw bad(1, 'session.headSeq must be a non-negative integer');
  const headHash = nullableHex(o, 'headHash', 1);
  if (headHash === null) throw bad(1, 'session.headHash is required');
  if (o.sealedCount !== null && !count(o.sealedCount)) throw bad(1, 'session.sealedCount must be a non-negative integer or null');
  const session: ExportedSession = {
    id: o.id as string,
    platform: o.platform as Platform,
    game: nullableString(o, 'game', 1),
    platformSessionId: nullableString(o, 'platformSessionId', 1),
    agent: nullableString(o, 'agent', 1),
    source: nullableString(o, 'source', 1),
    status: o.status as SessionStatus,
    startedAt,
    endedAt: nullableTime(o, 'endedAt', 1),
    outcome: o.outcome,
    metadata: o.metadata as Record<string, unknown>,
    headSeq: o.headSeq as number,
    headHash,
    sealedAt: nullableTime(o, 'sealedAt', 1),
    sealedHash: nullableHex(o, 'sealedHash', 1),
    sealedCount: o.sealedCount as number | null,
  };
  if (session.headSeq !== h.events) throw bad(1, `header.events (${h.events}) differs from session.headSeq (${session.headSeq})`);
  const sealed = session.sealedAt !== null;
  if (sealed !== (session.status === 'sealed') || sealed !== (session.sealedHash !== null) || sealed !== (session.sealedCount !== null)) {
    throw bad(1, 'session.status "sealed", sealedAt, sealedHash and sealedCount must be all set or all null');
  }
  if (sealed && (session.sealedCount !== session.headSeq || session.sealedHash !== session.headHash)) {
    throw bad(1, 'the seal (sealedCount, sealedHash) differs from the head (headSeq, headHash)');
  }
  if (session.status !== 'open' && session.endedAt === null) throw bad(1, `a ${session.status} session needs endedAt`);
  return { format: EXPORT_FORMAT, exportedAt: h.exportedAt, session, events: h.events };
}

/** `…T…(.fraction)Z` → the canonical microsecond form `YYYY-MM-DDTHH:MM:SS.ffffffZ` (for comparisons). */
export function canonicalTime(iso: string | null): string | null {
  if (iso === null) return null;
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/.exec(iso);
  if (!m) return iso;
  return `${new Date(`${m[1]}Z`).toISOString().slice(0, 19)}.${(m[2] ?? '').padEnd(6, '0')}Z`;
}

export function isTrailer(o: Record<string, unknown>): boolean {
  return 'end' in o;
}

export function parseTrailer(o: Record<string, unknown>, line: number): ExportTrailer {
  if (o.end !== true || !count(o.events) || typeof o.headHash !== 'string' || !HEX32.test(o.headHash)) {
    throw bad(line, 'the trailer must be {"end":true,"events":<count>,"headHash":"<hex>"}');
  }
  return { end: true, events: o.events, headHash: o.headHash };
}

/** Checks one event line's fields and turns it into the event to append, plus the hash it claims. */
export function parseEventLine(o: Record<string, unknown>, sessionId: string, line: number): { event: NewEvent; hash: Buffer } {
  for (const key of REQUIRED_EVENT_KEYS) if (!(key in o)) throw bad(line, `event field "${key}" is missing`);
  for (const key of Object.keys(o)) if (!EVENT_KEYS.has(key)) throw bad(line, `unknown event field "${key}"`);
  if (typeof o.hash !== 'string' || !HEX32.test(o.hash)) throw bad(line, 'hash must be 64 lower-case hex digits');
  let body: string | Buffer | null;
  if (o.format === 'binary') {
    if (o.b64 !== true || typeof o.body !== 'string' || !BASE64.test(o.body)) {
      throw bad(line, 'a binary body must be a base64 string (padded, standard alphabet) with "b64": true');
    }
    body = Buffer.from(o.body, 'base64');
  } else {
    if ('b64' in o) throw bad(line, `"b64" is only for binary bodies, not ${JSON.stringify(o.format)}`);
    if (o.format === 'empty') {
      if (o.body !== null) throw bad(line, 'an empty-format event has body null');
      body = null;
    } else if (typeof o.body === 'string') body = o.body;
    else throw bad(line, `a ${JSON.stringify(o.format)} body must be a string`);
  }
  const event = {
    sessionId,
    seq: o.seq,
    kind: o.kind,
    direction: o.direction,
    channel: o.channel,
    recordedAtUs: o.recordedAtUs,
    offsetUs: o.offsetUs,
    format: o.format,
    body,
    msgType: o.msgType,
    tick: o.tick,
    requestId: o.requestId,
    meta: o.meta,
  } as NewEvent;
  try {
    validateEvent(event, 0);
  } catch (e) {
    if (e instanceof EventStoreError) throw bad(line, String(e.details.problem ?? e.message));
    throw e;
  }
  return { event, hash: Buffer.from(o.hash, 'hex') };
}

/** JSON with object keys sorted: equality of jsonb values regardless of key order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v as object)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}
