/**
 * Hostile input against the recording proxy, over real sockets (fake upstream + a sentinel server that must never
 * be reached): deep JSON, invalid UTF-8, fragmented / truncated / reset WebSocket frames, oversized messages and
 * headers, a flood of dropped and half-open connections, and open-proxy tricks. Each: a clear answer or close,
 * a proxy that keeps serving a normal bot, bounded memory, and facts that say what happened.
 * (Complements proxy-edges.int-spec.ts, which covers the plain refusals, closes and bodies.)
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { deepJsonArray, deepJsonObject, fuzz } from '@rewind/fuzz';
import { FakeUpstream, openWs, startFakeUpstream } from './fake-upstream';
import { waitFor } from '@rewind/testing';
import { startRecordingProxy } from './server';
import { rawExchange, RecordingSink, statusOf } from './test-helpers';
import type { RecordingProxyOptions, RunningRecordingProxy } from './types';

const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const upgradeRequest = (path: string, extra = ''): string =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

/** One client→server frame (masked, as RFC 6455 requires of clients), or unmasked when asked. */
function frame(opcode: number, payload: Buffer, opts: { fin?: boolean; masked?: boolean; claimLength?: number | bigint } = {}): Buffer {
  const fin = opts.fin ?? true;
  const masked = opts.masked ?? true;
  const len = opts.claimLength ?? payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | opcode];
  const m = masked ? 0x80 : 0;
  if (typeof len === 'bigint' || len > 0xffff) {
    head.push(m | 127);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(len));
    head.push(...b);
  } else if (len > 125) head.push(m | 126, (len >> 8) & 0xff, len & 0xff);
  else head.push(m | len);
  if (!masked) return Buffer.concat([Buffer.from(head), payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([Buffer.from(head), mask, body]);
}
const TEXT = 0x1;
const CONT = 0x0;
const BINARY = 0x2;
const PING = 0x9;

/** Parses the server→client frames (unmasked) in `buf`: opcode + payload; a close frame gives its code. */
function serverFrames(buf: Buffer): { opcode: number; payload: Buffer; closeCode?: number }[] {
  const out: { opcode: number; payload: Buffer; closeCode?: number }[] = [];
  let i = 0;
  while (i + 2 <= buf.length) {
    const opcode = (buf[i] as number) & 0x0f;
    let len = (buf[i + 1] as number) & 0x7f;
    let at = i + 2;
    if (len === 126) {
      len = buf.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      len = Number(buf.readBigUInt64BE(at));
      at += 8;
    }
    if (at + len > buf.length) break;
    const payload = buf.subarray(at, at + len);
    out.push({ opcode, payload, ...(opcode === 0x8 && len >= 2 ? { closeCode: payload.readUInt16BE(0) } : {}) });
    i = at + len;
  }
  return out;
}

/** A raw WebSocket client: upgrade by hand, then write whatever bytes; collects what comes back. */
class RawWs {
  readonly chunks: Buffer[] = [];
  closed = false;
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (c) => this.chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
  }
  static async open(port: number, path: string): Promise<RawWs> {
    const socket = net.connect(port, '127.0.0.1');
    const c = new RawWs(socket);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(upgradeRequest(path));
    await c.until(() => c.text().includes('\r\n\r\n'), 'the 101');
    if (!c.text().startsWith('HTTP/1.1 101')) throw new Error(`no 101: ${c.text().slice(0, 200)}`);
    return c;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
  /** Frames after the 101 head. */
  frames() {
    const all = Buffer.concat(this.chunks);
    return serverFrames(all.subarray(all.indexOf('\r\n\r\n') + 4));
  }
  async until(cond: () => boolean, what: string, timeoutMs?: number): Promise<void> {
    await waitFor(what, () => cond() || { got: this.text().slice(0, 200) }, { timeoutMs, intervalMs: 10, until: (v) => v === true });
  }
  closeCode(): number | undefined {
    return this.frames().find((f) => f.opcode === 0x8)?.closeCode;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('recording proxy: hostile input', () => {
  let up: FakeUpstream;
  let sentinel: { server: http.Server; port: number; hits: string[] };
  let proxy: RunningRecordingProxy;
  let sink: RecordingSink;
  let lines: string[];
  const start = (extra: Partial<RecordingProxyOptions> = {}): Promise<RunningRecordingProxy> => {
    sink = new RecordingSink();
    lines = [];
    return startRecordingProxy({ port: 0, upstreams: { rgs: up.base }, sink, log: (l) => lines.push(l), ...extra });
  };
  const wsUrl = () => `${proxy.url.replace('http', 'ws')}/rgs/ws`;

  /** A normal bot: one HTTP exchange and one WebSocket round trip through the proxy. */
  async function normalBotWorks(): Promise<void> {
    const r = await fetch(`${proxy.url}/rgs/echo?ok=1`, { method: 'POST', body: 'hello' });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ url: '/base/echo?ok=1', bodyLength: 5 });
    const c = await openWs(wsUrl());
    c.ws.send('still serving');
    await c.waitFor(1);
    expect(c.messages[0]!.data.toString()).toBe('still serving');
    c.ws.close(1000, 'bye');
    expect((await c.closed).code).toBe(1000);
  }

  beforeAll(async () => {
    up = await startFakeUpstream();
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.end('sentinel');
    });
    server.on('upgrade', (req, socket) => {
      hits.push(`UPGRADE ${req.url}`);
      socket.destroy();
    });
    server.on('connect', (req, socket) => {
      hits.push(`CONNECT ${req.url}`);
      socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    sentinel = { server, port: (server.address() as AddressInfo).port, hits };
  });
  beforeEach(async () => {
    up.seen.length = 0;
    up.wsSeen.length = 0;
    proxy = await start();
  });
  afterEach(async () => {
    await proxy.close();
    expect(sentinel.hits).toEqual([]);
  });
  afterAll(async () => {
    await up.close();
    sentinel.server.closeAllConnections();
    await new Promise<void>((r) => sentinel.server.close(() => r()));
  });

  // ——— 1. deep JSON, invalid UTF-8 ———

  it('given 100k-deep JSON in a WebSocket text frame and an HTTP body, then both are forwarded byte for byte and recorded as sent', async () => {
    const deepA = deepJsonArray(100_000);
    const deepO = deepJsonObject(100_000);
    const c = await openWs(wsUrl());
    c.ws.send(deepA);
    c.ws.send(deepO);
    await c.waitFor(2);
    // (compared by name: a failing diff of 200 KB brackets helps nobody)
    const name = (d: string | Buffer): string => (d.toString() === deepA ? 'deepA' : d.toString() === deepO ? 'deepO' : `other(${d.length} B)`);
    expect(c.messages.map((m) => [m.binary, name(m.data)])).toEqual([
      [false, 'deepA'],
      [false, 'deepO'],
    ]);
    c.ws.close(1000);
    await c.closed;
    const r = await fetch(`${proxy.url}/rgs/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deepA });
    expect(await r.json()).toMatchObject({ bodyLength: deepA.length });
    await waitFor('the close and the request recorded', () => sink.of('ws-close').length > 0 && sink.of('http-request').length > 0);
    const msgs = sink.of('ws-message');
    const dir = (d: string) => msgs.filter((m) => m.direction === d).map((m) => [m.binary, typeof m.data, name(m.data)]);
    expect(dir('client_to_platform')).toEqual([
      [false, 'string', 'deepA'],
      [false, 'string', 'deepO'],
    ]);
    expect(dir('platform_to_client')).toEqual(dir('client_to_platform'));
    expect(name(sink.of('http-request')[0]!.body)).toBe('deepA');
    expect(sink.of('proxy-error')).toEqual([]);
  });

  it('given invalid UTF-8 in a text frame (lone continuation byte, overlong, surrogate half), then 1007 to the client and the upstream, nothing forwarded, a proxy-error fact; the proxy serves on', async () => {
    for (const bad of [Buffer.from([0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('ok \xff', 'latin1')]) {
      up.wsSeen.length = 0;
      sink.facts.length = 0;
      const c = await openWs(wsUrl());
      c.ws.send(bad, { binary: false });
      expect((await c.closed).code).toBe(1007);
      await waitFor('the close at the upstream and recorded', () => (up.wsSeen[0]?.closes.length ?? 0) > 0 && sink.of('ws-close').length > 0);
      expect(up.wsSeen[0]!.messages).toEqual([]);
      expect(up.wsSeen[0]!.closes[0]!.code).toBe(1007);
      expect(sink.of('ws-message')).toEqual([]);
      expect(sink.of('proxy-error')[0]).toMatchObject({ stage: 'client', message: expect.stringContaining('WS_ERR_INVALID_UTF8') });
      expect(sink.of('ws-close')[0]).toMatchObject({ initiator: 'proxy', code: 1007 });
    }
    // The same bytes as a binary frame are legitimate and relayed unchanged.
    const b = await openWs(wsUrl());
    b.ws.send(Buffer.from([0xed, 0xa0, 0x80]), { binary: true });
    await b.waitFor(1);
    expect(b.messages[0]).toEqual({ binary: true, data: Buffer.from([0xed, 0xa0, 0x80]) });
    b.ws.close();
    await normalBotWorks();
  });

  // ——— 2. fragmented, truncated, reset frames ———

  it('given a text message in 50 fragments (with a ping between), then the upstream gets one message, recorded once', async () => {
    const c = await RawWs.open(proxy.port, '/rgs/ws');
    const text = Buffer.from('fragmented ✓ '.repeat(50));
    const parts = Array.from({ length: 50 }, (_, i) => text.subarray(Math.floor((i * text.length) / 50), Math.floor(((i + 1) * text.length) / 50)));
    parts.forEach((p, i) => {
      c.socket.write(frame(i === 0 ? TEXT : CONT, p, { fin: i === parts.length - 1 }));
      if (i === 25) c.socket.write(frame(PING, Buffer.from('mid')));
    });
    await c.until(() => c.frames().some((f) => f.opcode === TEXT), 'the echo');
    expect(
      c
        .frames()
        .find((f) => f.opcode === TEXT)!
        .payload.toString(),
    ).toBe(text.toString());
    expect(up.wsSeen[0]!.messages.map((m) => m.data.toString())).toEqual([text.toString()]);
    expect(
      sink
        .of('ws-message')
        .filter((m) => m.direction === 'client_to_platform')
        .map((m) => m.data),
    ).toEqual([text.toString()]);
    c.socket.destroy();
  });

  it('given protocol violations (unmasked frame, stray continuation, new message mid-fragments, 126-byte ping, reserved opcode, RSV bit), then 1002 both ways with a proxy-error, nothing of them forwarded', async () => {
    const cases: [string, Buffer][] = [
      ['unmasked', frame(TEXT, Buffer.from('hi'), { masked: false })],
      ['stray continuation', frame(CONT, Buffer.from('hi'))],
      ['text inside a fragmented message', Buffer.concat([frame(TEXT, Buffer.from('a'), { fin: false }), frame(TEXT, Buffer.from('b'))])],
      ['oversized control frame', frame(PING, Buffer.alloc(126, 1))],
      ['fragmented ping', frame(PING, Buffer.from('x'), { fin: false })],
      ['reserved opcode 0x3', frame(0x3, Buffer.from('x'))],
      [
        'RSV1 without an extension',
        (() => {
          const f = frame(TEXT, Buffer.from('x'));
          f[0] = (f[0] as number) | 0x40;
          return f;
        })(),
      ],
    ];
    for (const [what, bytes] of cases) {
      up.wsSeen.length = 0;
      sink.facts.length = 0;
      const c = await RawWs.open(proxy.port, '/rgs/ws');
      c.socket.write(bytes);
      await c.until(() => c.closeCode() !== undefined || c.closed, `${what}: a close`);
      expect([what, c.closeCode()]).toEqual([what, 1002]);
      await waitFor(`${what}: the close at the upstream and the proxy-error`, () => (up.wsSeen[0]?.closes.length ?? 0) > 0 && sink.of('proxy-error').length > 0);
      expect([what, up.wsSeen[0]!.messages.map((m) => m.data.toString())]).toEqual([what, []]);
      expect([what, up.wsSeen[0]!.closes[0]?.code]).toEqual([what, 1002]);
      expect([what, sink.of('proxy-error')[0]?.message]).toEqual([what, expect.stringMatching(/protocol error from the client .*closed 1002/)]);
      c.socket.destroy();
    }
    await normalBotWorks();
  });

  it('given a frame cut off mid-payload then a TCP reset (or a FIN), and a fragmented message abandoned half way, then the upstream leg is dropped (1006), the partial message is neither forwarded nor recorded, and the close is recorded', async () => {
    const variants: [string, (c: RawWs) => void][] = [
      [
        'reset mid-frame',
        (c) => {
          c.socket.write(frame(TEXT, Buffer.alloc(1000, 0x61), { claimLength: 1000 }).subarray(0, 200));
          setTimeout(() => c.socket.resetAndDestroy(), 30);
        },
      ],
      [
        'FIN mid-frame (half-open)',
        (c) => {
          c.socket.write(frame(BINARY, Buffer.alloc(5000, 1)).subarray(0, 300));
          setTimeout(() => c.socket.end(), 30);
        },
      ],
      [
        'reset mid-fragments',
        (c) => {
          c.socket.write(frame(TEXT, Buffer.from('first part '), { fin: false }));
          c.socket.write(frame(CONT, Buffer.from('second part'), { fin: false }));
          setTimeout(() => c.socket.resetAndDestroy(), 30);
        },
      ],
      [
        'reset mid-header',
        (c) => {
          c.socket.write(frame(TEXT, Buffer.alloc(70_000), {}).subarray(0, 5));
          setTimeout(() => c.socket.resetAndDestroy(), 30);
        },
      ],
    ];
    for (const [what, act] of variants) {
      up.wsSeen.length = 0;
      sink.facts.length = 0;
      const c = await RawWs.open(proxy.port, '/rgs/ws');
      act(c);
      await c.until(() => up.wsSeen[0]?.closes.length === 1, `${what}: the upstream leg to close`);
      expect([what, up.wsSeen[0]!.messages]).toEqual([what, []]);
      expect([what, up.wsSeen[0]!.closes[0]!.code]).toEqual([what, 1006]);
      await waitFor(`${what}: the close recorded`, () => sink.of('ws-close').length > 0);
      expect([what, sink.of('ws-message')]).toEqual([what, []]);
      expect([what, sink.of('ws-close')[0]]).toEqual([what, expect.objectContaining({ initiator: 'client', code: 1006 })]);
      c.socket.destroy();
    }
    await normalBotWorks();
  });

  // ——— 3. oversized ———

  it('given messages over the limit (one frame announcing 2^62 bytes, 2 KiB in 100-byte fragments) and bytes before the 101 over the limit, then 1009 at once without buffering them / the socket is cut; the proxy serves on', async () => {
    await proxy.close();
    proxy = await start({ maxWsMessageBytes: 1024 });
    const heapBefore = process.memoryUsage().heapUsed;
    const huge = await RawWs.open(proxy.port, '/rgs/ws');
    huge.socket.write(frame(BINARY, Buffer.alloc(16, 1), { claimLength: 2n ** 62n }));
    await huge.until(() => huge.closeCode() !== undefined || huge.closed, 'a close');
    expect(huge.closeCode()).toBe(1009);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(32 * 1024 * 1024);
    const frag = await RawWs.open(proxy.port, '/rgs/ws');
    for (let i = 0; i < 21; i++) frag.socket.write(frame(i === 0 ? TEXT : CONT, Buffer.alloc(100, 0x61), { fin: i === 20 }));
    await frag.until(() => frag.closeCode() !== undefined || frag.closed, 'a close');
    expect(frag.closeCode()).toBe(1009);
    await waitFor('both closes at the upstream and recorded', () => up.wsSeen.filter((w) => w.closes.length > 0).length >= 2 && sink.of('ws-close').length >= 2);
    expect(up.wsSeen.flatMap((w) => w.messages)).toEqual([]);
    // Both recorded as 1009, the code the client got (before the fix, a > 2^53 frame was recorded and passed
    // upstream as 1002 while the client got 1009).
    expect(sink.of('proxy-error').map((e) => e.message)).toEqual([expect.stringContaining('closed 1009'), expect.stringContaining('closed 1009')]);
    expect(sink.of('ws-close').map((e) => e.code)).toEqual([1009, 1009]);
    expect(up.wsSeen.map((w) => w.closes[0]?.code)).toEqual([1009, 1009]);
    // Bytes sent before the proxy's 101 (while the upstream handshake is pending) are capped by the same limit.
    const early = net.connect(proxy.port, '127.0.0.1');
    early.on('error', () => undefined);
    early.resume();
    await new Promise<void>((r) => early.once('connect', () => r()));
    early.write(upgradeRequest('/rgs/ws-hang'));
    for (let i = 0; i < 8; i++) early.write(Buffer.alloc(512, 0x61));
    await new Promise<void>((r) => early.once('close', () => r()));
    await waitFor('the early bytes refused', () => sink.of('proxy-error').at(-1)?.message.includes('before the upstream accepted') === true);
    expect(sink.of('proxy-error').at(-1)).toMatchObject({ stage: 'client', message: expect.stringContaining('before the upstream accepted') });
    await normalBotWorks();
  });

  it("given a fragment flood (20,000 empty continuation frames), then ws's fragment limit closes it 1008 both ways, recorded as 1008; the proxy serves on", async () => {
    const c = await RawWs.open(proxy.port, '/rgs/ws');
    const parts = [frame(TEXT, Buffer.alloc(0), { fin: false })];
    for (let i = 0; i < 20_000; i++) parts.push(frame(CONT, Buffer.alloc(0), { fin: false }));
    c.socket.write(Buffer.concat(parts));
    await c.until(() => c.closeCode() !== undefined || c.closed, 'a close');
    expect(c.closeCode()).toBe(1008);
    await c.until(() => up.wsSeen[0]?.closes.length === 1, 'the upstream close');
    expect(up.wsSeen[0]!.closes[0]!.code).toBe(1008);
    expect(up.wsSeen[0]!.messages).toEqual([]);
    expect(sink.of('ws-close')[0]).toMatchObject({ initiator: 'proxy', code: 1008 });
    expect(sink.of('proxy-error')[0]!.message).toMatch(/WS_ERR_TOO_MANY_BUFFERED_PARTS.*closed 1008/);
    c.socket.destroy();
    await normalBotWorks();
  });

  it('given upgrades left waiting on an upstream that never answers (one with bytes before the 101), when the proxy closes, then each client gets 503 proxy_shutting_down and close() returns at once (before: it waited for upstreamTimeoutMs, 120 s by default)', async () => {
    const waiting: Promise<string>[] = [];
    const hangingBefore = up.hanging.length;
    for (let i = 0; i < 3; i++) waiting.push(rawExchange(proxy.port, upgradeRequest('/rgs/ws-hang') + (i === 0 ? 'early bytes' : ''), { timeoutMs: 30_000 }));
    await waitFor('the 3 upgrades waiting at the upstream', () => up.hanging.length >= hangingBefore + 3);
    const t0 = Date.now();
    await proxy.close();
    // "At once" against the 120 s it took before: a bound that holds on a loaded machine.
    expect(Date.now() - t0).toBeLessThan(15_000);
    for (const answer of await Promise.all(waiting)) {
      expect(statusOf(answer)).toBe(503);
      expect(answer).toContain('proxy_shutting_down');
    }
    expect(sink.of('proxy-error').filter((e) => e.status === 503)).toHaveLength(3);
    proxy = await start(); // for afterEach
  });

  it('given request headers over 16 KiB (one big, or 3000 small), or a 100 KB request line, then 431/400 from the proxy and nothing reaches the upstream', async () => {
    const bigHeader = await rawExchange(proxy.port, `GET /rgs/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    // 431, not 400: before the fix the proxy's clientError handler answered every parse error 400.
    expect(statusOf(bigHeader)).toBe(431);
    const many = await rawExchange(proxy.port, `GET /rgs/x HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-Header-${i}: v`).join('\r\n')}\r\n\r\n`);
    expect(statusOf(many)).toBe(431);
    const longLine = await rawExchange(proxy.port, `GET /rgs/${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect([400, 414, 431]).toContain(statusOf(longLine));
    const ws = await rawExchange(proxy.port, upgradeRequest('/rgs/ws', `X-Big: ${'a'.repeat(20_000)}\r\n`));
    expect(statusOf(ws)).toBe(431);
    expect(up.seen).toEqual([]);
    expect(up.wsSeen).toEqual([]);
  });

  // ——— 4. connection flood ———

  it('given 500 connections opened and dropped in every way (resets, half-open FINs, partial heads, upgrades cut mid-handshake or mid-frame, slowloris), then the proxy keeps serving, memory stays bounded and every WebSocket it opened is closed and recorded', async () => {
    const f = fuzz('proxy-flood-1');
    await normalBotWorks();
    sink.facts.length = 0;
    up.wsSeen.length = 0;
    const memBefore = process.memoryUsage();
    const lingering: net.Socket[] = [];
    const kinds = [
      'reset-at-once',
      'partial-request-line',
      'partial-headers-then-fin',
      'full-request-fin-no-read',
      'upgrade-then-reset',
      'upgrade-then-fin',
      'ws-midframe-reset',
      'slowloris',
    ] as const;
    const counts: Record<string, number> = {};
    const hung: string[] = [];
    const one = (i: number): Promise<void> =>
      new Promise((resolve) => {
        const kind = f.pick(kinds);
        counts[kind] = (counts[kind] ?? 0) + 1;
        const s = net.connect(proxy.port, '127.0.0.1');
        s.on('error', () => undefined);
        // Read (and drop) what the proxy answers, so its FIN is seen — except the one kind that must not read.
        if (kind !== 'full-request-fin-no-read') s.resume();
        s.on('close', () => resolve());
        // A connection the proxy neither answers nor closes within 5 s (other than slowloris) is a finding.
        setTimeout(() => {
          if (s.destroyed || kind === 'slowloris') return;
          hung.push(kind);
          s.destroy();
        }, 5_000).unref();
        s.once('connect', () => {
          switch (kind) {
            case 'reset-at-once':
              return void s.resetAndDestroy();
            case 'partial-request-line':
              s.write('GET /rgs/ec');
              return void setTimeout(() => s.resetAndDestroy(), f.int(0, 20));
            case 'partial-headers-then-fin':
              s.write('POST /rgs/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n');
              return void s.end();
            case 'full-request-fin-no-read':
              s.end(`POST /rgs/echo?i=${i} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc`);
              return void setTimeout(() => s.destroy(), 200);
            case 'upgrade-then-reset':
              s.write(upgradeRequest('/rgs/ws'));
              return void setTimeout(() => s.resetAndDestroy(), f.int(0, 30));
            case 'upgrade-then-fin':
              s.write(upgradeRequest('/rgs/ws'));
              return void setTimeout(() => s.end(), f.int(0, 30));
            case 'ws-midframe-reset':
              s.write(upgradeRequest('/rgs/ws'));
              s.once('data', () => {
                s.write(frame(TEXT, Buffer.alloc(400, 0x62)).subarray(0, f.int(1, 300)));
                setTimeout(() => s.resetAndDestroy(), 10);
              });
              return;
            default:
              // slowloris: a head that never completes, left open until the end of the test
              s.write('GET /rgs/echo HTTP/1.1\r\nHost: x\r\nX-Slow: ');
              lingering.push(s);
              return void resolve();
          }
        });
      });
    for (let batch = 0; batch < 10; batch++) await Promise.all(Array.from({ length: 50 }, (_, j) => one(batch * 50 + j)));
    expect(hung).toEqual([]);
    // The proxy still serves, while the slowloris sockets are still open.
    await normalBotWorks();
    // Every WebSocket the proxy opened towards the upstream gets closed, and each has a ws-close fact.
    await sleep(300); // deliberate: the last sockets the fuzz opened reach the proxy before the count
    const opened = sink.of('ws-open').length;
    await waitFor('a ws-close for every ws-open', () => sink.of('ws-close').length, { until: (n) => n >= opened }).catch(() => undefined); // the expect below says how many
    expect(sink.of('ws-close').length).toBe(opened);
    expect(up.wsSeen.every((w) => w.closes.length === 1)).toBe(true);
    const after = process.memoryUsage();
    expect(after.heapUsed - memBefore.heapUsed).toBeLessThan(64 * 1024 * 1024);
    expect(after.rss - memBefore.rss).toBeLessThan(128 * 1024 * 1024);
    expect(Object.keys(counts).sort()).toEqual([...kinds].sort());
    for (const s of lingering) s.destroy();
  }, 60_000);

  // ——— 5. no open proxy ———

  it('given absolute-form URIs, CONNECT, spoofed Host / X-Forwarded-Host / Forwarded, //host paths and (double-)encoded traversal aimed at a second server, then nothing but the configured upstream base is ever reached', async () => {
    const evil = `127.0.0.1:${sentinel.port}`;
    const refusedTargets = [
      `GET http://${evil}/ HTTP/1.1`,
      `GET http://${evil}/rgs/x HTTP/1.1`,
      `GET https://${evil}/rgs/x HTTP/1.1`,
      `GET ws://${evil}/rgs/ws HTTP/1.1`,
      `GET //${evil}/rgs/x HTTP/1.1`,
      `GET ///${evil}/x HTTP/1.1`,
      `GET /rgs/../../x HTTP/1.1`,
      `GET /moltstation/../../x HTTP/1.1`,
      `GET /rgs/..%2f..%2f${evil} HTTP/1.1`,
      `GET /rgs/%2e%2e/%2e%2e/x HTTP/1.1`,
      `GET /rgs/%2E%2e%2f%2e%2E%2fx HTTP/1.1`,
      `GET /rgs/%c0%ae%c0%ae/x HTTP/1.1`,
      `GET /rgs/..%5c..%5cx HTTP/1.1`,
      `GET /rgs/%00/x HTTP/1.1`,
      `GET /rgs/x%ZZ HTTP/1.1`,
      `CONNECT ${evil} HTTP/1.1`,
      `CONNECT ${evil}:443 HTTP/1.1`,
      `OPTIONS * HTTP/1.1`,
      `GET ${evil} HTTP/1.1`,
      `GET @${evil}/rgs/x HTTP/1.1`,
    ];
    for (const line of refusedTargets) {
      const answer = await rawExchange(proxy.port, `${line}\r\nHost: ${evil}\r\nConnection: close\r\n\r\n`);
      expect([line, statusOf(answer) >= 400 && statusOf(answer) < 500]).toEqual([line, true]);
      if (!line.startsWith('CONNECT') && statusOf(answer) !== 400) expect([line, answer]).toEqual([line, expect.stringContaining('"error"')]);
      const wsAnswer = await rawExchange(proxy.port, `${line}\r\nHost: ${evil}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      expect([`ws ${line}`, statusOf(wsAnswer) >= 400 && statusOf(wsAnswer) < 500]).toEqual([`ws ${line}`, true]);
    }
    expect(up.seen).toEqual([]);
    expect(up.wsSeen).toEqual([]);
    // Origin-form targets that look like hosts stay under the base path, with the upstream's Host.
    const forwarded = [`/rgs/${evil}/x`, `/rgs/http://${evil}/x`, `/rgs/@${evil}`, `/rgs/%252e%252e/%252e%252e/x`, `/rgs/x?next=http://${evil}/&u=..%2f..%2f`, `/rgs/x#@${evil}`];
    for (const target of forwarded) {
      const answer = await rawExchange(
        proxy.port,
        `GET ${target} HTTP/1.1\r\nHost: ${evil}\r\nX-Forwarded-Host: ${evil}\r\nForwarded: host=${evil}\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n`,
      );
      expect([target, statusOf(answer)]).toEqual([target, 200]);
    }
    const upstreamHost = new URL(up.base).host;
    expect(up.seen.map((s) => s.url.startsWith('/base/'))).toEqual(forwarded.map(() => true));
    for (const s of up.seen) {
      const hosts = s.rawHeaders.filter((_, i) => i % 2 === 0 && s.rawHeaders[i]!.toLowerCase() === 'host').length;
      expect(hosts).toBe(1);
      expect(s.rawHeaders[s.rawHeaders.findIndex((h) => h.toLowerCase() === 'host') + 1]).toBe(upstreamHost);
    }
    // Two Host headers: refused by node's parser or forwarded with the upstream's Host only.
    const twoHosts = await rawExchange(proxy.port, `GET /rgs/two HTTP/1.1\r\nHost: ${evil}\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect([200, 400]).toContain(statusOf(twoHosts));
    // A spoofed Host on a WebSocket upgrade: the upstream sees its own host.
    const c = await RawWs.open(proxy.port, '/rgs/ws?via=spoof');
    c.socket.destroy();
    await waitFor('the upgrade at the upstream', () => up.wsSeen.length > 0);
    expect(up.wsSeen.map((w) => w.url)).toEqual(['/base/ws?via=spoof']);
    expect(sentinel.hits).toEqual([]);
  });

  it('given seeded random request targets (2000, hostile strings and mutations of traversal attempts), then each is refused 4xx or lands under the base path; the sentinel is never hit', async () => {
    const f = fuzz('proxy-targets-1');
    const evil = `127.0.0.1:${sentinel.port}`;
    const seeds = [`/rgs/../${evil}`, `//${evil}/rgs`, `/rgs/%2e%2e%2f`, `http://${evil}/rgs/x`, '/rgs/a/b?c=d', `/rgs/%5c..%5c`];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    let forwarded = 0;
    for (let i = 0; i < 2000; i++) {
      const c = f.fork(i);
      const target = c.bool(0.5) ? c.mutate(Buffer.from(c.pick(seeds)), 3).toString('latin1') : `/rgs/${c.hostileString()}`;
      const status = await new Promise<number>((resolve) => {
        let req: http.ClientRequest;
        try {
          req = http.request({ host: '127.0.0.1', port: proxy.port, path: target, agent, headers: { host: evil } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
        } catch {
          return resolve(-1); // node's client refuses to send it at all (e.g. a space or control char)
        }
        req.on('error', () => resolve(-2));
        req.end();
      });
      if (status === 200) forwarded++;
      else if (status > 0) expect([target, status >= 400 && status < 500]).toEqual([target, true]);
    }
    agent.destroy();
    expect(forwarded).toBeGreaterThan(0);
    expect(up.seen.every((s) => s.url.startsWith('/base/'))).toBe(true);
    expect(up.seen).toHaveLength(forwarded);
    expect(sentinel.hits).toEqual([]);
    await normalBotWorks();
  }, 60_000);
});
