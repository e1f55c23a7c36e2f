/** Helpers for the MoltStation integration tests (raw HTTP/WS over real sockets). */
import WebSocket from 'ws';

export interface RawSocket {
  ws: WebSocket;
  messages: any[];
  texts: string[];
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  send(msg: unknown): void;
  /** Resolves with the first message matching `pred` (already received ones included). */
  waitFor(pred: (m: any) => boolean, timeoutMs?: number): Promise<any>;
}

export function rawSocket(url: string): RawSocket {
  const ws = new WebSocket(url);
  const messages: any[] = [];
  const texts: string[] = [];
  const waiters: { pred: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? '' : (data as Buffer).toString('utf8');
    texts.push(text);
    let m: any;
    try {
      m = JSON.parse(text);
    } catch {
      m = text;
    }
    messages.push(m);
    for (const w of [...waiters])
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
  });
  ws.on('error', () => undefined);
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('close', () => reject(new Error('closed before open')));
  });
  opened.catch(() => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
  return {
    ws,
    messages,
    texts,
    opened,
    closed,
    send: (msg) => ws.send(typeof msg === 'string' || Buffer.isBuffer(msg) ? msg : JSON.stringify(msg)),
    waitFor: (pred, timeoutMs = 5000) => {
      const hit = messages.find(pred);
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
        waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
  };
}

export async function http(base: string, method: string, path: string, body?: unknown, token?: string, rawBody?: string): Promise<{ status: number; json: any; text: string; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  const text = rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
  if (text !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: text });
  const resText = await res.text();
  let json: any;
  try {
    json = JSON.parse(resText);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text: resText, headers: res.headers };
}

/** nonce + verify for a wallet; returns the access token. */
export async function login(base: string, wallet: string, slug = 'flappybots'): Promise<string> {
  const n = await http(base, 'POST', `/api/games/${slug}/auth/nonce`);
  const message = `moltstation.games wants you to sign in with your Ethereum account:\n${wallet}\n\nSign in with Ethereum to MoltStation.\n\nURI: https://moltstation.games\nVersion: 1\nChain ID: 8453\nNonce: ${n.json.nonce}\nIssued At: ${n.json.issuedAt}`;
  const v = await http(base, 'POST', `/api/games/${slug}/auth/verify`, { message, signature: '0xabc' });
  return v.json.accessToken as string;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
