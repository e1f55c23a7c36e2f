/**
 * Hostile WebSocket input through the proxy into the real recorder and event store (SpaceMolt simulator): given a
 * 100k-deep JSON message, a message of lone surrogates' escapes and a text frame of invalid UTF-8, then the stored
 * run holds the deep message byte for byte, the refusal as a 1007 close by the proxy with a note of why, the hash
 * chain verifies, and the recorder reports no failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Pool } from 'pg';
import { EventStore, StoredEvent, verifySession } from '@rewind/event-store';
import { startSimulator, RunningSimulator } from '@rewind/simulator';
import { createTestPool } from '@rewind/testing';
import { deepJsonArray, deepJsonObject } from '../../../testing/src/fuzz';
import { Ingest } from '../ingest';
import { startRecordingProxy } from '../proxy';
import type { RunningRecordingProxy } from '../proxy';
import { Redactor } from '../redaction';
import { Recorder } from './recorder';
import { readStreams } from './test-support/compare';

describe('Recorder: hostile WebSocket input is recorded, or refused and noted (real Postgres)', () => {
  let pool: Pool;
  let store: EventStore;
  let sim: RunningSimulator;
  let proxy: RunningRecordingProxy;
  let ingest: Ingest;
  let recorder: Recorder;
  let dir: string;
  const errors: string[] = [];

  beforeAll(async () => {
    pool = createTestPool(2);
    store = new EventStore(pool);
    dir = mkdtempSync(join(tmpdir(), 'rewind-hostile-'));
    const log = { info: () => undefined, warn: () => undefined, error: (m: string) => errors.push(m) };
    ingest = await Ingest.open({ store, journalDir: dir, log });
    recorder = new Recorder({ ingest, store, redactor: new Redactor(randomBytes(32)), log, sealAfterMs: 100, accountIdleMs: 100 });
    sim = await startSimulator({ port: 0, seed: 'hostile', platformOptions: { spacemolt: { tickMs: 50, maxPayload: 1024 * 1024 } } });
    proxy = await startRecordingProxy({ port: 0, upstreams: { spacemolt: sim.baseUrl('spacemolt') }, sink: recorder, maxWsMessageBytes: 1024 * 1024 });
  });
  afterAll(async () => {
    await proxy.close();
    await sim.close();
    recorder.close();
    await ingest.close();
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('given deep JSON then invalid UTF-8 on one SpaceMolt connection, then the deep messages are stored exactly, the 1007 refusal is stored with its note, and the chain verifies', async () => {
    const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/spacemolt/ws`);
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
    ws.send(deepA);
    ws.send(deepO);
    ws.send(escapes);
    await new Promise((r) => setTimeout(r, 300));
    ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
    expect((await closed).code).toBe(1007);

    const deadline = Date.now() + 10_000;
    while (recorder.stats().openStreams > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(recorder.stats()).toMatchObject({ openStreams: 0, failures: 0 });
    await ingest.waitUntilStored();
    const streams = await readStreams(store, recorder.openedStreams().map((s) => s.id));
    const events = [...streams.values()].find((evs) => evs.some((e) => e.body === escapes)) as StoredEvent[];
    expect(events).toBeDefined();
    const fromClient = events.filter((e) => e.direction === 'client_to_platform' && e.kind !== 'lifecycle').map((e) => e.body);
    // byte for byte (compared by identity: a failing diff of 200 KB of brackets helps nobody)
    expect(fromClient.map((b) => (b === deepA ? 'deepA' : b === deepO ? 'deepO' : b === escapes ? 'escapes' : `other ${String(b).slice(0, 40)}`))).toEqual(['deepA', 'deepO', 'escapes']);
    const close = events.find((e) => e.msgType === 'ws-close');
    expect(JSON.parse(close!.meta!)).toMatchObject({ code: 1007, initiator: 'proxy' });
    expect(events.some((e) => typeof e.body === 'string' && /WS_ERR_INVALID_UTF8.*1007/.test(e.body))).toBe(true);
    for (const id of streams.keys()) expect((await verifySession(store, id))?.ok).toBe(true);
    expect(errors).toEqual([]);
    // the platform survived it too: it answered the deep messages (whatever it said) and still serves
    expect(received.length).toBeGreaterThan(0);
  }, 60_000);
});
