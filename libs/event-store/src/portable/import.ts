import type { PoolClient } from '@rewind/db';
import { appendInTransaction } from '../append';
import { EventStore } from '../event-store';
import { eventHash, genesisHash } from '../hash';
import { NewEvent } from '../types';
import { readExportedSession } from './export';
import {
  canonicalTime,
  ExportedSession,
  ExportHeader,
  ExportProgress,
  isTrailer,
  parseEventLine,
  parseHeader,
  parseJsonLine,
  parseTrailer,
  PortableError,
  PortableErrorCode,
  stableJson,
} from './format';

export interface ImportOptions {
  /** Called after every batch of events checked (and appended), and once at the end. */
  onProgress?: (progress: ExportProgress) => void;
  /** Events per append; default 1000. */
  batchSize?: number;
}

export interface ImportResult {
  sessionId: string;
  /** `imported`: written now; `already-imported`: the target held the identical session (nothing written). */
  status: 'imported' | 'already-imported';
  events: number;
  /** Hex head hash recomputed from the file (= the header's headHash and, if sealed, its sealedHash). */
  headHash: string;
  sealed: boolean;
}

export interface NumberedLine {
  /** 1-based. */
  line: number;
  text: string;
}

/**
 * The lines of an NDJSON stream (split on "\n" byte by byte, decoded as UTF-8 per line), holding only
 * the current line. A final line without "\n" counts; the empty remainder after a final "\n" does not.
 */
export async function* readLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<NumberedLine> {
  let pending: Buffer[] = [];
  let line = 0;
  for await (const piece of input) {
    let buf = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
    for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a)) {
      pending.push(buf.subarray(0, nl));
      yield { line: ++line, text: Buffer.concat(pending).toString('utf8') };
      pending = [];
      buf = buf.subarray(nl + 1);
    }
    if (buf.length > 0) pending.push(buf);
  }
  if (pending.length > 0) yield { line: line + 1, text: Buffer.concat(pending).toString('utf8') };
}

/**
 * Reads a `rewind-export/1` stream into the store, streaming (events are checked and appended in batches;
 * the file is never held whole). Every line is validated and the hash chain is recomputed while reading:
 * the first line that is not what the format says, the first seq gap and the first hash that differs from
 * the recomputed one are refused, naming the line (and seq). The whole import is ONE transaction: a
 * refused file leaves nothing behind. A session id already in the target is a no-op ("already-imported")
 * when the file holds the identical session (the file is still read and checked), else SESSION_CONFLICT.
 * The ended/outcome state and the seal (with its original times) are restored; the seal is the head the
 * store itself computed, which must equal the exported sealedHash.
 */
export async function importSession(store: EventStore, input: AsyncIterable<Buffer | string>, options: ImportOptions = {}): Promise<ImportResult> {
  const lines = readLines(input)[Symbol.asyncIterator]();
  const first = await lines.next();
  const header = parseHeader(first.done ? undefined : first.value.text);
  const s = header.session;
  const batchSize = options.batchSize ?? 1000;

  const existing = await readExportedSession(store.sessions, s.id);
  if (existing) {
    refuseIfDifferent(existing, s);
    await readEvents(lines, header, batchSize, options, async () => undefined);
    return { sessionId: existing.id, status: 'already-imported', events: existing.headSeq, headHash: existing.headHash, sealed: existing.sealedAt !== null };
  }

  return store.transaction(async (client) => {
    const inserted = await client.query(
      `INSERT INTO sessions (id, platform, game, platform_session_id, agent, source, started_at, head_hash, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8, $9::jsonb) ON CONFLICT (id) DO NOTHING`,
      [s.id, s.platform, s.game, s.platformSessionId, s.agent, s.source, s.startedAt, genesisHash(s.id), JSON.stringify(s.metadata)],
    );
    if (inserted.rowCount === 0) {
      throw new PortableError(PortableErrorCode.SessionConflict, `session ${s.id} was created in the target while importing; run the import again`, null, { sessionId: s.id });
    }
    const head = await readEvents(lines, header, batchSize, options, (batch) => appendInTransaction(client, batch).then(() => undefined));
    await restoreState(client, s, head);
    return { sessionId: s.id, status: 'imported' as const, events: header.events, headHash: head.toString('hex'), sealed: s.sealedAt !== null };
  });
}

/**
 * Checks every event line and the trailer, recomputing the chain; hands full batches to `append`.
 * Returns the recomputed head hash (which equals the header's headHash).
 */
async function readEvents(lines: AsyncIterator<NumberedLine>, header: ExportHeader, batchSize: number, options: ImportOptions, append: (batch: NewEvent[]) => Promise<void>): Promise<Buffer> {
  const s = header.session;
  let previous = genesisHash(s.id);
  let previousOffset = 0;
  let seen = 0;
  let lastLine = 1;
  let trailerLine: number | null = null;
  let batch: NewEvent[] = [];
  const progress = (): void => options.onProgress?.({ sessionId: s.id, events: seen, total: header.events });
  for (let next = await lines.next(); !next.done; next = await lines.next()) {
    const { line, text } = next.value;
    lastLine = line;
    if (text.trim() === '') throw new PortableError(PortableErrorCode.BadFile, 'empty line', line);
    if (trailerLine !== null) throw new PortableError(PortableErrorCode.BadFile, `content after the trailer on line ${trailerLine}`, line);
    const o = parseJsonLine(text, line);
    if (isTrailer(o)) {
      const t = parseTrailer(o, line);
      if (t.events !== seen || t.headHash !== previous.toString('hex')) {
        throw new PortableError(
          PortableErrorCode.HeadMismatch,
          `the trailer says ${t.events} events ending ${t.headHash.slice(0, 16)}…; the file has ${seen} ending ${previous.toString('hex').slice(0, 16)}…`,
          line,
        );
      }
      trailerLine = line;
      continue;
    }
    const { event, hash } = parseEventLine(o, s.id, line);
    if (event.seq !== seen + 1) {
      throw new PortableError(
        PortableErrorCode.SeqGap,
        event.seq > seen + 1 ? `expected seq ${seen + 1}, found seq ${event.seq}: event ${seen + 1} is missing` : `expected seq ${seen + 1}, found seq ${event.seq} (duplicated or out of order)`,
        line,
        { expected: seen + 1, got: event.seq },
      );
    }
    if (event.seq > header.events) {
      throw new PortableError(PortableErrorCode.HeadMismatch, `seq ${event.seq} is past the header's ${header.events} events`, line, { seq: event.seq });
    }
    if (event.offsetUs < previousOffset) {
      throw new PortableError(PortableErrorCode.BadFile, `seq ${event.seq}: offsetUs ${event.offsetUs} is before the previous event's ${previousOffset}`, line, { seq: event.seq });
    }
    const computed = eventHash(previous, event);
    if (!computed.equals(hash)) {
      throw new PortableError(
        PortableErrorCode.HashMismatch,
        `seq ${event.seq}: the file's hash ${hash.toString('hex').slice(0, 16)}… differs from the recomputed ${computed.toString('hex').slice(0, 16)}… (content edited)`,
        line,
        { seq: event.seq },
      );
    }
    previous = computed;
    previousOffset = event.offsetUs;
    seen++;
    batch.push(event);
    if (batch.length >= batchSize) {
      await append(batch);
      batch = [];
      progress();
    }
  }
  if (batch.length > 0) await append(batch);
  if (seen !== header.events) {
    throw new PortableError(PortableErrorCode.HeadMismatch, `the file ends after ${seen} events, the header says ${header.events} (truncated?)`, lastLine, { events: seen });
  }
  if (previous.toString('hex') !== s.headHash) {
    throw new PortableError(PortableErrorCode.HeadMismatch, `the chain ends at ${previous.toString('hex').slice(0, 16)}…, the header's headHash is ${s.headHash.slice(0, 16)}…`, lastLine);
  }
  progress();
  return previous;
}

/** Restores end time, outcome, status and seal (times as exported); the seal is the store's own head. */
async function restoreState(client: PoolClient, s: ExportedSession, head: Buffer): Promise<void> {
  if (s.status === 'open' && s.endedAt === null && s.outcome === null) return;
  const sealed = s.sealedAt !== null;
  const { rowCount } = await client.query(
    `UPDATE sessions SET status = $2::"SessionStatus", ended_at = $3::timestamptz, outcome = $4::jsonb,
            sealed_at = $5::timestamptz,
            sealed_hash = CASE WHEN $6::boolean THEN head_hash END, sealed_count = CASE WHEN $6::boolean THEN head_seq END
      WHERE id = $1 AND head_seq = $7 AND head_hash = $8 AND sealed_at IS NULL`,
    [s.id, s.status, s.endedAt, s.outcome === null ? null : JSON.stringify(s.outcome), s.sealedAt, sealed, s.headSeq, head],
  );
  if (rowCount !== 1) {
    throw new PortableError(PortableErrorCode.HeadMismatch, `session ${s.id}: the stored head differs from the file's after the append; nothing imported`);
  }
}

/** The target's session must be the file's, field for field (jsonb compared without key order). */
function refuseIfDifferent(existing: ExportedSession, file: ExportedSession): void {
  const norm = (x: ExportedSession): Record<string, unknown> => ({
    ...x,
    id: x.id.toLowerCase(),
    startedAt: canonicalTime(x.startedAt),
    endedAt: canonicalTime(x.endedAt),
    sealedAt: canonicalTime(x.sealedAt),
    outcome: stableJson(x.outcome),
    metadata: stableJson(x.metadata),
  });
  const a = norm(existing);
  const b = norm(file);
  const differing = Object.keys(b).filter((k) => a[k] !== b[k]);
  if (differing.length > 0) {
    throw new PortableError(PortableErrorCode.SessionConflict, `session ${file.id} already exists in the target with different content (${differing.join(', ')}); refusing to import`, null, {
      sessionId: file.id,
      differing,
    });
  }
}
