/** A scriptable upstream for the proxy's edge-case tests (test support only, not part of the public API). */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';

export interface SeenRequest {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
}

export interface FakeUpstream {
  /** Base URL including the base path `/base`. */
  base: string;
  seen: SeenRequest[];
  /** Upgrade requests to /base/ws-hang are held open unanswered. */
  hanging: Duplex[];
  /** /base/hang requests whose connection the proxy closed. */
  state: { hangsAbandoned: number };
  wsSeen: { url: string; protocol: string; closes: { code: number; reason: string }[]; messages: { data: Buffer; binary: boolean }[] }[];
  close(): Promise<void>;
}

/**
 * HTTP under /base: /base/204 (204), /base/empty (200, content-length 0), /base/teapot (418, duplicate headers),
 * /base/hang (never answers), /base/chunked (chunked, streamed in 3 parts), anything else → 200 echo of what it
 * got. WebSocket /base/ws-hang: never answered. WebSocket /base/ws: echoes every message with its kind; text `close:<code>:<reason>` → closes so;
 * `terminate` → drops the TCP connection; `ping` → sends a ping; `big:<n>` → sends n bytes.
 */
export async function startFakeUpstream(): Promise<FakeUpstream> {
  const seen: SeenRequest[] = [];
  const wsSeen: FakeUpstream['wsSeen'] = [];
  const hanging: Duplex[] = [];
  const state = { hangsAbandoned: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, body });
      const path = (req.url ?? '').split('?')[0];
      if (path === '/base/204') return void res.writeHead(204, { 'x-note': 'no content' }).end();
      if (path === '/base/empty') return void res.writeHead(200, { 'content-length': '0', 'x-note': 'empty' }).end();
      if (path === '/base/teapot') {
        res.writeHead(418, "I'm a teapot", ['X-Dup', 'a', 'X-Dup', 'b', 'Set-Cookie', 'k=1', 'Set-Cookie', 'j=2', 'Content-Type', 'text/plain']);
        return void res.end('short and stout');
      }
      if (path === '/base/hang') return void res.on('close', () => (state.hangsAbandoned += 1));
      if (path === '/base/chunked') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(Buffer.from([0, 1, 2]));
        setTimeout(() => res.write(Buffer.from([255, 254])), 20);
        setTimeout(() => res.end(Buffer.from('end')), 40);
        return;
      }
      const text = JSON.stringify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, bodyLength: body.length });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => [...offered][0] ?? false });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined);
    if ((req.url ?? '').startsWith('/base/ws-hang')) {
      hanging.push(socket);
      socket.on('end', () => socket.destroy());
      socket.resume();
      return;
    }
    if (!(req.url ?? '').startsWith('/base/ws')) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 20\r\nX-Why: token\r\nConnection: close\r\n\r\n{"error":"no_token"}');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const entry = { url: req.url ?? '', protocol: ws.protocol, closes: [] as { code: number; reason: string }[], messages: [] as { data: Buffer; binary: boolean }[] };
      wsSeen.push(entry);
      ws.on('close', (code, reason) => entry.closes.push({ code, reason: reason.toString() }));
      ws.on('error', () => undefined);
      ws.on('message', (data: Buffer, binary) => {
        entry.messages.push({ data, binary });
        const text = binary ? '' : data.toString();
        const m = /^close:(\d+):(.*)$/.exec(text);
        if (m) return ws.close(Number(m[1]), m[2]);
        const bye = /^bye:(\d+):(.*)$/.exec(text);
        if (bye) {
          // A last message and the close right behind it (as a game over does).
          ws.send('bye');
          return ws.close(Number(bye[1]), bye[2]);
        }
        if (text === 'terminate') return ws.terminate();
        if (text === 'ping') return ws.ping(Buffer.from('hello?'));
        const big = /^big:(\d+)$/.exec(text);
        if (big) return ws.send(Buffer.alloc(Number(big[1]), 7));
        ws.send(data, { binary });
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}/base`,
    seen,
    wsSeen,
    hanging,
    state,
    async close() {
      for (const s of hanging) s.destroy();
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface WsClient {
  ws: WebSocket;
  messages: { data: Buffer; binary: boolean }[];
  pings: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves once `n` messages have arrived. */
  waitFor(n: number): Promise<void>;
}

export function openWs(url: string, protocols?: string[]): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    const messages: WsClient['messages'] = [];
    const pings: Buffer[] = [];
    let wake: () => void = () => undefined;
    ws.on('message', (data: Buffer, binary) => {
      messages.push({ data, binary });
      wake();
    });
    ws.on('ping', (d: Buffer) => pings.push(d));
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.once('open', () =>
      resolve({
        ws,
        messages,
        pings,
        closed,
        waitFor: (n) =>
          new Promise<void>((r) => {
            const check = (): void => (messages.length >= n ? r() : void (wake = check));
            check();
          }),
      }),
    );
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode, body: Buffer.concat(chunks).toString(), headers: res.headers })));
    });
  });
}
