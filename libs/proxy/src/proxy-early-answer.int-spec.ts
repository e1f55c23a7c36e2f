/**
 * The platform answers before the request body is complete (413 after 64 KiB, 401 on the headers) and stops reading:
 * the proxy relays and records that answer instead of its own 502, and answers 502 only when no answer came at all.
 * Real sockets throughout: a node http upstream that refuses the way real servers (and careless ones) do, and a node
 * http client that streams a 20 MB body and reads the answer while it is still sending.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { startSimulator } from '@rewind/simulator';
import { waitFor } from '@rewind/testing';
import { startRecordingProxy } from './server';
import { RecordingSink } from './test-helpers';
import type { RunningRecordingProxy } from './types';

const MB20 = 20 * 1024 * 1024;
const LIMIT = 64 * 1024;

type Mode = 'graceful' | 'harsh' | 'silent' | 'unauthorized' | 'drain';

/**
 * An upstream that reads at most 64 KiB of a POST body and then: `graceful` answers 413 with `Connection: close` and
 * stops reading (node then closes the socket once the answer is written); `harsh` writes the 413 and destroys the
 * socket at once; `silent` destroys it without answering; `unauthorized` answers 401 on the headers without reading
 * the body at all (`Connection: close`); `drain` answers 413 and reads the rest to the end (keep-alive).
 */
async function startRefusingUpstream(mode: Mode): Promise<{ base: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const answer = (status: number, code: string): string => {
      const text = JSON.stringify({ error: `refused ${status}`, code });
      return text;
    };
    if (mode === 'unauthorized') {
      const text = answer(401, 'UNAUTHORIZED');
      res.writeHead(401, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'close', 'x-platform': 'yes' });
      res.end(text);
      return;
    }
    let seen = 0;
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen <= LIMIT) return;
      if (mode === 'drain') {
        if (res.headersSent) return;
      } else req.off('data', onData);
      if (mode === 'silent') {
        req.socket.destroy();
        return;
      }
      const text = answer(413, 'PAYLOAD_TOO_LARGE');
      const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-platform': 'yes', ...(mode === 'drain' ? {} : { connection: 'close' }) };
      if (mode === 'harsh') {
        // Straight onto the socket, then gone: unread body bytes make the kernel reset the connection.
        req.socket.write(
          `HTTP/1.1 413 Payload Too Large\r\n${Object.entries(headers)
            .map(([k, v]) => `${k}: ${v}\r\n`)
            .join('')}\r\n${text}`,
          () => req.socket.destroy(),
        );
        return;
      }
      req.pause();
      res.writeHead(413, headers);
      res.end(text);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (!res.headersSent) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`got ${seen}`);
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/base`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface Outcome {
  status?: number;
  headers?: http.IncomingHttpHeaders;
  body?: string;
  error?: string;
  sentBytes: number;
}

/**
 * POSTs `size` bytes in 64 KiB chunks (with backpressure), like an agent uploading a big body, and settles on the
 * first of: a complete answer, or an error with no answer.
 */
function post(url: string, size: number, headers: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    let sentBytes = 0;
    let settled = false;
    const settle = (o: Omit<Outcome, 'sentBytes'>): void => {
      if (settled) return;
      settled = true;
      resolve({ ...o, sentBytes });
    };
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(size), ...headers } });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        settle({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() });
        req.destroy();
      });
      res.on('error', (e: Error & { code?: string }) => settle({ status: res.statusCode, error: `response ${e.code ?? e.message}` }));
    });
    req.on('error', (e: Error & { code?: string }) => settle({ error: e.code ?? e.message }));
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const pump = (): void => {
      while (sentBytes < size && !settled && !req.destroyed) {
        const part = size - sentBytes >= chunk.length ? chunk : chunk.subarray(0, size - sentBytes);
        sentBytes += part.length;
        const more = req.write(part);
        if (sentBytes >= size) {
          req.end();
          return;
        }
        if (!more) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

describe('recording proxy: the platform answers before the request body is complete', () => {
  const open: { close: () => Promise<void> }[] = [];
  const withProxy = async (mode: Mode): Promise<{ proxy: RunningRecordingProxy; sink: RecordingSink; lines: string[] }> => {
    const up = await startRefusingUpstream(mode);
    open.push(up);
    const sink = new RecordingSink();
    const lines: string[] = [];
    const proxy = await startRecordingProxy({ port: 0, upstreams: { moltstation: up.base }, sink, log: (l) => lines.push(l), maxHttpBodyBytes: 256 * 1024 });
    open.push(proxy);
    return { proxy, sink, lines };
  };
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });

  it.each(['graceful', 'harsh'] as const)(
    'given a 20 MB POST refused with 413 after 64 KiB (%s close), then the client gets the 413 with its body, and the partial request and the 413 are recorded',
    async (mode) => {
      const { proxy, sink } = await withProxy(mode);
      const got = await post(`${proxy.url}/moltstation/api/games/flappybots/sessions`, MB20);
      expect(got).toMatchObject({ status: 413, body: JSON.stringify({ error: 'refused 413', code: 'PAYLOAD_TOO_LARGE' }) });
      expect(got.headers?.['x-platform']).toBe('yes');
      const [req] = sink.of('http-request');
      const [res] = sink.of('http-response');
      expect(req).toMatchObject({ method: 'POST', path: '/api/games/flappybots/sessions' });
      // The body as far as it was passed on before the platform stopped reading: at least what the platform read, never the whole.
      expect(req!.body.length).toBeGreaterThan(LIMIT);
      expect(req!.body.length).toBeLessThan(MB20);
      expect(req!.body.equals(Buffer.alloc(req!.body.length, 0x61))).toBe(true);
      expect(res).toMatchObject({ status: 413, body: Buffer.from(JSON.stringify({ error: 'refused 413', code: 'PAYLOAD_TOO_LARGE' })) });
      // The cut is stated (not terminal: the answer follows), and there is no 502 anywhere.
      const notes = sink.of('proxy-error');
      expect(notes).toEqual([expect.objectContaining({ stage: 'upstream', terminal: false, message: expect.stringContaining('stopped reading the request body') })]);
      const order = sink.facts.map((f) => f.type);
      expect(order).toEqual(['http-request', 'proxy-error', 'http-response']);
    },
  );

  it('given a 401 sent on the headers without reading the body, then the client gets the 401 and it is recorded', async () => {
    const { proxy, sink } = await withProxy('unauthorized');
    const got = await post(`${proxy.url}/moltstation/api/me`, MB20, { authorization: 'Bearer nope' });
    expect(got).toMatchObject({ status: 401, body: JSON.stringify({ error: 'refused 401', code: 'UNAUTHORIZED' }) });
    expect(sink.of('http-response')).toEqual([expect.objectContaining({ status: 401 })]);
    expect(sink.of('http-request')).toHaveLength(1);
    expect(sink.of('proxy-error').filter((f) => f.terminal !== false)).toEqual([]);
    expect(sink.facts.map((f) => f.type).filter((t) => t !== 'proxy-error')).toEqual(['http-request', 'http-response']);
  });

  it('given an upstream that answers 413 and keeps reading the rest, then the whole body is forwarded and recorded with the 413', async () => {
    const { proxy, sink } = await withProxy('drain');
    const got = await post(`${proxy.url}/moltstation/api/games/flappybots/sessions`, 2 * 1024 * 1024);
    expect(got.status).toBe(413);
    // The platform read the whole body (and discarded it): the request fact waits for it, capped by maxHttpBodyBytes.
    await waitFor('the 413 recorded', () => sink.of('http-response')[0]);
    expect(sink.of('http-request')[0]!.body.length).toBe(256 * 1024);
    expect(sink.of('http-response')[0]).toMatchObject({ status: 413 });
    expect(sink.of('proxy-error')).toEqual([expect.objectContaining({ terminal: false, message: expect.stringContaining(`kept ${256 * 1024} of ${2 * 1024 * 1024} bytes`) })]);
  });

  it('given an upstream that closes after 64 KiB without any answer, then 502 upstream_unreachable as before', async () => {
    const { proxy, sink } = await withProxy('silent');
    const got = await post(`${proxy.url}/moltstation/api/games/flappybots/sessions`, MB20);
    expect(got.status).toBe(502);
    expect(JSON.parse(got.body!)).toMatchObject({ error: 'upstream_unreachable' });
    expect(sink.of('http-response')).toEqual([]);
    expect(sink.of('proxy-error').filter((f) => f.terminal !== false)).toEqual([expect.objectContaining({ stage: 'connect', status: 502 })]);
  });

  it('given a 100 KB POST refused with 413, then the 413 comes through (as before)', async () => {
    const { proxy, sink } = await withProxy('graceful');
    const got = await post(`${proxy.url}/moltstation/api/games/flappybots/sessions`, 100 * 1000);
    expect(got).toMatchObject({ status: 413 });
    expect(sink.of('http-response')).toEqual([expect.objectContaining({ status: 413 })]);
  });

  it('the simulator refuses a 20 MB MoltStation body with 413 PAYLOAD_TOO_LARGE that a direct client and a proxied one both read', async () => {
    const sim = await startSimulator({ port: 0, seed: 'early-answer' });
    open.push(sim);
    const sink = new RecordingSink();
    const proxy = await startRecordingProxy({ port: 0, upstreams: { moltstation: sim.baseUrl('moltstation') }, sink });
    open.push(proxy);
    const direct = await post(`${sim.baseUrl('moltstation')}/api/games/flappybots/auth/nonce`, MB20);
    const proxied = await post(`${proxy.url}/moltstation/api/games/flappybots/auth/nonce`, MB20);
    expect(direct).toMatchObject({ status: 413 });
    expect(JSON.parse(direct.body!)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect({ status: proxied.status, body: proxied.body }).toEqual({ status: direct.status, body: direct.body });
    // The simulator reads the rest (lingering close), so the proxy kept forwarding until the client, answered, went away:
    // the exchange is recorded as far as it came, the 413 after the request.
    await waitFor('the 413 recorded', () => sink.of('http-response')[0]);
    const types = sink.facts.map((f) => f.type);
    expect([types[0], types[types.length - 1]]).toEqual(['http-request', 'http-response']);
    // Notes only (the body's capture may be truncated too, depending on how far the client got): never terminal.
    expect(sink.of('proxy-error').every((f) => f.stage === 'client' && f.terminal === false)).toBe(true);
    expect(sink.of('proxy-error').map((f) => f.message)).toContainEqual(expect.stringContaining('client went away before the end of its request body'));
    expect(sink.of('http-response')[0]).toMatchObject({ status: 413, body: Buffer.from(direct.body!) });
  });
});
