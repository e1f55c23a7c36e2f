import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getEventListeners } from 'node:events';
import { CloudplayHttpClient } from './cloudplay/http-client';
import { followSignal, httpExchange, transportError } from './http-exchange';
import { TrafficLog } from './traffic-log';

describe('httpExchange: a bot run shares one abort signal among its requests', () => {
  let server: http.Server;
  let url: string;
  const hanging: http.ServerResponse[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      if (req.url === '/hang') return void hanging.push(res);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('leaves no abort listener on the shared signal once each exchange is over (fetch itself keeps one until GC)', async () => {
    const run = new AbortController();
    for (let i = 0; i < 40; i++) {
      const { res, body } = await httpExchange(`${url}/ok`, { method: 'GET' }, run.signal, (r) => r.text());
      expect([res.status, body]).toEqual([200, '{"ok":true}']);
    }
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
    const client = new CloudplayHttpClient(url, 'token-123456', new TrafficLog(), undefined, run.signal);
    for (let i = 0; i < 20; i++) await client.request('POST', '/api/game/keepalive', { sessionId: 's' });
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
  });

  it('an exchange in flight holds one listener and is aborted with the shared signal; the bot records it without a status', async () => {
    const run = new AbortController();
    const traffic = new TrafficLog();
    const client = new CloudplayHttpClient(url, 'token-123456', traffic, undefined, run.signal);
    const pending = client.request('POST', '/hang', { gameSlug: 'g' }).catch((e: Error) => e);
    await new Promise<void>((r) => {
      const check = (): void => (hanging.length > 0 ? r() : void setTimeout(check, 5));
      check();
    });
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(1);
    run.abort();
    expect(await pending).toMatchObject({ name: 'AbortError' });
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
    expect(traffic.entries.map((e) => [e.direction, e.data, e.meta?.['status'], typeof e.meta?.['error']])).toEqual([
      ['sent', '{"gameSlug":"g"}', undefined, 'undefined'],
      ['received', '', undefined, 'string'],
    ]);
  });

  it('a connection refused is recorded with its cause', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const traffic = new TrafficLog();
    const client = new CloudplayHttpClient(`http://127.0.0.1:${port}`, 'token-123456', traffic);
    const err = await client.request('POST', '/api/game/launch', { gameSlug: 'g' }).catch((e: unknown) => e);
    expect(transportError(err)).toBe('fetch failed (ECONNREFUSED)');
    expect(traffic.entries[1]?.meta).toEqual({ method: 'POST', path: '/api/game/launch', seq: 1, error: 'fetch failed (ECONNREFUSED)' });
  });

  it('followSignal: already aborted parent → aborted child; release removes the listener', () => {
    const done = new AbortController();
    done.abort(new Error('stop'));
    expect(followSignal(done.signal).signal?.aborted).toBe(true);
    const live = new AbortController();
    const f = followSignal(live.signal);
    expect(getEventListeners(live.signal, 'abort')).toHaveLength(1);
    f.release();
    expect(getEventListeners(live.signal, 'abort')).toHaveLength(0);
    expect(followSignal(undefined).signal).toBeUndefined();
  });
});
