import type { Writable } from 'node:stream';
import { toBuffer } from '@rewind/db';
import { EventStore } from '../event-store';
import type { SessionsRepository } from '../repositories/sessions.repository';
import { ChainVerifier } from '../verify';
import { StoredEvent } from '../types';
import { encodeEventLine, EXPORT_FORMAT, ExportedSession, ExportHeader, ExportProgress, PortableError, PortableErrorCode } from './format';

export interface ExportOptions {
  /** Called after every page of events written, and once at the end. */
  onProgress?: (progress: ExportProgress) => void;
  /** Events per read from the store (keyset pages); default 1000. */
  pageSize?: number;
}

export interface ExportResult {
  sessionId: string;
  events: number;
  /** Hex head hash the file ends on. */
  headHash: string;
  /** Bytes written. */
  bytes: number;
}

/** The session row as the header carries it (µs timestamps, hex hashes), or null when there is none. */
export async function readExportedSession(sessions: SessionsRepository, sessionId: string): Promise<ExportedSession | null> {
  const r = await sessions.exportRow(sessionId);
  if (!r) return null;
  return {
    id: r.id,
    platform: r.platform,
    game: r.game,
    platformSessionId: r.platform_session_id,
    agent: r.agent,
    source: r.source,
    status: r.status,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    outcome: r.outcome,
    metadata: r.metadata,
    headSeq: r.head_seq,
    headHash: toBuffer(r.head_hash).toString('hex'),
    sealedAt: r.sealed_at,
    sealedHash: r.sealed_hash ? toBuffer(r.sealed_hash).toString('hex') : null,
    sealedCount: r.sealed_count,
  };
}

/** Flush to the writable at about this many characters (fewer, larger writes). */
const CHUNK_CHARS = 64 * 1024;

/**
 * Writes one session as `rewind-export/1` NDJSON to `out`, streaming: events are read page by page
 * (keyset paging, up to the head seen when the export started) and written as they are read, waiting
 * for the stream to drain (never the whole session in memory). The chain is re-verified on the way: a
 * session whose stored chain is broken is refused (CHAIN_BROKEN), since its export would not import.
 * Does not end `out`.
 */
export async function exportSession(store: EventStore, sessionId: string, out: Writable, options: ExportOptions = {}): Promise<ExportResult> {
  const session = await readExportedSession(store.sessions, sessionId);
  if (!session) throw new PortableError(PortableErrorCode.SessionNotFound, `session ${sessionId} does not exist`, null, { sessionId });
  const total = session.headSeq;
  const header: ExportHeader = { format: EXPORT_FORMAT, exportedAt: new Date().toISOString(), session, events: total };
  const pageSize = options.pageSize ?? 1000;
  let bytes = 0;
  let chunk = JSON.stringify(header) + '\n';
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    bytes += Buffer.byteLength(chunk, 'utf8');
    const more = out.write(chunk);
    chunk = '';
    if (!more) await drained(out);
  };

  const verifier = new ChainVerifier(session.id);
  let written = 0;
  for await (const event of store.readSession(session.id, { toSeq: total, pageSize })) {
    const broken = verifier.push(event as StoredEvent);
    if (broken) {
      throw new PortableError(
        PortableErrorCode.ChainBroken,
        `session ${session.id}: stored chain broken at seq ${broken.seq} (${broken.reason}): ${broken.message}; run \`rewind verify ${session.id}\``,
        null,
        { seq: broken.seq, reason: broken.reason },
      );
    }
    chunk += encodeEventLine(event) + '\n';
    written++;
    if (chunk.length >= CHUNK_CHARS) await flush();
    if (written % pageSize === 0) options.onProgress?.({ sessionId: session.id, events: written, total });
  }
  const report = verifier.finish({
    headSeq: total,
    headHash: Buffer.from(session.headHash, 'hex'),
    sealedAt: session.sealedAt === null ? null : new Date(session.sealedAt),
    sealedHash: session.sealedHash === null ? null : Buffer.from(session.sealedHash, 'hex'),
    sealedCount: session.sealedCount,
  });
  if (!report.ok) {
    const b = report.firstBreak;
    throw new PortableError(PortableErrorCode.ChainBroken, `session ${session.id}: stored chain broken at seq ${b?.seq} (${b?.reason}): ${b?.message}; run \`rewind verify ${session.id}\``, null, {
      seq: b?.seq,
      reason: b?.reason,
    });
  }
  chunk += JSON.stringify({ end: true, events: written, headHash: session.headHash }) + '\n';
  await flush();
  options.onProgress?.({ sessionId: session.id, events: written, total });
  return { sessionId: session.id, events: written, headHash: session.headHash, bytes };
}

function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e?: Error): void => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
      if (e) reject(e);
      else resolve();
    };
    const onDrain = (): void => done();
    const onError = (e: Error): void => done(e);
    const onClose = (): void => done(new Error('the output stream closed before the export was written'));
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}
