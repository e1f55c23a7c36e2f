import type { IncomingMessage } from 'node:http';
import { CloudplayError } from './errors';

/** Past this, the rest of an oversized body is not even drained: the connection is closed after the answer. */
const DRAIN_LIMIT = 4 * 1024 * 1024;

export interface ReadResult {
  body?: Record<string, unknown>;
  error?: CloudplayError;
  /** The request was not fully read: answer with `Connection: close`. */
  closeAfter?: boolean;
}

/**
 * Reads a JSON object body (the document: `Content-Type: application/json`). Every bad body is the
 * document's 400 invalid_request (never 413: the error table has no other status for it): oversized,
 * malformed JSON, not an object, or a non-JSON content type. An oversized body is drained (up to 4 MiB) so
 * the client reads the answer instead of a reset.
 */
export async function readJsonObject(req: IncomingMessage, limit: number): Promise<ReadResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  let oversized = false;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) oversized = true;
      if (size > DRAIN_LIMIT) return { error: tooLarge(limit), closeAfter: true };
      if (!oversized) chunks.push(chunk as Buffer);
    }
  } catch {
    return { error: new CloudplayError('invalid_request', 'request body could not be read'), closeAfter: true };
  }
  if (oversized) return { error: tooLarge(limit) };
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type !== '' && !/^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/.test(type)) {
    return { error: new CloudplayError('invalid_request', `Content-Type must be application/json (got "${type}")`) };
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { error: new CloudplayError('invalid_request', 'request body is required') };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { error: new CloudplayError('invalid_request', `request body is not valid JSON: ${(e as Error).message}`) };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { error: new CloudplayError('invalid_request', 'request body must be a JSON object') };
  }
  return { body: parsed as Record<string, unknown> };
}

function tooLarge(limit: number): CloudplayError {
  return new CloudplayError('invalid_request', `request body is larger than ${limit} bytes`);
}

/** Drains whatever is left of a request body we do not read (GETs with a body). */
export function discardBody(req: IncomingMessage): void {
  req.resume();
}
