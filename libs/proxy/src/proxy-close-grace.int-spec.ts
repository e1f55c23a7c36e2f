/**
 * After the proxy relays one side's close, it gives the other side's leg CLOSE_GRACE_MS (5 s) to answer, then cuts
 * it. Under overload (the 400-session soak: event loops 7 s late) the bytes that side sent before it saw the close
 * (an agent's last inputs, crossing the platform's GAME_OVER) were still unread in the socket when the loop came
 * back, and the grace timer, run in the timers phase, destroyed the socket before the poll phase read them: the
 * inputs were in no stored stream. The cut now waits for that turn's I/O.
 */
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { waitFor } from '@rewind/testing';
import { startRecordingProxy } from './server';
import { answerUpgradeByHand, RecordingSink } from './test-helpers';
import type { RunningRecordingProxy } from './types';
import { closePayload, encodeFrame } from './ws-frame-parser';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

describe('recording proxy: the close grace of a leg', () => {
  let server: net.Server;
  const upSockets: net.Socket[] = [];
  let proxy: RunningRecordingProxy;
  let sink: RecordingSink;

  beforeAll(async () => {
    // A raw WebSocket upstream: the handshake by hand, then nothing but what the test writes.
    server = net.createServer((s) =>
      answerUpgradeByHand(s, () => {
        s.resume();
        upSockets.push(s);
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    sink = new RecordingSink();
    proxy = await startRecordingProxy({ port: 0, upstreams: { rgs: `http://127.0.0.1:${(server.address() as AddressInfo).port}/base` }, sink });
  });
  afterAll(async () => {
    await proxy.close();
    for (const s of upSockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("what the client sent before it saw the platform's close, still unread when the loop comes back after the grace, is read and recorded (undelivered) before the leg is cut", async () => {
    const client = net.connect(proxy.port, '127.0.0.1');
    client.on('error', () => undefined);
    const got: Buffer[] = [];
    client.on('data', (c: Buffer) => got.push(c));
    await new Promise<void>((r) => client.once('connect', () => r()));
    client.write(`GET /rgs/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await waitFor('the upstream leg', () => upSockets.length === 1, { intervalMs: 5 });
    await waitFor('the 101 at the client', () => Buffer.concat(got).includes('\r\n\r\n'), { intervalMs: 5 });

    // The platform ends the run; the proxy relays its close to the client and starts the client leg's grace.
    upSockets[0]!.write(encodeFrame(0x8, closePayload(1000, Buffer.from('GAME_OVER')), false));
    await waitFor('the close at the client', () => Buffer.concat(got).includes(Buffer.from('GAME_OVER')), { intervalMs: 5 });
    // The agent's input, sent before it read that close; then this process (the proxy's loop) stalls past the grace.
    client.write(encodeFrame(0x1, Buffer.from('{"t":"action","action":"FLAP"}'), true, randomBytes(4)));
    const until = Date.now() + 5_300;
    while (Date.now() < until) {
      // a stalled event loop
    }

    await waitFor('the input recorded', () => sink.of('ws-message').some((m) => m.direction === 'client_to_platform'), { timeoutMs: 3000 });
    expect(sink.of('ws-message').filter((m) => m.direction === 'client_to_platform')).toEqual([expect.objectContaining({ data: '{"t":"action","action":"FLAP"}', undelivered: true })]);
    // The close said the client's leg was still read (draining): the recorder holds the run's seal for that input.
    expect(sink.of('ws-close')).toEqual([expect.objectContaining({ initiator: 'platform', code: 1000, reason: 'GAME_OVER', draining: true })]);
    // The leg is still cut: the client's connection ends without its close answer.
    await waitFor('the client leg cut', () => client.destroyed || client.readableEnded, { timeoutMs: 3000 });
    client.destroy();
    // Both legs done: the sink is told once, after every fact of the socket (the late input included).
    await waitFor('the socket released', () => sink.releases.length > 0, { timeoutMs: 3000 });
    const id = sink.of('ws-close')[0]!.connectionId;
    expect(sink.releases).toEqual([{ connectionId: id, afterFacts: sink.facts.length }]);
    expect(sink.facts.filter((f) => f.connectionId === id).map((f) => f.type)).toEqual(['ws-open', 'ws-close', 'ws-message']);
  }, 20_000);
});
