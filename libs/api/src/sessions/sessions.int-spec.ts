import { randomBytes, randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import type { Pool } from 'pg';
import { EventStore, NewEvent } from '@rewind/event-store';
import { createTestPool, testDatabaseUrl, testRedisUrl } from '@rewind/testing';
import { startApi } from '../api';

describe('sessions API and OpenAPI (real Postgres)', () => {
  let app: INestApplication;
  let base: string;
  let pool: Pool;
  let store: EventStore;
  const agent = `agent-${randomUUID().slice(0, 8)}`;
  const readKey = `read-${randomBytes(12).toString('hex')}`;
  const replayKey = `replay-${randomBytes(12).toString('hex')}`;
  const ids: string[] = [];

  const ev = (sessionId: string, seq: number, over: Partial<NewEvent> = {}): NewEvent => ({
    sessionId,
    seq,
    kind: seq % 5 === 0 ? 'input' : 'frame',
    direction: seq % 5 === 0 ? 'client_to_platform' : 'platform_to_client',
    channel: 'play_ws',
    recordedAtUs: Date.now() * 1000 + seq,
    offsetUs: seq * 50_000,
    format: 'json',
    body: `{"t":"frame","frame":{"tick":${seq}}}`,
    tick: seq,
    ...over,
  });

  beforeAll(async () => {
    pool = createTestPool(2);
    store = new EventStore(pool);
    app = await startApi({
      databaseUrl: testDatabaseUrl(),
      redisUrl: testRedisUrl(),
      queuePrefix: `api-s-${randomUUID().slice(0, 6)}`,
      port: 0,
      logger: false,
      replay: { apiKeys: [`${readKey}:read`, `${replayKey}:replay`], secret: randomBytes(32) },
    });
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    for (let i = 0; i < 3; i++) {
      const id = randomUUID();
      ids.push(id);
      await store.openSession({ id, platform: i === 2 ? 'rgs' : 'moltstation', game: i === 2 ? 'dice-alpha' : 'flappybots', agent, startedAt: new Date(Date.UTC(2026, 10, 23, 10, i)) });
      await store.append(Array.from({ length: 25 }, (_, k) => ev(id, k + 1, k === 24 ? { format: 'binary', body: Buffer.from([0, 255, 1]), kind: 'notification' } : {})));
    }
    await store.sealSession(ids[0]!);
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${readKey}`, ...headers } });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      text,
      json: (() => {
        try {
          return JSON.parse(text);
        } catch {
          return null;
        }
      })(),
    };
  };

  it('lists sessions newest first with filters and a cursor that pages through all of them', async () => {
    const first = await get(`/api/sessions?agent=${agent}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.json.sessions.map((s: { id: string }) => s.id)).toEqual([ids[2], ids[1]]);
    expect(first.json.nextCursor).toEqual(expect.any(String));
    const second = await get(`/api/sessions?agent=${agent}&limit=2&cursor=${first.json.nextCursor}`);
    expect(second.json).toMatchObject({ sessions: [{ id: ids[0], status: 'sealed', events: 25 }], nextCursor: null });
    expect((await get(`/api/sessions?agent=${agent}&platform=rgs`)).json.sessions.map((s: { id: string }) => s.id)).toEqual([ids[2]]);
    expect((await get(`/api/sessions?agent=${agent}&status=sealed&game=flappybots`)).json.sessions).toHaveLength(1);
    expect((await get(`/api/sessions?agent=${agent}&from=2026-11-23T10:01:00Z&to=2026-11-23T10:02:00Z`)).json.sessions.map((s: { id: string }) => s.id)).toEqual([ids[1]]);
  });

  it('answers bad parameters, bad cursors and unknown ids clearly', async () => {
    expect(await get('/api/sessions?platform=chess')).toMatchObject({ status: 400, json: { error: 'invalid_parameter', message: expect.stringMatching(/platform must be one of moltstation/) } });
    expect(await get('/api/sessions?limit=0')).toMatchObject({ status: 400, json: { message: 'limit must be an integer from 1 to 500' } });
    expect(await get('/api/sessions?from=yesterday')).toMatchObject({ status: 400, json: { message: 'from must be an ISO 8601 time' } });
    expect(await get('/api/sessions?cursor=bm90LWEtY3Vyc29y')).toMatchObject({ status: 400, json: { error: 'invalid_cursor' } });
    expect(await get(`/api/sessions/${randomUUID()}`)).toMatchObject({ status: 404, json: { error: 'not_found' } });
    expect(await get('/api/sessions/../../etc/passwd')).toMatchObject({ status: 404 });
    expect(await get(`/api/sessions/${ids[0]}/events?kind=explosion`)).toMatchObject({ status: 400 });
  });

  it('serves one session and its events: filtered JSON pages with a cursor, and the whole range as NDJSON', async () => {
    expect((await get(`/api/sessions/${ids[0]}`)).json).toMatchObject({ id: ids[0], platform: 'moltstation', status: 'sealed', sealedHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const p1 = (await get(`/api/sessions/${ids[0]}/events?limit=10`)).json;
    expect(p1.events.map((e: { seq: number }) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    const p2 = (await get(`/api/sessions/${ids[0]}/events?limit=10&cursor=${p1.nextCursor}`)).json;
    expect(p2.events[0].seq).toBe(11);
    const inputs = (await get(`/api/sessions/${ids[0]}/events?kind=input`)).json.events;
    expect(inputs.map((e: { seq: number }) => e.seq)).toEqual([5, 10, 15, 20]);
    const nd = await get(`/api/sessions/${ids[0]}/events?fromSeq=20`, { accept: 'application/x-ndjson' });
    expect(nd.type).toMatch(/application\/x-ndjson/);
    const lines = nd.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((e) => e.seq)).toEqual([20, 21, 22, 23, 24, 25]);
    expect(lines[5]).toMatchObject({ format: 'binary', bodyEncoding: 'base64', body: Buffer.from([0, 255, 1]).toString('base64') });
  });

  it('publishes its OpenAPI document and Swagger UI at /docs, with no asset from the network', async () => {
    const doc = await get('/docs-json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.json.paths)).toEqual(expect.arrayContaining(['/api/sessions', '/api/sessions/{id}', '/api/sessions/{id}/events']));
    const ui = await get('/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
    expect(ui.text).not.toMatch(/src="https?:\/\//);
  });
  it('needs an API key with the read scope: 401 without one or with an unknown one, 403 with a replay-only key; health and docs stay open', async () => {
    const none = await fetch(`${base}/api/sessions`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: 'unauthorized', message: expect.stringContaining('"read" scope') });
    expect((await get('/api/sessions', { authorization: 'Bearer not-a-key-0123456789' })).status).toBe(401);
    const replayOnly = await get(`/api/sessions/${ids[0]}`, { authorization: `Bearer ${replayKey}` });
    expect(replayOnly).toMatchObject({ status: 403, json: { error: 'forbidden', message: 'this API key lacks the "read" scope' } });
    expect((await get(`/api/sessions/${ids[0]}`, { authorization: '', 'x-api-key': readKey })).status).toBe(200);
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/docs-json`)).status).toBe(200);
  });
});
