import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Pool } from 'pg';
import type { EventStore, StoredEvent } from '@rewind/event-store';
import { Ingest } from '@rewind/ingest';
import type { RunningRecordingProxy } from '@rewind/proxy';
import type { RunningSimulator } from '@rewind/simulator';
import type { Recorder } from './recorder';
import { waitFor } from '@rewind/testing';
import { RecorderStack, startRecorderStack } from './test-support/stack';

/** A WebSocket client that keeps every raw text frame and the close. */
class Client {
  readonly received: string[] = [];
  closed: { code: number; reason: string } | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d, binary) => this.received.push(binary ? `<binary ${(d as Buffer).length}>` : d.toString()));
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  }
  static open(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const c = new Client(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }
  async waitFor(pred: (text: string) => boolean, what: string, timeoutMs?: number): Promise<string> {
    return waitFor(`${what} (got ${this.received.slice(-3).join(' | ')})`, () => this.received.find(pred), { timeoutMs, intervalMs: 10 });
  }
  async waitClose(timeoutMs?: number): Promise<{ code: number; reason: string }> {
    return waitFor('the close', () => this.closed, { timeoutMs, intervalMs: 10 });
  }
}

/** A MoltStation spectate task of a Flappy Bots session and the identity of its stream, as the scheduler offers it. */
function flappySpectateTask(platformSessionId: string) {
  const offer = {
    id: `moltstation.moltstation-spectate.session.${platformSessionId}`,
    kind: 'moltstation-spectate' as const,
    platform: 'moltstation' as const,
    runKey: `session:${platformSessionId}`,
    platformSessionId,
    params: { slug: 'flappybots' },
  };
  return { offer, identity: { key: `task:${offer.id}`, platformSessionId, game: 'flappybots' } };
}

describe('Recorder: closes, replacements and bad input are forwarded as the platform answers them, and recorded', () => {
  let stack: RecorderStack;
  let pool: Pool;
  let store: EventStore;
  let proxy: RunningRecordingProxy;
  let ingest: Ingest;
  let recorder: Recorder;
  let sim: RunningSimulator;
  let errors: string[];

  beforeEach(async () => {
    stack = await startRecorderStack({
      seed: 'edges',
      platforms: ['spacemolt', 'moltstation', 'cloudplay'],
      simulator: { spacemolt: { tickMs: 50 } },
      proxy: { maxWsMessageBytes: 8192, maxHttpBodyBytes: 256 },
    });
    ({ pool, store, proxy, ingest, recorder, sim, errors } = stack);
  });
  afterEach(() => stack.close());

  const settle = (open = 0): Promise<Map<string, StoredEvent[]>> => stack.settle(open);

  const closeOf = (events: StoredEvent[]) => JSON.parse(events.find((e) => e.msgType === 'ws-close')!.meta!) as { code: number; reason: string; initiator: string };
  const outcomeOf = (events: StoredEvent[]) => JSON.parse(events.find((e) => e.kind === 'outcome')!.body as string) as Record<string, unknown>;

  async function register(username: string): Promise<Client> {
    const c = await Client.open(`${proxy.url.replace('http', 'ws')}/spacemolt/ws`);
    await c.waitFor((t) => t.includes('"welcome"'), 'welcome');
    c.ws.send(JSON.stringify({ type: 'register', payload: { username, empire: 'solarian', registration_code: 'edge-code-123' }, request_id: 'r1' }));
    await c.waitFor((t) => t.includes('"logged_in"'), 'logged_in');
    return c;
  }

  it("MoltStation: an agent's input that crossed the platform's GAME_OVER close joins its run (after the close, marked undelivered), no stream of its own", async () => {
    const at = (ms: number) => ({ atNs: BigInt(Date.now() + ms) * 1_000_000n, wallUs: (Date.now() + ms) * 1000 });
    const base = { platform: 'moltstation' as const, connectionId: 'ws-late-1' };
    recorder.capture({ ...base, ...at(0), type: 'ws-open', path: '/ws/flappybots/play?sessionId=ms_latecrossing00000001', headers: [] });
    recorder.capture({ ...base, ...at(1), type: 'ws-message', direction: 'platform_to_client', data: '{"t":"frame","frame":{"tick":7,"phase":"over","score":2}}', binary: false });
    recorder.capture({ ...base, ...at(2), type: 'ws-close', initiator: 'platform', code: 1000, reason: 'GAME_OVER' });
    recorder.capture({ ...base, ...at(3), type: 'ws-message', direction: 'client_to_platform', data: '{"t":"action","action":"FLAP"}', binary: false, undelivered: true });
    const streams = await settle();
    expect(recorder.openedStreams().map((s) => s.key)).toEqual(['session:ms_latecrossing00000001']);
    const events = [...streams.values()][0] as StoredEvent[];
    expect(events.map((e) => e.msgType ?? e.kind)).toEqual(['ws-open', 'frame', 'ws-close', 'outcome', 'action']);
    expect(events.at(-1)).toMatchObject({ direction: 'client_to_platform', meta: JSON.stringify({ undelivered: true }) });
  });

  it("MoltStation: an input the proxy reads later than the seal delay after the platform's close (its loop stalled) still joins its run while the socket is draining; the release lets the run seal", async () => {
    const at = () => ({ atNs: process.hrtime.bigint(), wallUs: Date.now() * 1000 });
    const base = { platform: 'moltstation' as const, connectionId: 'ws-late-2' };
    recorder.capture({ ...base, ...at(), type: 'ws-open', path: '/ws/flappybots/play?sessionId=ms_latedraining0000001', headers: [] });
    recorder.capture({ ...base, ...at(), type: 'ws-message', direction: 'platform_to_client', data: '{"t":"frame","frame":{"tick":7,"phase":"over","score":2}}', binary: false });
    // The proxy relayed the close with the agent's leg still open: it may still read that leg.
    recorder.capture({ ...base, ...at(), type: 'ws-close', initiator: 'platform', code: 1000, reason: 'GAME_OVER', draining: true });
    const closedAt = Date.now();
    // The time that passes in this scenario: five seal delays (the stack seals after 100 ms), then the late input.
    await waitFor('five seal delays after the close', () => Date.now() - closedAt >= 500, { intervalMs: 20 });
    expect(recorder.stats().openStreams).toBe(1);
    recorder.capture({ ...base, ...at(), type: 'ws-message', direction: 'client_to_platform', data: '{"t":"action","action":"FLAP"}', binary: false, undelivered: true });
    recorder.released('ws-late-2');
    const streams = await settle();
    expect(recorder.openedStreams().map((s) => s.key)).toEqual(['session:ms_latedraining0000001']);
    const events = [...streams.values()][0] as StoredEvent[];
    expect(events.map((e) => e.msgType ?? e.kind)).toEqual(['ws-open', 'frame', 'ws-close', 'outcome', 'action']);
    expect((await store.getSession(events[0]!.sessionId))?.sealedAt).toBeInstanceOf(Date);
  });

  it('MoltStation: a rewards snapshot asked after the run was sealed goes to an after-run stream (attributed, sealed once quiet), never re-ending the run', async () => {
    const at = (ms: number) => ({ atNs: BigInt(Date.now() + ms) * 1_000_000n, wallUs: (Date.now() + ms) * 1000 });
    const psid = 'ms_afterrun0000000000000001';
    const ws = { platform: 'moltstation' as const, connectionId: 'ws-after-1' };
    recorder.capture({ ...ws, ...at(0), type: 'ws-open', path: `/ws/flappybots/play?sessionId=${psid}`, headers: [] });
    recorder.capture({ ...ws, ...at(1), type: 'ws-message', direction: 'platform_to_client', data: '{"t":"frame","frame":{"tick":9,"phase":"over","score":4}}', binary: false });
    recorder.capture({ ...ws, ...at(2), type: 'ws-close', initiator: 'platform', code: 1000, reason: 'GAME_OVER' });
    await waitFor('the stream sealed after the grace', () => recorder.stats().openStreams === 0, { intervalMs: 20 });
    const http = { platform: 'moltstation' as const, connectionId: 'http-after-1' };
    const body = JSON.stringify({ sessionId: psid, gameSlug: 'flappybots' });
    recorder.capture({ ...http, ...at(0), type: 'http-request', method: 'POST', path: '/api/rewards/snapshot', headers: [['content-type', 'application/json']], body: Buffer.from(body) });
    recorder.capture({ ...http, ...at(1), type: 'http-response', status: 200, headers: [['content-type', 'application/json']], body: Buffer.from('{"ok":true}') });
    const streams = await settle();
    const [run, after] = recorder.openedStreams();
    expect(recorder.openedStreams()).toHaveLength(2);
    const afterRow = await store.getSession(after!.id);
    expect(afterRow).toMatchObject({ status: 'sealed', platformSessionId: psid, outcome: null, metadata: expect.objectContaining({ stream: 'after-run', previous: run!.id }) });
    expect(streams.get(after!.id)!.map((e) => e.kind)).toEqual(['request', 'response']);
    expect(streams.get(run!.id)!.filter((e) => e.kind === 'outcome')).toHaveLength(1);
    const outbox = await pool.query('SELECT queue FROM outbox WHERE session_id = ANY($1::uuid[]) ORDER BY queue', [[run!.id, after!.id]]);
    expect(outbox.rows.map((r) => r.queue)).toEqual(['reward-handoff', 'run-audit', 'snapshot-submission']);
  });

  it('a capture task run again here (its job re-run after a lost lock): the new attempt owns the stream, the earlier one records no more into it; one seal, no failure', async () => {
    const { offer, identity } = flappySpectateTask('ms_rerun000000000000000001');
    const first = await recorder.openTaskStream(offer, identity);
    first.capture({
      platform: 'moltstation',
      connectionId: 'spec-1',
      atNs: process.hrtime.bigint(),
      wallUs: Date.now() * 1000,
      type: 'ws-message',
      direction: 'platform_to_client',
      data: '{"t":"frame","frame":{"tick":3,"phase":"over"}}',
      binary: false,
    });
    first.end({ reason: 'game_over', outcome: { reason: 'game_over' } });
    await ingest.waitUntilStored();
    const again = await recorder.openTaskStream(offer, identity); // before the 100 ms grace is over
    expect(again.sessionId).toBe(first.sessionId);
    // The earlier attempt is retired: what its socket still delivers is not interleaved into the stream.
    const frameFact = (tick: number) => ({
      platform: 'moltstation' as const,
      connectionId: 'spec-x',
      atNs: process.hrtime.bigint(),
      wallUs: Date.now() * 1000,
      type: 'ws-message' as const,
      direction: 'platform_to_client' as const,
      data: `{"t":"frame","frame":{"tick":${tick}}}`,
      binary: false,
    });
    first.capture(frameFact(99));
    again.capture(frameFact(4));
    first.release(); // the earlier attempt returns late: the newer one keeps the stream
    again.end({ reason: 'game_over', outcome: { reason: 'game_over' } });
    // Sealed is not enough: the earlier attempt's end seals the stream first, and the re-run then continues it.
    await waitFor("the re-run's frame stored and the stream sealed over it", async () => {
      await ingest.waitUntilStored();
      const row = await store.getSession(first.sessionId);
      if (recorder.stats().openStreams !== 0 || row?.status !== 'sealed' || row.sealedCount !== row.headSeq) return false;
      for await (const e of store.readSession(first.sessionId)) if (e.kind === 'frame' && e.tick === 4) return true;
      return false;
    });
    expect(recorder.stats()).toMatchObject({ failures: 0, openStreams: 0 });
    expect(await store.getSession(first.sessionId)).toMatchObject({ status: 'sealed' });
    const ticks = [];
    for await (const e of store.readSession(first.sessionId)) if (e.kind === 'frame') ticks.push(e.tick);
    expect(ticks).toEqual([3, 4]);
    expect(errors).toEqual([]);
  });

  it('a capture task whose lock was lost while another process took it over: what it recorded after the take-over goes to a re-homed stream, sealed when the task stops; taken back here later, the task continues the stream itself', async () => {
    const { offer, identity } = flappySpectateTask('ms_rehome00000000000000001');
    const frameFact = (tick: number) => ({
      platform: 'moltstation' as const,
      connectionId: 'spec-r',
      atNs: process.hrtime.bigint(),
      wallUs: Date.now() * 1000,
      type: 'ws-message' as const,
      direction: 'platform_to_client' as const,
      data: `{"t":"frame","frame":{"tick":${tick}}}`,
      binary: false,
    });
    const first = await recorder.openTaskStream(offer, identity);
    first.capture(frameFact(1));
    await ingest.waitUntilStored();
    // Another process takes the task over and continues the stream (seq 2).
    const dir = mkdtempSync(join(tmpdir(), 'rewind-taker-'));
    const taker = await Ingest.open({ store, journalDir: dir, log: { info: () => undefined, warn: () => undefined, error: () => undefined } });
    const row = (await store.getSession(first.sessionId))!;
    expect(await taker.resumeSession({ id: row.id, platform: row.platform, startedAt: row.startedAt, metadata: row.metadata })).toBe(2);
    taker.record(row.id, { kind: 'frame', direction: 'platform_to_client', channel: 'spectate_ws', format: 'json', body: '{"t":"frame","frame":{"tick":2}}', msgType: 'frame', tick: 2 });
    await taker.waitUntilStored();
    await taker.close();
    rmSync(dir, { recursive: true, force: true });
    // This process has not noticed yet: one more frame, then its task stops (lock lost) without ending the run.
    first.capture(frameFact(3));
    first.release();
    await ingest.waitUntilStored();
    const rehomed = await pool.query<{ id: string }>(`SELECT id FROM sessions WHERE metadata->>'rehomedFrom' = $1`, [first.sessionId]);
    expect(rehomed.rows).toHaveLength(1);
    const fragment = rehomed.rows[0]!.id;
    expect(await store.getSession(fragment)).toMatchObject({ status: 'sealed', headSeq: 1 });
    // The task comes back here: it continues the stream after the other process's events.
    const again = await recorder.openTaskStream(offer, identity);
    expect(again.resumed).toMatchObject({ lastSeq: 2, lastTick: 2 });
    again.capture(frameFact(4));
    again.end({ reason: 'game_over', outcome: { reason: 'game_over' } });
    await waitFor('the frame taken back here stored and the stream sealed over it', async () => {
      await ingest.waitUntilStored();
      const row = await store.getSession(first.sessionId);
      if (recorder.stats().openStreams !== 0 || row?.status !== 'sealed' || row.sealedCount !== row.headSeq) return false;
      for await (const e of store.readSession(first.sessionId)) if (e.kind === 'frame' && e.tick === 4) return true;
      return false;
    });
    const ticks = async (id: string) => {
      const out = [];
      for await (const e of store.readSession(id)) if (e.kind === 'frame') out.push(e.tick);
      return out;
    };
    expect(await ticks(first.sessionId)).toEqual([1, 2, 4]);
    expect(await ticks(fragment)).toEqual([3]);
    expect(await store.getSession(first.sessionId)).toMatchObject({ status: 'sealed' });
    expect(recorder.stats()).toMatchObject({ failures: 0, openStreams: 0 });
  });

  it('SpaceMolt close 1000 ("server going away"): the client gets it unchanged, the run ends; its reconnect is a new run', async () => {
    const username = `edge_${randomBytes(3).toString('hex')}`;
    const first = await register(username);
    const password = JSON.parse(first.received.find((t) => t.includes('"registered"'))!).payload.password as string;
    sim.faults.add({ platform: 'spacemolt', fault: 'close-1000', target: username, times: 1 });
    expect(await first.waitClose()).toEqual({ code: 1000, reason: 'server going away' });
    const second = await Client.open(`${proxy.url.replace('http', 'ws')}/spacemolt/ws`);
    await second.waitFor((t) => t.includes('"welcome"'), 'welcome');
    second.ws.send(JSON.stringify({ type: 'login', payload: { username, password }, request_id: 'l1' }));
    await second.waitFor((t) => t.includes('"l1"'), 'login answer');
    second.ws.close(1000, 'bye');
    await second.waitClose();
    const streams = [...(await settle()).values()];
    expect(streams).toHaveLength(2);
    expect(closeOf(streams[0]!)).toEqual({ code: 1000, reason: 'server going away', initiator: 'platform' });
    expect(outcomeOf(streams[0]!)).toMatchObject({ reason: 'close', closeCode: 1000, agent: username });
    expect(outcomeOf(streams[1]!)).toMatchObject({ reason: 'close', closeCode: 1000, initiator: 'client', agent: username });
    // The password never reaches the store.
    for (const events of streams) for (const e of events) expect(String(e.body ?? '')).not.toContain(password);
  });

  it('SpaceMolt 4001: a second login replaces the first connection; the first run ends with 4001, the second goes on', async () => {
    const username = `edge_${randomBytes(3).toString('hex')}`;
    const first = await register(username);
    const password = JSON.parse(first.received.find((t) => t.includes('"registered"'))!).payload.password as string;
    const second = await Client.open(`${proxy.url.replace('http', 'ws')}/spacemolt/ws`);
    await second.waitFor((t) => t.includes('"welcome"'), 'welcome');
    second.ws.send(JSON.stringify({ type: 'login', payload: { username, password }, request_id: 'l2' }));
    const replaced = await first.waitClose();
    expect(replaced.code).toBe(4001);
    await second.waitFor((t) => t.includes('"l2"'), 'login answer');
    second.ws.send(JSON.stringify({ type: 'logout', request_id: 'bye' }));
    await second.waitClose();
    const streams = [...(await settle()).values()];
    expect(streams).toHaveLength(2);
    expect(closeOf(streams[0]!)).toMatchObject({ code: 4001, reason: replaced.reason, initiator: 'platform' });
    expect(outcomeOf(streams[0]!)).toMatchObject({ reason: 'close', closeCode: 4001 });
    expect(outcomeOf(streams[1]!)).toMatchObject({ reason: 'logout' });
  });

  it('malformed, unknown, binary and oversized messages: forwarded or refused exactly as the platform does, each recorded', async () => {
    const c = await register(`edge_${randomBytes(3).toString('hex')}`);
    const sent = ['{"type":"mine",', '{"type":"warp_drive","request_id":"u1"}', '[1,2,3]'];
    for (const text of sent) c.ws.send(text);
    c.ws.send(Buffer.from([0xff, 0x00, 0x01]));
    await c.waitFor((t) => t.includes('unknown_command'), 'unknown_command');
    await c.waitFor((t) => (t.match(/invalid_payload/g) ?? []).length > 0 && c.received.filter((x) => x.includes('invalid_payload')).length >= 3, 'three invalid_payload errors');
    // Over the proxy's limit (8 KiB here): refused with 1009 towards the client, as the platform would.
    c.ws.send(JSON.stringify({ type: 'chat', payload: { message: 'x'.repeat(10_000) } }));
    expect((await c.waitClose()).code).toBe(1009);
    const [events] = [...(await settle()).values()];
    const fromClient = events!.filter((e) => e.direction === 'client_to_platform' && e.kind !== 'lifecycle').map((e) => (e.format === 'binary' ? `<binary ${(e.body as Buffer).length}>` : e.body));
    expect(fromClient).toEqual(expect.arrayContaining([...sent, '<binary 3>']));
    const replies = events!.filter((e) => e.direction === 'platform_to_client' && e.kind !== 'lifecycle').map((e) => e.body as string);
    expect(replies.filter((r) => r.includes('invalid_payload'))).toHaveLength(3);
    expect(replies.some((r) => r.includes('unknown_command'))).toBe(true);
    expect(closeOf(events!)).toMatchObject({ code: 1009, initiator: 'proxy' });
    expect(outcomeOf(events!)).toMatchObject({ reason: 'close', closeCode: 1009 });
  });

  it('MoltStation: a malformed auth message is answered 4001 INVALID_TOKEN by the platform, recorded in the run of its sessionId (which goes on)', async () => {
    const c = await Client.open(`${proxy.url.replace('http', 'ws')}/moltstation/ws/flappybots/play?sessionId=ms_missing`);
    c.ws.send('{"t":"auth",');
    expect(await c.waitClose()).toEqual({ code: 4001, reason: 'INVALID_TOKEN' });
    // A refused socket is not the end of a MoltStation run (the agent re-issues a token and reconnects).
    const streams = await settle(1);
    const run = recorder.openedStreams().find((s) => s.key === 'session:ms_missing');
    expect(run).toBeDefined();
    const events = streams.get(run!.id)!;
    expect(events.map((e) => e.kind)).toEqual(['lifecycle', 'input', 'lifecycle']);
    expect(events[1]!.format).toBe('text');
    expect(events[1]!.body).toBe('{"t":"auth",');
    expect(closeOf(events)).toMatchObject({ code: 4001, reason: 'INVALID_TOKEN' });
  });

  it('HTTP: a body over the capture limit is forwarded whole; the stored request is truncated, says so, and stays with its response', async () => {
    const body = JSON.stringify({ gameSlug: 'x'.repeat(1000) });
    const call = (base: string) => fetch(`${base}/api/game/launch`, { method: 'POST', headers: { authorization: 'Bearer edge-token-0123456789', 'content-type': 'application/json' }, body });
    const direct = await call(sim.baseUrl('cloudplay'));
    const res = await call(`${proxy.url}/cloudplay`);
    // The platform saw the whole body through the proxy: the same answer as directly.
    expect({ status: res.status, body: await res.text() }).toEqual({ status: direct.status, body: await direct.text() });
    const [events] = [...(await settle()).values()];
    expect(events!.map((e) => e.kind)).toEqual(['request', 'marker', 'response']);
    expect((events![0]!.body as string).length).toBe(256);
    expect(events![1]!.body).toMatch(new RegExp(`capture truncated: request body kept 256 of ${Buffer.byteLength(body)} bytes`));
    expect(JSON.parse(events![2]!.meta!)).toMatchObject({ status: res.status });
  });
});
