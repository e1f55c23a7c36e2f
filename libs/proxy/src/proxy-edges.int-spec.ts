/** Edge cases of the recording proxy over real sockets: refusals, closes, binary, bodies, errors, safety. */
import * as net from 'node:net';
import { createHash } from 'node:crypto';
import { startSimulator, RunningSimulator } from '@rewind/simulator';
import { waitFor } from '@rewind/testing';
import { moltstation } from '@rewind/agents';
import type { CapturedFact, CaptureSink } from '@rewind/capture-facts';
import { FakeUpstream, openWs, startFakeUpstream } from './fake-upstream';
import { startRecordingProxy } from './server';
import { rawExchange, RecordingSink, statusOf } from './test-helpers';
import type { RecordingProxyOptions, RunningRecordingProxy } from './types';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('recording proxy edge cases (fake upstream)', () => {
  let up: FakeUpstream;
  let proxy: RunningRecordingProxy;
  let sink: RecordingSink;
  let lines: string[];
  const start = async (extra: Partial<RecordingProxyOptions> = {}): Promise<RunningRecordingProxy> => {
    sink = new RecordingSink();
    lines = [];
    return startRecordingProxy({ port: 0, upstreams: { rgs: up.base }, sink, log: (l) => lines.push(l), ...extra });
  };
  beforeAll(async () => {
    up = await startFakeUpstream();
  });
  beforeEach(async () => {
    up.seen.length = 0;
    up.wsSeen.length = 0;
    proxy = await start();
  });
  afterEach(() => proxy.close());
  afterAll(() => up.close());

  it('HTTP: status codes, empty bodies, duplicate headers and streamed bodies pass through unchanged', async () => {
    const r204 = await fetch(`${proxy.url}/rgs/204`, { method: 'POST' });
    expect(r204.status).toBe(204);
    expect(r204.headers.get('x-note')).toBe('no content');
    expect(await r204.text()).toBe('');
    const empty = await fetch(`${proxy.url}/rgs/empty`);
    expect([empty.status, empty.headers.get('content-length'), await empty.text()]).toEqual([200, '0', '']);
    const tea = await fetch(`${proxy.url}/rgs/teapot`);
    expect(tea.status).toBe(418);
    expect(tea.statusText).toBe("I'm a teapot");
    expect(tea.headers.get('x-dup')).toBe('a, b');
    expect(tea.headers.getSetCookie()).toEqual(['k=1', 'j=2']);
    expect(await tea.text()).toBe('short and stout');
    const chunked = await fetch(`${proxy.url}/rgs/chunked`);
    expect(Buffer.from(await chunked.arrayBuffer())).toEqual(Buffer.concat([Buffer.from([0, 1, 2, 255, 254]), Buffer.from('end')]));
    // facts: one request + one response per exchange, exact bodies and raw headers
    const res = sink.of('http-response');
    expect(res.map((f) => [f.status, f.body.length])).toEqual([
      [204, 0],
      [200, 0],
      [418, 15],
      [200, 8],
    ]);
    expect(res[2]!.headers.filter(([k]) => k === 'X-Dup')).toEqual([
      ['X-Dup', 'a'],
      ['X-Dup', 'b'],
    ]);
    expect(sink.of('http-request').map((f) => [f.method, f.path, f.body.length])).toEqual([
      ['POST', '/204', 0],
      ['GET', '/empty', 0],
      ['GET', '/teapot', 0],
      ['GET', '/chunked', 0],
    ]);
    expect(sink.facts.map((f) => f.connectionId)).toEqual(['http-1', 'http-1', 'http-2', 'http-2', 'http-3', 'http-3', 'http-4', 'http-4']);
  });

  it('HTTP: forwards method, path+query, body and end-to-end headers; sets Host; drops hop-by-hop headers', async () => {
    const body = 'x'.repeat(1000);
    const answer = await rawExchange(
      proxy.port,
      `PUT /rgs/some/where?a=1&b=%20 HTTP/1.1\r\nHost: proxy.local\r\nAuthorization: Bearer sekret\r\nX-Session-Id: s-1\r\nContent-Type: text/plain\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(statusOf(answer)).toBe(200);
    const got = up.seen[0]!;
    expect(got).toMatchObject({ method: 'PUT', url: '/base/some/where?a=1&b=%20' });
    expect(got.body.toString()).toBe(body);
    const h = Object.fromEntries(got.rawHeaders.flatMap((v, i, a) => (i % 2 ? [] : [[v.toLowerCase(), a[i + 1]]])));
    expect(h).toMatchObject({ host: new URL(up.base).host, authorization: 'Bearer sekret', 'x-session-id': 's-1', 'content-type': 'text/plain', 'content-length': '1000' });
    expect(h['x-hop']).toBeUndefined();
    expect(h['keep-alive']).toBeUndefined();
    // the fact has the client's raw headers (redaction happens downstream), the log lines never do
    expect(sink.of('http-request')[0]!.headers).toContainEqual(['Authorization', 'Bearer sekret']);
    expect(sink.of('http-request')[0]!.path).toBe('/some/where?a=1&b=%20');
    expect(lines.join('\n')).not.toMatch(/sekret|s-1|a=1/);
    expect(lines.join('\n')).toMatch(/PUT rgs \/some\/where → 200/);
  });

  it('HTTP: large bodies stream through whole; the fact keeps maxHttpBodyBytes and a proxy-error notes the truncation', async () => {
    await proxy.close();
    proxy = await start({ maxHttpBodyBytes: 64 * 1024 });
    const big = Buffer.alloc(3 * 1024 * 1024, 1);
    big.write('head');
    const r = await fetch(`${proxy.url}/rgs/echo`, { method: 'POST', body: big });
    expect((await r.json()) as unknown).toMatchObject({ bodyLength: big.length });
    expect(sha(up.seen[0]!.body)).toBe(sha(big));
    const req = sink.of('http-request')[0]!;
    expect(req.body).toEqual(big.subarray(0, 64 * 1024));
    expect(sink.of('proxy-error')[0]).toMatchObject({ stage: 'client', message: expect.stringContaining(`kept 65536 of ${big.length} bytes`) });
  });

  it('WebSocket: text and binary stay what they are, subprotocol, query, ping/pong and close codes pass through both ways', async () => {
    const c = await openWs(`${proxy.url.replace('http', 'ws')}/rgs/ws?room=7`, ['rewind.v1', 'other']);
    expect(c.ws.protocol).toBe('rewind.v1');
    const bin = Buffer.from([0, 255, 10, 13, 0x80, 0xfe]);
    c.ws.send('{"t":"hello"}\n{"t":"world"}');
    c.ws.send(bin);
    c.ws.send('ping');
    await c.waitFor(2);
    expect(c.messages[0]).toEqual({ data: Buffer.from('{"t":"hello"}\n{"t":"world"}'), binary: false });
    expect(c.messages[1]).toEqual({ data: bin, binary: true });
    await waitFor("the upstream's ping at the client", () => c.pings.length > 0);
    expect(c.pings.map(String)).toEqual(['hello?']); // the upstream's ping reached the client (not answered by the proxy)
    c.ws.close(4321, 'bye now');
    expect(await c.closed).toEqual({ code: 4321, reason: 'bye now' });
    await waitFor('the close at the upstream', () => (up.wsSeen[0]?.closes.length ?? 0) > 0);
    expect(up.wsSeen[0]).toMatchObject({ url: '/base/ws?room=7', protocol: 'rewind.v1', closes: [{ code: 4321, reason: 'bye now' }] });
    expect(up.wsSeen[0]!.messages[1]).toEqual({ data: bin, binary: true });
    const facts = sink.facts;
    expect(facts.map((f) => f.type)).toEqual(['ws-open', 'ws-message', 'ws-message', 'ws-message', 'ws-message', 'ws-message', 'ws-close']);
    expect(facts[0]).toMatchObject({ type: 'ws-open', path: '/ws?room=7', connectionId: 'ws-1', platform: 'rgs' });
    const msgs = facts.filter((f) => f.type === 'ws-message');
    expect(msgs.filter((m) => m.binary)).toEqual([expect.objectContaining({ direction: 'client_to_platform', data: bin }), expect.objectContaining({ direction: 'platform_to_client', data: bin })]);
    expect(msgs.find((m) => !m.binary)).toMatchObject({ data: '{"t":"hello"}\n{"t":"world"}' });
    expect(facts[facts.length - 1]).toMatchObject({ type: 'ws-close', initiator: 'client', code: 4321, reason: 'bye now' });
    // monotonic time
    const ns = facts.map((f) => f.atNs);
    expect([...ns].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(ns);
  });

  it('WebSocket: upstream close code/reason reaches the client; an upstream drop reaches it as 1006', async () => {
    const a = await openWs(`${proxy.url.replace('http', 'ws')}/rgs/ws`);
    a.ws.send('close:4999:platform says no');
    expect(await a.closed).toEqual({ code: 4999, reason: 'platform says no' });
    const b = await openWs(`${proxy.url.replace('http', 'ws')}/rgs/ws`);
    b.ws.send('terminate');
    expect((await b.closed).code).toBe(1006);
    const closes = sink.of('ws-close');
    expect(closes).toEqual([expect.objectContaining({ initiator: 'platform', code: 4999, reason: 'platform says no' }), expect.objectContaining({ initiator: 'platform', code: 1006 })]);
  });

  it('WebSocket: given a client message crossing the platform close, then it is recorded on the same connection, marked undelivered', async () => {
    const a = await openWs(`${proxy.url.replace('http', 'ws')}/rgs/ws`);
    a.ws.on('message', (d: Buffer) => d.toString() === 'bye' && a.ws.send('late input'));
    a.ws.send('bye:1000:GAME_OVER');
    expect(await a.closed).toEqual({ code: 1000, reason: 'GAME_OVER' });
    await proxy.close();
    const facts = sink.facts.filter((f) => f.type === 'ws-message' || f.type === 'ws-close');
    expect(new Set(facts.map((f) => f.connectionId)).size).toBe(1);
    const seen = facts.map((f) => (f.type === 'ws-message' ? `${f.direction} ${String(f.data)}${f.undelivered ? ' (undelivered)' : ''}` : `close ${f.code} ${f.reason} by ${f.initiator}`));
    // The late input reaches the proxy while the upstream leg is closing: before or after its close event.
    expect(seen.slice(0, 2)).toEqual(['client_to_platform bye:1000:GAME_OVER', 'platform_to_client bye']);
    expect(seen.slice(2).sort()).toEqual(['client_to_platform late input (undelivered)', 'close 1000 GAME_OVER by platform']);
    expect(up.wsSeen.at(-1)?.messages.map((m) => m.data.toString())).toEqual(['bye:1000:GAME_OVER']);
  });

  it('WebSocket: a close frame without a code (1005) is passed on without a code', async () => {
    const a = await openWs(`${proxy.url.replace('http', 'ws')}/rgs/ws`);
    a.ws.close();
    expect((await a.closed).code).toBe(1005);
    await waitFor('the close at the upstream', () => (up.wsSeen[0]?.closes.length ?? 0) > 0);
    expect(up.wsSeen[0]!.closes).toEqual([{ code: 1005, reason: '' }]);
    expect(sink.of('ws-close')[0]).toMatchObject({ initiator: 'client', code: 1005, reason: '' });
  });

  it('WebSocket: a client that drops makes the proxy drop the upstream leg too', async () => {
    const a = await openWs(`${proxy.url.replace('http', 'ws')}/rgs/ws`);
    a.ws.send('x');
    await a.waitFor(1);
    a.ws.terminate();
    await waitFor('the drop at the upstream', () => (up.wsSeen[0]?.closes.length ?? 0) > 0);
    expect(up.wsSeen[0]!.closes).toEqual([{ code: 1006, reason: '' }]);
    expect(sink.of('ws-close')[0]).toMatchObject({ initiator: 'client', code: 1006 });
  });

  it('WebSocket: closing the proxy closes both legs 1001 (initiator proxy)', async () => {
    const a = await openWs(`${proxy.url.replace('http', 'ws')}/rgs/ws`);
    await proxy.close();
    expect(await a.closed).toEqual({ code: 1001, reason: 'proxy shutting down' });
    expect(up.wsSeen[0]!.closes).toEqual([{ code: 1001, reason: 'proxy shutting down' }]);
    expect(sink.of('ws-close')).toEqual([expect.objectContaining({ initiator: 'proxy', code: 1001, reason: 'proxy shutting down' })]);
  });

  it('WebSocket: an oversized message is refused with 1009 both ways, reported, and the proxy carries on', async () => {
    await proxy.close();
    proxy = await start({ maxWsMessageBytes: 1024 });
    const a = await openWs(`${proxy.url.replace('http', 'ws')}/rgs/ws`);
    a.ws.send('y'.repeat(2000));
    expect((await a.closed).code).toBe(1009);
    await waitFor('the close at the upstream', () => (up.wsSeen[0]?.closes.length ?? 0) > 0);
    expect(up.wsSeen[0]!.closes[0]!.code).toBe(1009);
    expect(up.wsSeen[0]!.messages).toHaveLength(0);
    expect(sink.of('proxy-error')[0]).toMatchObject({ stage: 'client', message: expect.stringContaining('1009') });
    expect(sink.of('ws-close')[0]).toMatchObject({ initiator: 'proxy', code: 1009 });
    // the upstream sending too much is refused the same way
    const b = await openWs(`${proxy.url.replace('http', 'ws')}/rgs/ws`);
    b.ws.send('big:5000');
    expect((await b.closed).code).toBe(1009);
    expect(sink.of('proxy-error')[1]).toMatchObject({ stage: 'upstream' });
    expect((await fetch(`${proxy.url}/rgs/empty`)).status).toBe(200);
  });

  it('WebSocket: an upstream refusal reaches the client with the same status, headers and body', async () => {
    const refused = await openWs(`${proxy.url.replace('http', 'ws')}/rgs/not-ws`).catch((e: { status: number; body: string; headers: Record<string, string> }) => e);
    expect(refused).toMatchObject({ status: 401, body: '{"error":"no_token"}', headers: expect.objectContaining({ 'x-why': 'token' }) });
    expect(sink.facts.map((f) => f.type)).toEqual(['http-request', 'http-response']);
    expect(sink.of('http-response')[0]).toMatchObject({ status: 401, body: Buffer.from('{"error":"no_token"}') });
  });

  it('unknown or unconfigured platforms → 404 unknown_platform (HTTP and WebSocket)', async () => {
    for (const p of ['/nope/x', '/moltstation/api/games/catalog', '/', '/rgsx/y']) {
      const r = await fetch(`${proxy.url}${p}`);
      expect([p, r.status, await r.json()]).toEqual([p, 404, { error: 'unknown_platform' }]);
    }
    const ws = await openWs(`${proxy.url.replace('http', 'ws')}/spacemolt/ws`).catch((e: { status: number; body: string }) => e);
    expect(ws).toMatchObject({ status: 404, body: '{"error":"unknown_platform"}' });
    expect(up.seen).toHaveLength(0);
  });

  it('request targets cannot escape the upstream base (absolute-form, dot segments, encoded separators)', async () => {
    const attempts = [
      'GET http://evil.example/rgs/x HTTP/1.1',
      'GET //evil.example/rgs/x HTTP/1.1',
      'GET /rgs/../admin/faults HTTP/1.1',
      'GET /rgs/%2e%2E/admin HTTP/1.1',
      'GET /rgs/a/..%2f..%2fadmin HTTP/1.1',
      'GET /rgs/%2fetc HTTP/1.1',
      'GET /rgs/./x HTTP/1.1',
      'GET /rgs/a\\..\\..\\admin HTTP/1.1',
      'CONNECT evil.example:443 HTTP/1.1',
      'GET * HTTP/1.1',
    ];
    for (const line of attempts) {
      const answer = await rawExchange(proxy.port, `${line}\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect([line, statusOf(answer)]).toEqual([line, expect.any(Number)]);
      expect([line, statusOf(answer) >= 400 && statusOf(answer) < 500]).toEqual([line, true]);
    }
    expect(up.seen).toHaveLength(0);
    // a legitimate target lands under the base path
    await rawExchange(proxy.port, 'GET /rgs/a/b%20c?d=..%2f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(up.seen.map((s) => s.url)).toEqual(['/base/a/b%20c?d=..%2f']);
  });

  it('bad input never crashes it: malformed HTTP, a client reset mid-body, a bad WebSocket handshake', async () => {
    expect(statusOf(await rawExchange(proxy.port, 'THIS IS NOT HTTP\r\n\r\n'))).toBe(400);
    expect(statusOf(await rawExchange(proxy.port, Buffer.from([0, 1, 2, 3, 255, 13, 10, 13, 10])))).toBe(400);
    await rawExchange(proxy.port, 'POST /rgs/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly-a-bit', { destroyAfterWrite: true });
    await waitFor("the proxy's error for the client that went away", () => sink.of('proxy-error').length > 0);
    expect(sink.of('proxy-error')).toEqual([expect.objectContaining({ stage: 'client', message: expect.stringContaining('client went away') })]);
    expect(sink.of('http-request')[0]!.body.toString()).toBe('only-a-bit');
    const bad = await rawExchange(proxy.port, 'GET /rgs/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: nope\r\nSec-WebSocket-Version: 13\r\n\r\n');
    expect(statusOf(bad)).toBe(400);
    expect(up.wsSeen).toHaveLength(0);
    expect((await fetch(`${proxy.url}/rgs/empty`)).status).toBe(200);
  });

  it('a throwing sink never breaks forwarding (logged once)', async () => {
    await proxy.close();
    const throwing: CaptureSink = {
      capture(_f: CapturedFact) {
        throw new Error('sink down');
      },
    };
    proxy = await start({ sink: throwing });
    const r = await fetch(`${proxy.url}/rgs/echo`, { method: 'POST', body: 'hi' });
    expect(r.status).toBe(200);
    const c = await openWs(`${proxy.url.replace('http', 'ws')}/rgs/ws`);
    c.ws.send('still here');
    await c.waitFor(1);
    expect(c.messages[0]!.data.toString()).toBe('still here');
    c.ws.close(1000);
    await c.closed;
    expect(lines.filter((l) => l.includes('sink threw'))).toHaveLength(1);
  });

  it('WebSocket: upstream handshake timeout → 504; a client leaving during the handshake abandons the upstream', async () => {
    await proxy.close();
    proxy = await start({ upstreamTimeoutMs: 300 });
    const t = await openWs(`${proxy.url.replace('http', 'ws')}/rgs/ws-hang`).catch((e: { status: number; body: string }) => e);
    expect(t).toMatchObject({ status: 504, body: expect.stringContaining('upstream_timeout') });
    expect(sink.of('proxy-error')[0]).toMatchObject({ stage: 'upstream', status: 504 });
    const upgrade = 'GET /rgs/ws-hang HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    await rawExchange(proxy.port, upgrade, { destroyAfterWrite: true });
    await waitFor('the upstream attempt abandoned', () => sink.of('proxy-error').length >= 2 && up.hanging[up.hanging.length - 1]?.destroyed === true);
    expect(sink.of('proxy-error')[1]).toMatchObject({ stage: 'client', message: expect.stringContaining('before the upstream accepted') });
    expect(up.hanging[up.hanging.length - 1]!.destroyed).toBe(true);
  });

  it('HTTP: a client that gives up while the upstream is still thinking aborts the upstream request', async () => {
    const before = up.state.hangsAbandoned;
    const aborted = await fetch(`${proxy.url}/rgs/hang`, { signal: AbortSignal.timeout(150) }).catch((e: Error) => e.name);
    expect(aborted).toBe('TimeoutError');
    await waitFor('the upstream request aborted', () => up.state.hangsAbandoned > before && sink.of('proxy-error').length > 0);
    expect(up.state.hangsAbandoned).toBe(before + 1);
    expect(sink.of('proxy-error')).toEqual([expect.objectContaining({ stage: 'client', message: 'client went away before the response' })]);
    expect(sink.of('http-request')).toHaveLength(1);
    expect(sink.of('http-response')).toHaveLength(0);
  });

  it('upstream timeout → 504 (HTTP) with a proxy-error fact', async () => {
    await proxy.close();
    proxy = await start({ upstreamTimeoutMs: 200 });
    const r = await fetch(`${proxy.url}/rgs/hang`);
    expect(r.status).toBe(504);
    expect(await r.json()).toMatchObject({ error: 'upstream_timeout' });
    expect(sink.of('proxy-error')[0]).toMatchObject({ stage: 'upstream', status: 504 });
  });
});

describe('recording proxy against the simulator', () => {
  let sim: RunningSimulator;
  let proxy: RunningRecordingProxy;
  let sink: RecordingSink;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 'proxy-edges', platformOptions: { spacemolt: { tickMs: 100 } } });
    sink = new RecordingSink();
    proxy = await startRecordingProxy({ port: 0, upstreams: { moltstation: sim.baseUrl('moltstation'), spacemolt: sim.baseUrl('spacemolt') }, sink });
  });
  beforeEach(() => {
    sink.facts.length = 0;
  });
  afterEach(() => sim.faults.clear());
  afterAll(async () => {
    await proxy.close();
    await sim.close();
  });

  it('MoltStation 4409 TOKEN_REPLAYED passes through with its code and reason', async () => {
    const client = new moltstation.MoltClient({ baseUrl: `${proxy.url}/moltstation` });
    await client.login('flappybots', moltstation.walletFor('replayer'));
    const sessionId = await client.startSession('flappybots', 'agent_api');
    sim.faults.add({ platform: 'moltstation', fault: 'replay-token', target: sessionId, times: 1 });
    const token = await client.playToken('flappybots', sessionId);
    const run = await moltstation.runSocket({ wsBase: client.wsBase, slug: 'flappybots', role: 'play', sessionId, token, authStyle: 'message', stream: 's' });
    expect([run.closeCode, run.closeReason]).toEqual([4409, 'TOKEN_REPLAYED']);
    expect(sink.of('ws-close')).toEqual([expect.objectContaining({ initiator: 'platform', code: 4409, reason: 'TOKEN_REPLAYED' })]);
  });

  it('WebSocket upgrades refused by the platform keep their status (MoltStation 404, SpaceMolt 503)', async () => {
    const wsUrl = (base: string, p: string) => `${base.replace('http', 'ws')}${p}`;
    const viaBoth = async (platform: 'moltstation' | 'spacemolt', path: string) => {
      const direct = await openWs(wsUrl(sim.baseUrl(platform), path)).catch((e: { status: number; body: string }) => ({ status: e.status, body: e.body }));
      const proxied = await openWs(wsUrl(`${proxy.url}/${platform}`, path)).catch((e: { status: number; body: string }) => ({ status: e.status, body: e.body }));
      return { direct, proxied };
    };
    const molt = await viaBoth('moltstation', '/ws/nogame/play?sessionId=x');
    expect(molt.direct).toMatchObject({ status: 404 });
    expect(molt.proxied).toEqual(molt.direct);
    sim.faults.add({ platform: 'spacemolt', fault: 'status-503', times: 2 });
    const sm = await viaBoth('spacemolt', '/ws');
    expect(sm.direct).toMatchObject({ status: 503 });
    expect(sm.proxied).toEqual(sm.direct);
  });

  it('SpaceMolt: the reconnected+logged_in NDJSON batch arrives as one message, and the replaced socket gets 4001', async () => {
    const wsBase = `${proxy.url.replace('http', 'ws')}/spacemolt/ws`;
    const first = await openWs(wsBase);
    await first.waitFor(1); // welcome
    first.ws.send(JSON.stringify({ type: 'register', payload: { username: 'ndjson_pilot', empire: 'solarian', registration_code: 'rewind-simulator' }, request_id: 'r1' }));
    await first.waitFor(3); // registered + logged_in push
    const password = JSON.parse(first.messages[1]!.data.toString()).payload.password as string;
    const second = await openWs(wsBase);
    await second.waitFor(1);
    second.ws.send(JSON.stringify({ type: 'login', payload: { username: 'ndjson_pilot', password }, request_id: 'r2' }));
    await second.waitFor(2);
    const batch = second.messages[1]!.data.toString();
    expect(batch.split('\n').map((l) => JSON.parse(l).type)).toEqual(['reconnected', 'logged_in']);
    expect((await first.closed).code).toBe(4001);
    // the sink saw the batch as one message, byte for byte
    expect(sink.of('ws-message').filter((m) => m.direction === 'platform_to_client' && m.data === batch)).toHaveLength(1);
    expect(sink.of('ws-close')[0]).toMatchObject({ initiator: 'platform', code: 4001 });
    second.ws.close(1000);
    await second.closed;
  });

  it('an upstream that answers garbage → 502 bad_upstream_response', async () => {
    const junk = net.createServer((s) => s.on('data', () => s.end('NOT HTTP AT ALL\r\n\r\n')));
    await new Promise<void>((r) => junk.listen(0, '127.0.0.1', () => r()));
    const s = new RecordingSink();
    const p = await startRecordingProxy({ port: 0, upstreams: { rgs: `http://127.0.0.1:${(junk.address() as net.AddressInfo).port}/rgs` }, sink: s });
    try {
      const r = await fetch(`${p.url}/rgs/game/balance`);
      expect(r.status).toBe(502);
      expect(await r.json()).toMatchObject({ error: 'bad_upstream_response' });
      expect(s.of('proxy-error')[0]).toMatchObject({ stage: 'upstream', status: 502 });
    } finally {
      await p.close();
      await new Promise<void>((r) => junk.close(() => r()));
    }
  });

  it('upstream down → 502 JSON (HTTP and WebSocket) with a proxy-error fact', async () => {
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const port = (dead.address() as net.AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const s = new RecordingSink();
    const p = await startRecordingProxy({ port: 0, upstreams: { cloudplay: `http://127.0.0.1:${port}/cloudplay` }, sink: s });
    try {
      const r = await fetch(`${p.url}/cloudplay/api/game/sessions`);
      expect(r.status).toBe(502);
      expect(await r.json()).toEqual({ error: 'upstream_unreachable', message: 'upstream cloudplay unreachable (ECONNREFUSED)' });
      const ws = await openWs(`${p.url.replace('http', 'ws')}/cloudplay/ws`).catch((e: { status: number }) => e);
      expect(ws).toMatchObject({ status: 502 });
      expect(s.of('proxy-error').map((f) => [f.stage, f.status])).toEqual([
        ['connect', 502],
        ['connect', 502],
      ]);
      // What the client received from the proxy itself is carried for the record, byte for byte.
      const answer = JSON.stringify({ error: 'upstream_unreachable', message: 'upstream cloudplay unreachable (ECONNREFUSED)' });
      expect(s.of('proxy-error').map((f) => f.answer?.body.toString())).toEqual([answer, answer]);
    } finally {
      await p.close();
    }
  });
});
