/**
 * A keep-alive connection reused by the client as the proxy's idle timeout falls due, while the proxy's event loop is
 * late (a recorder under overload: loops seconds late). node's server closes an idle connection from a timer, and the
 * timers run before the turn's I/O: the client's request, already in the socket, was never read, the close reset the
 * connection, the client saw ECONNRESET and nothing was recorded (reliability open problem 10). Real proxy, real
 * upstream, a raw client; the stall is this process's own loop blocked while the request sits unread in the socket.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import { waitFor } from '@rewind/testing';
import { FakeUpstream, startFakeUpstream } from './fake-upstream';
import { startRecordingProxy } from './server';
import { RecordingSink } from './test-helpers';
import type { RunningRecordingProxy } from './types';

/** node closes an idle keep-alive connection this long after the advertised timeout (HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER). */
const NODE_KEEP_ALIVE_BUFFER_MS = 1000;
const KEEP_ALIVE_MS = 200;

/** Blocks this process's event loop (the proxy's, here) for `ms`: what a recorder seconds behind does to its sockets. */
function stallLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: no timer, no I/O runs
  }
}

/** A raw client connection: what it received, whether the proxy reset or closed it. */
function connect(port: number): Promise<{ socket: net.Socket; received: () => string; ended: () => string | undefined }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let end: string | undefined;
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e: Error & { code?: string }) => (end = e.code ?? e.message));
    socket.on('close', () => (end ??= 'closed'));
    socket.once('connect', () => resolve({ socket, received: () => Buffer.concat(chunks).toString('latin1'), ended: () => end }));
    socket.once('error', reject);
  });
}

const post = (body: string): string => `POST /rgs/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
const answers = (text: string): number => text.split('HTTP/1.1 200 OK').length - 1;

describe('recording proxy: keep-alive reuse as the idle timeout falls due', () => {
  let up: FakeUpstream;
  let proxy: RunningRecordingProxy;
  let sink: RecordingSink;
  beforeAll(async () => {
    up = await startFakeUpstream();
  });
  beforeEach(async () => {
    sink = new RecordingSink();
    proxy = await startRecordingProxy({ port: 0, upstreams: { rgs: up.base }, sink, keepAliveTimeoutMs: KEEP_ALIVE_MS });
  });
  afterEach(() => proxy.close());
  afterAll(() => up.close());

  it('a request already in the socket when the idle close falls due (the loop late) is served and recorded, not reset', async () => {
    const c = await connect(proxy.port);
    c.socket.write(post('first'));
    await waitFor('the first answer', () => answers(c.received()) === 1 && c.received().endsWith('}'));
    // The client reuses the connection (it is within the advertised timeout); the proxy's loop then stalls past its
    // idle close with the request unread: the next turn runs the close's timer before it reads the socket.
    c.socket.write(post('second'));
    stallLoop(KEEP_ALIVE_MS + NODE_KEEP_ALIVE_BUFFER_MS + 300);
    await waitFor('the second answer, or the connection reset', () => answers(c.received()) === 2 || c.ended() !== undefined);
    expect({ answers: answers(c.received()), ended: c.ended() }).toEqual({ answers: 2, ended: undefined });
    await waitFor('both exchanges recorded', () => sink.of('http-response').length === 2);
    expect(sink.of('http-request').map((f) => f.body.toString())).toEqual(['first', 'second']);
    expect(sink.of('http-response').map((f) => f.status)).toEqual([200, 200]);
    expect(sink.of('proxy-error')).toEqual([]);
    // Still an idle timeout: left alone, the connection is closed once it has been idle long enough.
    await waitFor('the idle connection closed by the proxy', () => c.ended() !== undefined, { timeoutMs: 10_000 });
    expect(c.ended()).toBe('closed');
    expect(answers(c.received())).toBe(2);
  });

  it('an idle connection nobody reuses is closed after the timeout (and its close does not wait for ever)', async () => {
    const c = await connect(proxy.port);
    c.socket.write(post('only'));
    await waitFor('the answer', () => answers(c.received()) === 1 && c.received().endsWith('}'));
    const answeredAt = performance.now();
    await waitFor('the idle connection closed by the proxy', () => c.ended() !== undefined, { timeoutMs: 10_000 });
    expect(c.ended()).toBe('closed');
    expect(performance.now() - answeredAt).toBeGreaterThanOrEqual(KEEP_ALIVE_MS);
    expect(sink.of('http-response')).toHaveLength(1);
  });
});

describe('recording proxy: a refusal (admission) the client did not stay for', () => {
  let up: FakeUpstream;
  let proxy: RunningRecordingProxy;
  beforeAll(async () => {
    up = await startFakeUpstream();
  });
  afterEach(() => proxy.close());
  afterAll(() => up.close());

  it('is recorded with the request as the client going away, not as the 503 it never got', async () => {
    const sink = new RecordingSink();
    const lines: string[] = [];
    proxy = await startRecordingProxy({ port: 0, upstreams: { rgs: up.base }, sink, log: (l) => lines.push(l), admit: () => ({ ok: false, reason: 'ingest_lag', retryAfterS: 5 }) });
    const c = await connect(proxy.port);
    c.socket.write('POST /rgs/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly-a-bit');
    await waitFor('the refusal decided', () => lines.some((l) => l.includes('503 capture_overloaded')));
    c.socket.destroy();
    await waitFor('the exchange recorded', () => sink.of('proxy-error').length > 0);
    expect(sink.of('http-request').map((f) => f.body.toString())).toEqual(['only-a-bit']);
    expect(sink.of('proxy-error')).toEqual([expect.objectContaining({ stage: 'client', message: expect.stringContaining('client went away before the response') })]);
    expect(sink.of('proxy-error')[0]).not.toHaveProperty('answer');
    expect(c.received()).toBe('');
    expect(up.seen).toEqual([]);
  });
});

/**
 * The platform leg: the proxy reuses its idle connection to the platform as the platform closes it, while the proxy's
 * loop is late. The platform runs in a child process (its idle close must not wait for this process's loop): node's
 * default server, closing a connection idle for 6 s (`keepAliveTimeout` 5 s, advertised as `timeout=5`).
 */
describe('recording proxy: its idle connection to the platform as the platform closes it', () => {
  let platform: ChildProcess;
  let platformUrl: string;
  let proxy: RunningRecordingProxy;
  let sink: RecordingSink;
  beforeAll(async () => {
    const script =
      "const http = require('node:http');" +
      "const s = http.createServer((q, r) => { q.resume(); q.on('end', () => r.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' }).end('ok')); });" +
      "s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));";
    platform = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<string>((resolve) => platform.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
    platformUrl = `http://127.0.0.1:${port}/base`;
  });
  beforeEach(async () => {
    sink = new RecordingSink();
    proxy = await startRecordingProxy({ port: 0, upstreams: { rgs: platformUrl }, sink });
  });
  afterEach(() => proxy.close());
  afterAll(() => void platform.kill());

  it("a request taken up with the platform's close unread goes out on a new connection, not the closed one (no 502)", async () => {
    const c = await connect(proxy.port);
    c.socket.write(post('first'));
    await waitFor('the first answer', () => c.received().endsWith('ok'));
    // The next request is in the proxy's socket before its loop stalls past the platform's idle close (6 s): after the
    // stall, the turn reads that request and the platform's FIN together.
    c.socket.write(post('second'));
    stallLoop(6_000 + 500);
    await waitFor('the second answer', () => answers(c.received()) + c.received().split('HTTP/1.1 502').length - 1 === 2 || c.ended() !== undefined);
    expect(c.received()).not.toContain('upstream_unreachable');
    expect(answers(c.received())).toBe(2);
    await waitFor('both exchanges recorded', () => sink.of('http-response').length === 2);
    expect(sink.of('http-response').map((f) => f.status)).toEqual([200, 200]);
    expect(sink.of('proxy-error')).toEqual([]);
  }, 30_000);
});
