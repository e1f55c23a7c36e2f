import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { Pool } from 'pg';
import { moltstation, TrafficLog } from '@rewind/agents';
import { Ingest } from '@rewind/ingest';
import { startRecordingProxy } from '@rewind/proxy';
import { Recorder } from '@rewind/recorder';
import { Redactor } from '@rewind/redaction';
import { EventStore, StoredEvent } from '@rewind/event-store';
import { startSimulator } from '@rewind/simulator';
import { createTestPool, testDatabaseUrl, testRedisUrl, waitFor } from '@rewind/testing';
import { startApi } from '../api';
import { connectReplay, ReplayClient, replayClosed } from './test-support/replay-client';

/**
 * Platform replays end as the recording ended (real Postgres, runs recorded from the simulator through the proxy):
 * the recorded close code and reason, at the recorded time scaled by the speed — MoltStation's `1000 EXIT` of a
 * run the agent quit, SpaceMolt's `4001 session replaced…` of a socket whose account logged in again elsewhere.
 */

/** The SpaceMolt messages of a socket (a frame may be an NDJSON batch). */
const messages = (s: ReplayClient) => s.texts.flatMap((t) => t.split('\n').filter((l) => l.trim())).map((l) => JSON.parse(l) as { type: string; payload?: Record<string, unknown> });

describe('platform replays end with the recorded close, at its recorded time', () => {
  let pool: Pool;
  let store: EventStore;
  let api: INestApplication;
  let base: string;
  const apiKey = `key-${randomBytes(12).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'rewind-close-'));
  let exitRun = '';
  let replacedSession = '';
  let replacedClose: { code: number; reason: string } | null = null;
  const traffic = new TrafficLog();

  beforeAll(async () => {
    pool = createTestPool(3);
    store = new EventStore(pool);
    const sim = await startSimulator({ port: 0, seed: `close-${randomBytes(3).toString('hex')}`, platformOptions: { spacemolt: { tickMs: 50 } } });
    const ingest = await Ingest.open({ store, journalDir: dir });
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const recorder = new Recorder({ ingest, store, redactor: new Redactor(randomBytes(32)), log, sealAfterMs: 50, accountIdleMs: 50 });
    const proxy = await startRecordingProxy({ port: 0, upstreams: { moltstation: sim.baseUrl('moltstation'), spacemolt: sim.baseUrl('spacemolt') }, sink: recorder });

    // MoltStation: a ShellRunners run the agent quits (`cmd exit`): the platform closes it 1000 EXIT.
    const run = await moltstation.runShellRunnersSteerer({ baseUrl: `${proxy.url}/moltstation`, seed: 'close-exit', traffic, exitAfterTick: 15 });
    exitRun = run.sessionId;

    // SpaceMolt: socket A registers; 600 ms later socket B logs in to the same account, and the platform closes A 4001.
    const a = await connectReplay(`${proxy.url.replace('http', 'ws')}/spacemolt/ws`);
    const username = `closer_${randomBytes(4).toString('hex')}`;
    a.ws.send(JSON.stringify({ type: 'register', payload: { username, empire: 'solarian', registration_code: 'rewind-simulator' } }));
    const registered = await waitFor('registered', () => messages(a).find((m) => m.type === 'registered'), 10_000);
    await waitFor('logged in', () => messages(a).find((m) => m.type === 'logged_in'), 10_000);
    await new Promise((r) => setTimeout(r, 600)); // deliberate: the silence before the close, which the replay must keep
    const b = await connectReplay(`${proxy.url.replace('http', 'ws')}/spacemolt/ws`);
    b.ws.send(JSON.stringify({ type: 'login', payload: { username, password: registered.payload!['password'] } }));
    const c = await replayClosed(a, 10_000);
    replacedClose = { code: c.code, reason: c.reason };
    b.ws.send(JSON.stringify({ type: 'logout' }));
    await replayClosed(b, 10_000);

    await waitFor('every stream sealed', () => recorder.stats().openStreams === 0 || undefined, 15_000);
    await ingest.waitUntilStored();
    await proxy.close();
    await sim.close();
    recorder.close();
    await ingest.close();
    // A's recording: the SpaceMolt run whose socket was closed 4001.
    for (const s of recorder.openedStreams().filter((x) => x.kind === 'run' && x.platform === 'spacemolt')) {
      for await (const e of store.readSession(s.id)) if (e.msgType === 'ws-close' && (JSON.parse(e.meta ?? '{}') as { code?: number }).code === 4001) replacedSession = s.id;
    }
    api = await startApi({
      databaseUrl: testDatabaseUrl(),
      redisUrl: testRedisUrl(),
      queuePrefix: `close-${randomUUID().slice(0, 6)}`,
      port: 0,
      logger: false,
      replay: { apiKeys: [apiKey], secret: randomBytes(32) },
    });
    base = (await api.getUrl()).replace('[::1]', '127.0.0.1').replace('http', 'ws');
  }, 90_000);
  afterAll(async () => {
    await api?.close();
    await pool?.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it("given a SpaceMolt socket the platform closed 4001 (its account logged in elsewhere), then its replay ends 4001 with the platform's reason, at the recorded time scaled by the speed", async () => {
    expect(replacedClose).toEqual({ code: 4001, reason: expect.stringMatching(/^session replaced/) });
    expect(replacedSession).not.toBe('');
    const events: StoredEvent[] = [];
    for await (const e of store.readSession(replacedSession)) events.push(e);
    const firstFrame = events.find((e) => e.channel === 'play_ws' && e.direction === 'platform_to_client' && e.kind !== 'lifecycle')!;
    const closeEvent = events.find((e) => e.msgType === 'ws-close')!;
    const speed = 2;
    const r = await connectReplay(`${base}/replay/spacemolt/ws?sessionId=${replacedSession}&speed=${speed}`, { authorization: `Bearer ${apiKey}` });
    const c = await replayClosed(r);
    expect({ code: c.code, reason: c.reason }).toEqual(replacedClose);
    // At its time: the recorded gap from the first frame to the close (≥ 600 ms), over the speed, from the first frame's arrival.
    const dueMs = (closeEvent.offsetUs - firstFrame.offsetUs) / 1000 / speed;
    expect(dueMs).toBeGreaterThan(600 / speed - 1);
    const tookMs = r.closedAt! - r.at[0]!;
    expect(tookMs).toBeGreaterThan(dueMs - 50);
    expect(tookMs).toBeLessThan(dueMs + 400);
  }, 30_000);

  it('given a MoltStation run the agent quit (1000 EXIT), then its spectate replay plays the recorded frames and ends 1000 EXIT', async () => {
    const http = base.replace('ws', 'http');
    const res = await fetch(`${http}/replay/moltstation/api/games/shellrunners/sessions/${exitRun}/spectate-token`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` } });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const r = await connectReplay(`${base}/replay/moltstation/ws/shellrunners/spectate?sessionId=${exitRun}&token=${encodeURIComponent(token)}`);
    const c = await replayClosed(r);
    const botClose = traffic.entries.find((t) => t.channel === 'ws' && t.meta?.['event'] === 'close');
    expect(botClose?.meta).toMatchObject({ code: 1000, reason: 'EXIT' });
    expect({ code: c.code, reason: c.reason }).toEqual({ code: 1000, reason: 'EXIT' });
    const botFrames = traffic.entries.filter((t) => t.channel === 'ws' && t.direction === 'received' && String(t.data).startsWith('{"t":"frame"')).map((t) => t.data);
    expect(r.texts.slice(1)).toEqual(botFrames);
  }, 30_000);
});
