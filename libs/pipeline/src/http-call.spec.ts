import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpCall } from './http-call';

/** `httpCall` answers what `fetch(...).text()` answered `recordedCall`: status, whole body, redirects, timeouts, network errors. */
describe('httpCall (node:http with a keep-alive agent, in place of fetch)', () => {
  let server: http.Server;
  let base: string;
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string; socket: unknown }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), socket: req.socket });
        if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2_000).unref();
        if (req.url === '/temporary') return void res.writeHead(307, { location: '/echo' }).end();
        if (req.url === '/see-other') return void res.writeHead(303, { location: `${base}/echo?after=303` }).end();
        if (req.url === '/bom') return void res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.from('\ufeff{"ok":true}', 'utf8'));
        const body = JSON.stringify({ method: req.method, got: Buffer.concat(chunks).toString('utf8'), unicode: 'é ✓ 🦀' });
        res.writeHead(req.url === '/created' ? 201 : 200, { 'content-type': 'application/json' }).end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('given a JSON POST, then the server gets the method, headers and body, and the caller the status and the whole body as text', async () => {
    const body = JSON.stringify({ runSessionId: 'r-1', outcome: { score: 3, text: 'tab\there é' } });
    const res = await httpCall({ method: 'POST', url: `${base}/created`, headers: { 'content-type': 'application/json', 'idempotency-key': 'job-7' }, body, timeoutMs: 5_000 });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body)).toEqual({ method: 'POST', got: body, unicode: 'é ✓ 🦀' });
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ method: 'POST', url: '/created', body });
    expect(last.headers).toMatchObject({ 'content-type': 'application/json', 'idempotency-key': 'job-7', 'content-length': String(Buffer.byteLength(body)) });
    // A GET without a body, on the same kept-alive connection.
    expect(await httpCall({ method: 'GET', url: `${base}/echo`, headers: {}, timeoutMs: 5_000 })).toMatchObject({ status: 200 });
    expect(seen.at(-1)!.socket).toBe(last.socket);
  });

  it('follows redirects as fetch did: a 307 keeps the method and body, a 303 becomes a GET', async () => {
    const res = await httpCall({ method: 'POST', url: `${base}/temporary`, headers: { 'content-type': 'text/plain' }, body: 'again', timeoutMs: 5_000 });
    expect(JSON.parse(res.body)).toMatchObject({ method: 'POST', got: 'again' });
    const other = await httpCall({ method: 'POST', url: `${base}/see-other`, headers: {}, body: 'dropped', timeoutMs: 5_000 });
    expect(JSON.parse(other.body)).toMatchObject({ method: 'GET', got: '' });
    expect(seen.at(-1)!.url).toBe('/echo?after=303');
  });

  it('drops a UTF-8 byte order mark, as fetch().text() did', async () => {
    expect((await httpCall({ method: 'GET', url: `${base}/bom`, headers: {}, timeoutMs: 5_000 })).body).toBe('{"ok":true}');
  });

  it('given no answer in time, then it rejects with a TimeoutError; given nobody listening, then with the network error as its cause', async () => {
    await expect(httpCall({ method: 'GET', url: `${base}/slow`, headers: {}, timeoutMs: 200 })).rejects.toMatchObject({ name: 'TimeoutError' });
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = (await httpCall({ method: 'GET', url: `http://127.0.0.1:${port}/`, headers: {}, timeoutMs: 2_000 }).catch((e: unknown) => e)) as Error & { cause?: Error & { code?: string } };
    expect(err.message).toBe('fetch failed');
    expect(err.cause?.code).toBe('ECONNREFUSED');
  });
});
