import type { IncomingMessage, ServerResponse } from 'node:http';

/** Reads a request body up to `limit` bytes; resolves null (and answers 413) when it is larger. */
export async function readBody(req: IncomingMessage, res: ServerResponse, limit = 1024 * 1024): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      sendJson(res, 413, { error: 'payload_too_large', message: `request body over ${limit} bytes` });
      req.destroy();
      return null;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body; answers 400 with `badRequest(message)`'s shape and resolves undefined when invalid. */
export async function readJson(
  req: IncomingMessage,
  res: ServerResponse,
  badRequest: (message: string) => [number, unknown] = (m) => [400, { error: 'invalid_json', message: m }],
  limit?: number,
): Promise<unknown | undefined> {
  const body = await readBody(req, res, limit);
  if (body === null) return undefined;
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    const [status, payload] = badRequest(`request body is not valid JSON: ${(e as Error).message}`);
    sendJson(res, status, payload);
    return undefined;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, headers);
  res.end();
}

/** Splits `/a/b?x=1` into path segments and the query. */
export function splitPath(path: string): { segments: string[]; query: URLSearchParams; pathname: string } {
  const url = new URL(path, 'http://simulator');
  return { segments: url.pathname.split('/').filter(Boolean).map(decodeURIComponent), query: url.searchParams, pathname: url.pathname };
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(.+)$/i.exec(h) : null;
  return m ? (m[1] as string).trim() : undefined;
}

/**
 * A platform's error class over its table of error codes → HTTP statuses: `code`, `message`, extra
 * response `headers` (e.g. Retry-After), and `status` from the table.
 */
/** Answers a coded error as `{ "error": <code>, "message": <text> }` with its status and headers. */
export function sendCodedError(res: ServerResponse, err: { status: number; code: string; message: string; headers: Record<string, string> }): void {
  sendJson(res, err.status, { error: err.code, message: err.message }, err.headers);
}

export function codedErrorClass<T extends Record<string, number>>(statuses: T) {
  return class CodedError extends Error {
    constructor(
      readonly code: keyof T & string,
      message: string,
      readonly headers: Record<string, string> = {},
    ) {
      super(message);
    }

    get status(): number {
      return statuses[this.code] as number;
    }
  };
}
