/**
 * Hostile WebSocket input through the proxy into the real recorder and event store (SpaceMolt simulator): given a
 * 100k-deep JSON message, a message of lone surrogates' escapes and a text frame of invalid UTF-8, then the stored
 * run holds the deep message byte for byte, the refusal as a 1007 close by the proxy with a note of why, the hash
 * chain verifies, and the recorder reports no failure.
 */
import WebSocket from 'ws';
import type { StoredEvent } from '@rewind/event-store';
import { deepJsonArray, deepJsonObject } from '@rewind/fuzz';
import { waitFor } from '@rewind/testing';
import { RecorderStack, startRecorderStack } from './test-support/stack';

describe('Recorder: hostile WebSocket input is recorded, or refused and noted (real Postgres)', () => {
  let stack: RecorderStack;
  beforeAll(async () => {
    stack = await startRecorderStack({
      seed: 'hostile',
      platforms: ['spacemolt'],
      simulator: { spacemolt: { tickMs: 50, maxPayload: 1024 * 1024 } },
      proxy: { maxWsMessageBytes: 1024 * 1024 },
    });
  });
  afterAll(() => stack.close());

  it('given deep JSON then invalid UTF-8 on one SpaceMolt connection, then the deep messages are stored exactly, the 1007 refusal is stored with its note, and the chain verifies', async () => {
    const ws = new WebSocket(`${stack.proxy.url.replace('http', 'ws')}/spacemolt/ws`);
    const received: string[] = [];
    ws.on('message', (d) => received.push(d.toString()));
    const closed = new Promise<{ code: number }>((r) => ws.on('close', (code) => r({ code })));
    ws.on('error', () => undefined);
    await new Promise<void>((r, j) => {
      ws.once('open', () => r());
      ws.once('error', j);
    });
    const deepA = deepJsonArray(100_000);
    const deepO = `{"type":"chat","payload":${deepJsonObject(50_000)}}`;
    const escapes = '{"type":"chat","payload":{"message":"\\ud800\\udfff\\u0000\\\\"}}';
    const answeredBefore = received.length;
    ws.send(deepA);
    ws.send(deepO);
    ws.send(escapes);
    // The platform answers each of them (whatever it says) before the invalid frame ends the connection.
    await waitFor('the platform to answer the three messages', () => received.length, { until: (n) => n >= answeredBefore + 3 });
    ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
    expect((await closed).code).toBe(1007);

    const streams = await stack.settle(); // also: no failure, every chain verifies, no error logged
    const events = [...streams.values()].find((evs) => evs.some((e) => e.body === escapes)) as StoredEvent[];
    expect(events).toBeDefined();
    const fromClient = events.filter((e) => e.direction === 'client_to_platform' && e.kind !== 'lifecycle').map((e) => e.body);
    // byte for byte (compared by identity: a failing diff of 200 KB of brackets helps nobody)
    expect(fromClient.map((b) => (b === deepA ? 'deepA' : b === deepO ? 'deepO' : b === escapes ? 'escapes' : `other ${String(b).slice(0, 40)}`))).toEqual(['deepA', 'deepO', 'escapes']);
    const close = events.find((e) => e.msgType === 'ws-close');
    expect(JSON.parse(close!.meta!)).toMatchObject({ code: 1007, initiator: 'proxy' });
    expect(events.some((e) => typeof e.body === 'string' && /WS_ERR_INVALID_UTF8.*1007/.test(e.body))).toBe(true);
    // the platform survived it too: it answered the deep messages (whatever it said) and still serves
    expect(received.length).toBeGreaterThan(0);
  }, 60_000);
});
