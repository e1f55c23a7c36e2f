/**
 * The WebSocket message phase is a byte relay: what one side writes reaches the other byte for byte (client frames
 * keep their masks, fragmentation and control frames in between), each message is recorded before the bytes that
 * complete it are written on, a slow reader pauses the side that feeds it, and the proxy's own close frames towards
 * the upstream are masked (it is the upstream's client). Over real sockets, with a raw upstream and a raw client.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket, { WebSocketServer } from 'ws';
import { waitFor } from '@rewind/testing';
import { startRecordingProxy } from './server';
import { answerUpgradeByHand, RecordingSink, wsAccept } from './test-helpers';
import type { RunningRecordingProxy } from './types';
import type { CaptureSink, CapturedFact } from '@rewind/capture-facts';
import { closePayload, encodeFrame } from './ws-frame-parser';

const TEXT = 0x1;
const BINARY = 0x2;
const CONT = 0x0;
const CLOSE = 0x8;
const PING = 0x9;
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** Client frames (masked with a random key) and server frames (unmasked). */
const cf = (opcode: number, payload: Buffer | string, fin = true): Buffer => withFin(encodeFrame(opcode, Buffer.from(payload), true, randomBytes(4)), fin);
const sf = (opcode: number, payload: Buffer | string, fin = true): Buffer => withFin(encodeFrame(opcode, Buffer.from(payload), false), fin);
function withFin(f: Buffer, fin: boolean): Buffer {
  if (!fin) f[0] = (f[0] as number) & 0x7f;
  return f;
}

/** First frame in `buf`: opcode, masked bit, unmasked payload. */
function firstFrame(buf: Buffer): { opcode: number; masked: boolean; payload: Buffer } | undefined {
  if (buf.length < 2) return undefined;
  const masked = ((buf[1] as number) & 0x80) !== 0;
  let len = (buf[1] as number) & 0x7f;
  let at = 2;
  if (len === 126) {
    len = buf.readUInt16BE(2);
    at = 4;
  }
  const key = masked ? buf.subarray(at, at + 4) : undefined;
  if (masked) at += 4;
  if (buf.length < at + len) return undefined;
  const payload = Buffer.from(buf.subarray(at, at + len));
  if (key) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (key[i & 3] as number);
  return { opcode: (buf[0] as number) & 0x0f, masked, payload };
}

/** A raw WebSocket upstream: answers the handshake by hand, then keeps every byte it gets (after the request head). */
class RawUpstream {
  readonly sockets: net.Socket[] = [];
  readonly received: Buffer[][] = [];
  private constructor(
    readonly server: net.Server,
    readonly port: number,
  ) {}
  static async start(): Promise<RawUpstream> {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const up = new RawUpstream(server, (server.address() as AddressInfo).port);
    server.on('connection', (s) =>
      answerUpgradeByHand(s, (rest) => {
        const got: Buffer[] = rest.length > 0 ? [rest] : [];
        s.on('data', (d: Buffer) => got.push(d));
        up.sockets.push(s);
        up.received.push(got);
      }),
    );
    return up;
  }
  bytes(i = 0): Buffer {
    return Buffer.concat(this.received[i] ?? []);
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A raw client: the upgrade by hand, then every byte after the 101. */
async function rawClient(port: number, path: string): Promise<{ socket: net.Socket; bytes: () => Buffer }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const all = (): Buffer => Buffer.concat(chunks);
  await waitFor('the 101', () => all().includes('\r\n\r\n'), { intervalMs: 5 });
  expect(all().toString('latin1')).toMatch(new RegExp(`^HTTP/1.1 101 [^]*Sec-WebSocket-Accept: ${wsAccept(KEY).replace(/[+/]/g, '\\$&')}\r\n`));
  return {
    socket,
    bytes: () => {
      const b = all();
      return b.subarray(b.indexOf('\r\n\r\n') + 4);
    },
  };
}

describe('recording proxy: WebSocket byte relay', () => {
  let up: RawUpstream;
  let proxy: RunningRecordingProxy;
  let sink: RecordingSink;
  beforeEach(async () => {
    up = await RawUpstream.start();
    sink = new RecordingSink();
    proxy = await startRecordingProxy({ port: 0, upstreams: { rgs: `http://127.0.0.1:${up.port}/base` }, sink });
  });
  afterEach(async () => {
    await proxy.close();
    await up.close();
  });

  it('client frames reach the upstream byte for byte (same masks, fragments and pings between), server frames reach the client byte for byte; each message is recorded once, unmasked', async () => {
    const c = await rawClient(proxy.port, '/rgs/ws');
    await waitFor('the upstream leg', () => up.sockets.length === 1);
    const big = randomBytes(70_000);
    const fromClient = Buffer.concat([cf(TEXT, 'frag ', false), cf(PING, 'between'), cf(CONT, 'ment ✓'), cf(BINARY, big), cf(TEXT, '')]);
    // Written in odd pieces (headers cut too): what the upstream gets is still the same bytes.
    for (let at = 0; at < fromClient.length; at += 997) c.socket.write(fromClient.subarray(at, at + 997));
    const fromServer = Buffer.concat([sf(TEXT, '{"t":"hello"}'), sf(BINARY, big.subarray(0, 300)), sf(PING, 'up?'), sf(TEXT, 'tail', false), sf(CONT, ' end')]);
    up.sockets[0]!.write(fromServer.subarray(0, 5));
    up.sockets[0]!.write(fromServer.subarray(5));
    await waitFor('all bytes at the upstream and at the client', () => up.bytes().length >= fromClient.length && c.bytes().length >= fromServer.length);
    expect(up.bytes().equals(fromClient)).toBe(true);
    expect(c.bytes().equals(fromServer)).toBe(true);
    const msgs = sink.of('ws-message').map((m) => [m.direction, m.binary, m.binary ? (m.data as Buffer).length : m.data, m.undelivered ?? false]);
    expect(msgs.filter((m) => m[0] === 'client_to_platform')).toEqual([
      ['client_to_platform', false, 'frag ment ✓', false],
      ['client_to_platform', true, big.length, false],
      ['client_to_platform', false, '', false],
    ]);
    expect(msgs.filter((m) => m[0] === 'platform_to_client')).toEqual([
      ['platform_to_client', false, '{"t":"hello"}', false],
      ['platform_to_client', true, 300, false],
      ['platform_to_client', false, 'tail end', false],
    ]);
    expect((sink.of('ws-message').find((m) => m.binary && m.direction === 'client_to_platform')!.data as Buffer).equals(big)).toBe(true);
    c.socket.destroy();
  });

  it('the proxy closes the upstream with a masked close frame (it is its client) and the client with an unmasked one, e.g. after a masked frame from the upstream (1002)', async () => {
    const c = await rawClient(proxy.port, '/rgs/ws');
    await waitFor('the upstream leg', () => up.sockets.length === 1);
    up.sockets[0]!.write(cf(TEXT, 'a server must not mask'));
    await waitFor('the close at both ends', () => firstFrame(c.bytes()) !== undefined && firstFrame(up.bytes()) !== undefined);
    expect(firstFrame(c.bytes())).toMatchObject({ opcode: CLOSE, masked: false, payload: closePayload(1002, Buffer.alloc(0)) });
    expect(firstFrame(up.bytes())).toMatchObject({ opcode: CLOSE, masked: true, payload: closePayload(1002, Buffer.alloc(0)) });
    await waitFor('the close recorded', () => sink.of('ws-close').length > 0);
    expect(sink.of('proxy-error')[0]).toMatchObject({ stage: 'upstream', message: expect.stringContaining('WS_ERR_UNEXPECTED_MASK') });
    expect(sink.of('ws-close')).toEqual([expect.objectContaining({ initiator: 'proxy', code: 1002 })]);
    expect(sink.of('ws-message')).toEqual([]);
    c.socket.destroy();
  });

  it('a close frame with a code no endpoint may send (1006) is refused 1002 both ways; a valid one is relayed with its code and reason', async () => {
    const bad = await rawClient(proxy.port, '/rgs/ws');
    await waitFor('the upstream leg', () => up.sockets.length === 1);
    bad.socket.write(cf(CLOSE, closePayload(1006, Buffer.from('no'))));
    await waitFor('the close at the upstream', () => firstFrame(up.bytes(0)) !== undefined);
    expect(firstFrame(up.bytes(0))).toMatchObject({ opcode: CLOSE, payload: closePayload(1002, Buffer.alloc(0)) });
    bad.socket.destroy();
    const good = await rawClient(proxy.port, '/rgs/ws');
    await waitFor('the second upstream leg', () => up.sockets.length === 2);
    good.socket.write(cf(CLOSE, closePayload(4000, Buffer.from('done ✓'))));
    await waitFor('the close at the upstream', () => firstFrame(up.bytes(1)) !== undefined);
    expect(firstFrame(up.bytes(1))).toMatchObject({ opcode: CLOSE, masked: true, payload: closePayload(4000, Buffer.from('done ✓')) });
    // The upstream answers: its close reaches the client, and the proxy ends the client's connection.
    up.sockets[1]!.end(sf(CLOSE, closePayload(4000, Buffer.from('done ✓'))));
    await waitFor('the answer at the client', () => firstFrame(good.bytes()) !== undefined && good.socket.readableEnded);
    expect(firstFrame(good.bytes())).toMatchObject({ opcode: CLOSE, masked: false, payload: closePayload(4000, Buffer.from('done ✓')) });
    await waitFor('both closes recorded', () => sink.of('ws-close').length === 2);
    expect(sink.of('ws-close')).toEqual([expect.objectContaining({ initiator: 'proxy', code: 1002 }), expect.objectContaining({ initiator: 'client', code: 4000, reason: 'done ✓' })]);
    good.socket.destroy();
  });

  it('an upstream that stops reading pauses the client side (bounded buffering in the proxy); once it reads again everything arrives, each message recorded', async () => {
    const c = await rawClient(proxy.port, '/rgs/ws');
    await waitFor('the upstream leg', () => up.sockets.length === 1);
    up.sockets[0]!.pause();
    const frames = Array.from({ length: 64 }, (_, i) => cf(BINARY, Buffer.alloc(1024 * 1024, i)));
    const total = frames.reduce((n, f) => n + f.length, 0);
    for (const f of frames) c.socket.write(f);
    // The flow stalls with most of it still unread at the client: the proxy stopped reading once its queue towards the
    // upstream passed the 4 MiB high-water mark (kernel buffers hold a few more). Without the pause it reads all 64.
    let last = -1;
    await waitFor(
      'the flow to stall',
      () => {
        const now = sink.of('ws-message').length;
        const stalled = now === last && now > 0;
        last = now;
        return stalled;
      },
      { intervalMs: 500 },
    );
    expect(sink.of('ws-message').length).toBeLessThan(32);
    up.sockets[0]!.resume();
    await waitFor('everything at the upstream', () => up.bytes().length >= total, { timeoutMs: 60_000 });
    expect(up.bytes().equals(Buffer.concat(frames))).toBe(true);
    await waitFor('every message recorded', () => sink.of('ws-message').length === 64);
    expect(sink.of('ws-message').map((m) => (m.data as Buffer)[0])).toEqual(frames.map((_, i) => i));
    c.socket.destroy();
  });
});

/**
 * An echoing upstream behind a proxy with `sink`; `sends` writes the client's 50 messages. For each message that
 * reaches a side, `countAt(direction)` is noted then: how many of that direction the sink had recorded (or logged).
 */
async function echoThroughProxy(sink: CaptureSink, countAt: (direction: string) => number, sends: (ws: WebSocket) => void, after?: () => void): Promise<{ upstream: number[]; client: number[] }> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  const seen: { upstream: number[]; client: number[] } = { upstream: [], client: [] };
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => {
      seen.upstream.push(countAt('client_to_platform'));
      ws.send(data);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const proxy = await startRecordingProxy({ port: 0, upstreams: { rgs: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, sink });
  try {
    const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/rgs/ws`);
    ws.on('message', () => seen.client.push(countAt('platform_to_client')));
    await new Promise<void>((r) => ws.once('open', () => r()));
    sends(ws);
    await waitFor('the 50 echoes', () => seen.client.length === 50);
    after?.();
    ws.close(1000);
    await waitFor('the close recorded', () => countAt('close') > 0);
  } finally {
    await proxy.close();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
  return seen;
}

describe('recording proxy: recorded before relayed', () => {
  it('each message is in the sink before the other side has it, both ways', async () => {
    const sink = new RecordingSink();
    const count = (direction: string): number => (direction === 'close' ? sink.of('ws-close').length : sink.of('ws-message').filter((m) => m.direction === direction).length);
    const seen = await echoThroughProxy(sink, count, (ws) => {
      for (let i = 0; i < 50; i++) ws.send(i % 2 ? randomBytes(2000) : `message ${i}`);
    });
    // The n-th message (from 1) was recorded when it arrived: at least n recorded by then.
    expect(seen.upstream.every((n, i) => n >= i + 1)).toBe(true);
    expect(seen.client.every((n, i) => n >= i + 1)).toBe(true);
  });

  it('with a sink that logs ahead a turn at a time (flush), the other side gets a message only once it is logged: one log write per turn, not per message', async () => {
    // The write-ahead log's shape: captured messages wait in the turn's pending lines until flush() writes them.
    const pending: CapturedFact[] = [];
    const logged: CapturedFact[] = [];
    let flushesWithLines = 0;
    const sink: CaptureSink = {
      capture: (fact) => void pending.push(fact),
      flush: () => {
        if (pending.length > 0) flushesWithLines++;
        logged.push(...pending.splice(0));
      },
    };
    const loggedOf = (direction: string): number =>
      direction === 'close' ? logged.filter((f) => f.type === 'ws-close').length : logged.filter((f) => f.type === 'ws-message' && f.direction === direction).length;
    let flushesAt50 = 0;
    const seen = await echoThroughProxy(
      sink,
      loggedOf,
      // Bursts of 10 in one write each: the proxy reads several messages in one turn.
      (ws) => {
        for (let b = 0; b < 5; b++) for (let i = 0; i < 10; i++) ws.send(`message ${b}.${i}`);
      },
      () => (flushesAt50 = flushesWithLines),
    );
    expect(seen.upstream.every((n, i) => n >= i + 1)).toBe(true);
    expect(seen.client.every((n, i) => n >= i + 1)).toBe(true);
    // Fewer log writes than messages (100 relayed, both ways): the turn's messages share one.
    expect(flushesAt50).toBeLessThan(100);
  });
});

describe("node's socket reads (the zero-copy record of server payloads relies on them)", () => {
  it('each read arrives in a buffer of its own that later reads never overwrite', async () => {
    const reads: Buffer[] = [];
    const server = net.createServer((s) => s.on('data', (c: Buffer) => reads.push(c)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    try {
      await new Promise<void>((r) => client.once('connect', () => r()));
      for (let i = 0; i < 8; i++) {
        client.write(Buffer.alloc(800, i));
        await waitFor(`read ${i}`, () => reads.reduce((n, c) => n + c.length, 0) === (i + 1) * 800, { intervalMs: 5 });
      }
      expect(new Set(reads.map((c) => c.buffer)).size).toBe(reads.length);
      expect(Buffer.concat(reads).equals(Buffer.concat(Array.from({ length: 8 }, (_, i) => Buffer.alloc(800, i))))).toBe(true);
    } finally {
      client.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
