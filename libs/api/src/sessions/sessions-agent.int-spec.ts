import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import WebSocket from 'ws';
import type { Pool } from 'pg';
import { EventStore } from '@rewind/event-store';
import { Ingest } from '@rewind/ingest';
import { RunningRecordingProxy, startRecordingProxy } from '@rewind/proxy';
import { Recorder } from '@rewind/recorder';
import { Redactor } from '@rewind/redaction';
import { RunningSimulator, startSimulator } from '@rewind/simulator';
import { createTestPool, testDatabaseUrl, testRedisUrl, waitFor } from '@rewind/testing';
import { startApi } from '../api';

/**
 * Issue 16 (c): `GET /api/sessions?agent=<name>` finds SpaceMolt runs whose agent was named only after the
 * run's stream was opened — over HTTP (the session row is written at POST /session, before the login) and
 * over the WebSocket by an agent that asks get_status before it logs in.
 */
describe('sessions API: runs are found by the agent named after they started (recorder → store → API)', () => {
  let pool: Pool;
  let ingest: Ingest;
  let recorder: Recorder;
  let sim: RunningSimulator;
  let proxy: RunningRecordingProxy;
  let app: INestApplication;
  let base: string;
  let dir: string;
  const key = `read-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    pool = createTestPool(2);
    const store = new EventStore(pool);
    dir = mkdtempSync(join(tmpdir(), 'rewind-sessions-agent-'));
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    ingest = await Ingest.open({ store, journalDir: dir, log });
    recorder = new Recorder({ ingest, store, redactor: new Redactor(randomBytes(32)), log, sealAfterMs: 100 });
    sim = await startSimulator({ port: 0, seed: `agent-${randomUUID().slice(0, 6)}` });
    proxy = await startRecordingProxy({ port: 0, upstreams: { spacemolt: sim.baseUrl('spacemolt') }, sink: recorder });
    app = await startApi({
      databaseUrl: testDatabaseUrl(),
      redisUrl: testRedisUrl(),
      queuePrefix: `api-ag-${randomUUID().slice(0, 6)}`,
      port: 0,
      logger: false,
      replay: { apiKeys: [`${key}:read`], secret: randomBytes(32) },
    });
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app.close();
    await proxy.close();
    await sim.close();
    recorder.close();
    await ingest.close();
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  });

  const runsOf = async (agent: string): Promise<{ id: string; platform: string; agent: string }[]> => {
    const res = await fetch(`${base}/api/sessions?agent=${encodeURIComponent(agent)}`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { sessions: { id: string; platform: string; agent: string }[] }).sessions;
  };

  it('finds a SpaceMolt HTTP run by the username it logged in with', async () => {
    const agent = `http-${randomUUID().slice(0, 8)}`;
    const api = `${proxy.url}/spacemolt/api/v2`;
    const created = (await (await fetch(`${api}/session`, { method: 'POST' })).json()) as { session: { id: string } };
    const headers = { 'content-type': 'application/json', 'x-session-id': created.session.id };
    const reg = await fetch(`${api}/spacemolt_auth/register`, { method: 'POST', headers, body: JSON.stringify({ username: agent, empire: 'solarian', registration_code: 'sessions-agent-1' }) });
    expect(reg.status).toBe(200);
    const found = await waitFor(`the run of ${agent} in the API`, async () => {
      await ingest.waitUntilStored();
      const runs = await runsOf(agent);
      return runs.length > 0 ? runs : undefined;
    });
    expect(found).toEqual([expect.objectContaining({ platform: 'spacemolt', agent })]);
  });

  it('finds a SpaceMolt WebSocket run whose agent asked get_status before logging in', async () => {
    const agent = `ws-${randomUUID().slice(0, 8)}`;
    const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/spacemolt/ws`);
    const received: string[] = [];
    ws.on('message', (d) => received.push(d.toString()));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await waitFor('welcome', () => received.some((t) => t.includes('"welcome"')));
    ws.send(JSON.stringify({ type: 'get_status', request_id: 's0' }));
    await waitFor('the answer to get_status', () => received.some((t) => t.includes('"s0"')));
    ws.send(JSON.stringify({ type: 'register', payload: { username: agent, empire: 'solarian', registration_code: 'sessions-agent-2' }, request_id: 'r1' }));
    await waitFor('logged_in', () => received.some((t) => t.includes('"logged_in"')));
    const found = await waitFor(`the run of ${agent} in the API`, async () => {
      await ingest.waitUntilStored();
      const runs = await runsOf(agent);
      return runs.length > 0 ? runs : undefined;
    });
    expect(found).toEqual([expect.objectContaining({ platform: 'spacemolt', agent })]);
    ws.close(1000);
  });
});
