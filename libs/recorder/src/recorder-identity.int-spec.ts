import WebSocket from 'ws';
import type { StoredEvent } from '@rewind/event-store';
import { ReplayEmission, ReplaySession, storeSource } from '@rewind/replay';
import { waitFor } from '@rewind/testing';
import { RecorderStack, startRecorderStack } from './test-support/stack';

/**
 * What real third-party clients found (issue 16, a–c): a stream's capture starts when its first event was
 * observed, not when the recorder could attribute it; and the stored run learns its agent however late the
 * agent is named.
 */
describe('Recorder: start time and agent of a run, as real clients showed them', () => {
  let stack: RecorderStack;
  beforeEach(async () => {
    stack = await startRecorderStack({ seed: 'identity', platforms: ['spacemolt'], simulator: { spacemolt: { tickMs: 50 } } });
  });
  afterEach(() => stack.close());

  const wsUrl = () => `${stack.proxy.url.replace('http', 'ws')}/spacemolt/ws`;

  /** A SpaceMolt WebSocket client that keeps every text frame. */
  async function connect(): Promise<{ ws: WebSocket; received: string[]; waitFor(what: string): Promise<void> }> {
    const ws = new WebSocket(wsUrl());
    const received: string[] = [];
    ws.on('message', (d) => received.push(d.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return {
      ws,
      received,
      async waitFor(what) {
        await waitFor(what, () => received.some((t) => t.includes(what)), { intervalMs: 10 });
      },
    };
  }

  async function closeAndSettle(ws: WebSocket): Promise<Map<string, StoredEvent[]>> {
    ws.close(1000);
    await new Promise((r) => ws.once('close', r));
    return stack.settle();
  }

  it('(a) the server welcome, then 3 s of client silence: stored with that 3 s, and replayed with it', async () => {
    const connectedFrom = Date.now();
    const c = await connect();
    await c.waitFor('"welcome"');
    await new Promise((r) => setTimeout(r, 3000)); // the client's silence is the subject of this test
    c.ws.send(JSON.stringify({ type: 'register', payload: { username: 'quiet-agent', empire: 'solarian', registration_code: 'identity-code-1' }, request_id: 'r1' }));
    await c.waitFor('"logged_in"');
    const spanMs = Date.now() - connectedFrom;
    const streams = await closeAndSettle(c.ws);
    const [events] = [...streams.values()] as StoredEvent[][];
    const welcome = events!.find((e) => e.direction === 'platform_to_client' && String(e.body).includes('"welcome"'))!;
    const register = events!.find((e) => e.direction === 'client_to_platform')!;
    // Before: both at offset 0 (the stream opened at the first client message, its held events clamped to it).
    expect(welcome.offsetUs).toBeLessThan(1_000_000);
    expect(register.offsetUs - welcome.offsetUs).toBeGreaterThanOrEqual(3_000_000);
    expect(register.offsetUs - welcome.offsetUs).toBeLessThanOrEqual(spanMs * 1000);

    // Replayed at speed 8 the silence lasts 3 s / 8 (a replay may fire up to ~2 ms early, never much later here).
    const replay = new ReplaySession(storeSource(stack.store, register.sessionId, { pageSize: 50 }), { speed: 8 });
    const emitted: ReplayEmission<StoredEvent>[] = [];
    replay.on('event', (e) => emitted.push(e));
    await replay.start();
    await replay.done;
    const emission = (seq: number) => emitted.find((e) => e.seq === seq)!;
    // The schedule holds the silence, and the client's message is never played before its time (a busy
    // machine can only make the welcome late, which shortens the gap as seen: the schedule is the measure).
    expect(emission(register.seq).scheduledAtMs - emission(welcome.seq).scheduledAtMs).toBeGreaterThanOrEqual(3000 / 8 - 1);
    expect(emission(register.seq).latenessMs).toBeGreaterThanOrEqual(-5);
    expect(emission(register.seq).elapsedMs).toBeGreaterThanOrEqual(3000 / 8 - 5);
  });

  it('(b) a WebSocket agent that asks get_status before it logs in: the stored run is named after the login', async () => {
    const c = await connect();
    await c.waitFor('"welcome"');
    c.ws.send(JSON.stringify({ type: 'get_status', request_id: 's0' }));
    await c.waitFor('"s0"');
    c.ws.send(JSON.stringify({ type: 'register', payload: { username: 'status-first', empire: 'solarian', registration_code: 'identity-code-2' }, request_id: 'r1' }));
    await c.waitFor('"logged_in"');
    const streams = await closeAndSettle(c.ws);
    expect(streams.size).toBe(1);
    const [id] = [...streams.keys()];
    expect(await stack.store.getSession(id!)).toMatchObject({ agent: 'status-first', platform: 'spacemolt' });
    const outcome = JSON.parse(streams.get(id!)!.find((e) => e.kind === 'outcome')!.body as string) as Record<string, unknown>;
    expect(outcome['agent']).toBe('status-first');
  });

  it('(c) a SpaceMolt HTTP run: the session row written at POST /session learns the agent at its login', async () => {
    const base = `${stack.proxy.url}/spacemolt/api/v1`;
    const created = (await (await fetch(`${base}/session`, { method: 'POST' })).json()) as { session: { id: string } };
    const headers = { 'content-type': 'application/json', 'x-session-id': created.session.id };
    const reg = await fetch(`${base}/register`, { method: 'POST', headers, body: JSON.stringify({ username: 'http-agent', empire: 'solarian', registration_code: 'identity-code-3' }) });
    expect(reg.status).toBe(200);
    await (await fetch(`${base}/logout`, { method: 'POST', headers })).text();
    const streams = await stack.settle();
    const runs = [...streams.keys()];
    const rows = await Promise.all(runs.map((id) => stack.store.getSession(id)));
    const run = rows.find((r) => r?.metadata?.['stream'] === 'run');
    expect(run).toMatchObject({ agent: 'http-agent', platform: 'spacemolt' });
    // The request that opened the run keeps its place in time: the response comes after it, not at 0 with it.
    const events = streams.get(run!.id)!;
    expect(events[0]).toMatchObject({ kind: 'request', offsetUs: 0 });
  });
});
