import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * After an early answer (413 over the limit), how long and how many more bytes of the refused body are still read
 * before the connection is closed (nginx's lingering close reads for up to 30 s too).
 */
export const LINGER = { ms: 30_000, bytes: 64 * 1024 * 1024 };

/**
 * Reads a request body up to `limit` bytes; resolves null as soon as it is larger (answer with {@link refuseBody},
 * which reads the rest). Rejects when the client goes away mid-body.
 */
export function readUpTo(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        done();
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(Buffer.concat(chunks, size));
    };
    const onClose = (): void => {
      done();
      reject(new Error('request body aborted'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}

/**
 * Answers a request whose body is not read to its end (413 over the limit) the way real web servers do: `send` writes
 * the answer with `Connection: close`, then the rest of the body is still read and discarded — until it ends, for at
 * most {@link LINGER} — and only then is the connection closed. Closing at once with unread bytes makes the kernel
 * reset the connection, and a client still sending its body can lose the answer to that reset (EPIPE/ECONNRESET
 * instead of the 413), directly or through a proxy.
 */
export function refuseBody(req: IncomingMessage, send: (headers: { connection: 'close' }) => void): void {
  const socket = req.socket as IncomingMessage['socket'] & { destroySoon?: () => void };
  const closeSoon = socket.destroySoon?.bind(socket) ?? (() => socket.end());
  // node closes a `Connection: close` socket as soon as the answer is written: half-close instead (FIN after the
  // answer) and keep reading until the body ends or the linger is over.
  socket.destroySoon = () => socket.end();
  let seen = 0;
  const close = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
    closeSoon();
  };
  const timer = setTimeout(close, LINGER.ms);
  timer.unref();
  const onData = (chunk: Buffer): void => {
    seen += chunk.length;
    if (seen > LINGER.bytes) close();
  };
  req.on('data', onData);
  req.once('end', close);
  req.resume();
  send({ connection: 'close' });
}

/** Reads a request body up to `limit` bytes; resolves null (and answers 413, see {@link refuseBody}) when it is larger. */
export async function readBody(req: IncomingMessage, res: ServerResponse, limit = 1024 * 1024): Promise<Buffer | null> {
  const body = await readUpTo(req, limit);
  if (body === null) refuseBody(req, (headers) => sendJson(res, 413, { error: 'payload_too_large', message: `request body over ${limit} bytes` }, headers));
  return body;
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
