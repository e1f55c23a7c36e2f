import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { INestApplication } from '@nestjs/common';
import type { Pool } from 'pg';
import { moltstation, runSpaceMoltWsMiner, TrafficLog } from '@rewind/agents';
import { Ingest } from '@rewind/ingest';
import { flappyFrameProblems } from '@rewind/platforms';
import { startRecordingProxy } from '@rewind/proxy';
import { Recorder } from '@rewind/recorder';
import { Redactor } from '@rewind/redaction';
import { EventStore } from '@rewind/event-store';
import { startSimulator } from '@rewind/simulator';
import { createTestPool, freePorts, testDatabaseUrl, testRedisUrl, waitFor } from '@rewind/testing';
import { startApi } from '../api';
import { ReplayPlatformListeners } from './platform-listeners';
import { connectReplay, replayClosed } from './test-support/replay-client';

/**
 * The replay gateway's per-platform ports, end to end (real Postgres and sockets; runs recorded from the simulator's
 * per-platform ports through the recording proxy's per-platform ports): clients that build every URL from a bare origin with absolute paths, as MoltStation's runtimes
 * do (`new URL('/ws/' + slug + '/spectate', base)`), watch the recorded runs with only host:port changed.
 */

/** The HTTP status a WebSocket upgrade to `url` is answered with (a refusal, not a socket), and how long it took. */
function upgradeStatus(url: URL): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('error', () => undefined);
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`${url.pathname} was upgraded`));
    });
    ws.once('unexpected-response', (_q, res) => {
      resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 });
      res.resume();
      ws.terminate();
    });
  });
}

describe("the replay gateway's per-platform ports: the platforms' own paths at the root", () => {
  let pool: Pool;
  let store: EventStore;
  let api: INestApplication | undefined;
  let msPort = 0;
  let smPort = 0;
  let platformSessionId = '';
  let spacemoltSessionId = '';
  const flappyTraffic = new TrafficLog();
  const smTraffic = new TrafficLog();
  const apiKey = `key-${randomBytes(12).toString('hex')}`;
  const origin = 'http://spectate.example';
  const dir = mkdtempSync(join(tmpdir(), 'rewind-root-'));
  const redactor = new Redactor(randomBytes(32));

  beforeAll(async () => {
    pool = createTestPool(3);
    store = new EventStore(pool);
    // Record a Flappy Bots run and a SpaceMolt mining cycle through the recording proxy's per-platform ports, in
    // front of the simulator's per-platform ports: every hop on bare origins, as unmodified clients see them (the
    // bots join `${base}${path}`, the same URL as `new URL(path, base)` on a bare origin).
    const sim = await startSimulator({ port: 0, seed: `root-${randomBytes(3).toString('hex')}`, platformOptions: { spacemolt: { tickMs: 50 } } });
    const ingest = await Ingest.open({ store, journalDir: dir });
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const recorder = new Recorder({ ingest, store, redactor, log, sealAfterMs: 50, accountIdleMs: 50 });
    const proxy = await startRecordingProxy({
      port: 0,
      platformPorts: { moltstation: 0, spacemolt: 0 },
      upstreams: { moltstation: sim.rootUrl('moltstation'), spacemolt: sim.rootUrl('spacemolt') },
      sink: recorder,
    });
    const msProxy = proxy.platformUrls.moltstation as string;
    const smProxy = proxy.platformUrls.spacemolt as string;
    expect(new URL(msProxy).pathname).toBe('/');
    const run = await moltstation.runFlappyBotsFlapper({ baseUrl: msProxy, seed: 'root', traffic: flappyTraffic, stopAfterTick: 40 });
    platformSessionId = run.sessionId;
    await runSpaceMoltWsMiner({ baseUrl: smProxy, seed: 'root', traffic: smTraffic, cycles: 1 });
    await waitFor('every stream sealed', () => recorder.stats().openStreams === 0 || undefined, 15_000);
    await ingest.waitUntilStored();
    await proxy.close();
    await sim.close();
    recorder.close();
    await ingest.close();
    spacemoltSessionId = recorder.openedStreams().find((s) => s.kind === 'run' && s.platform === 'spacemolt')!.id;
    [msPort, smPort] = (await freePorts(2)) as [number, number];
    api = await startApi({
      databaseUrl: testDatabaseUrl(),
      redisUrl: testRedisUrl(),
      queuePrefix: `root-${randomUUID().slice(0, 6)}`,
      port: 0,
      logger: false,
      replay: { apiKeys: [apiKey], secret: randomBytes(32) },
      corsOrigins: [origin],
      replayPorts: { moltstation: msPort, spacemolt: smPort },
    });
  }, 90_000);
  afterAll(async () => {
    await api?.close();
    await pool?.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('given a spectate page on the base http://127.0.0.1:<MoltStation replay port>, then it fetches the token and watches the recorded Flappy Bots run: valid frames, byte for byte, 1000 GAME_OVER', async () => {
    const base = `http://127.0.0.1:${msPort}`;
    const wsBase = base.replace(/^http/, 'ws');
    // The core site: the token from the platform's own endpoint, at the root (an API key as the bearer).
    const tokenRes = await fetch(new URL(`/api/games/flappybots/sessions/${encodeURIComponent(platformSessionId)}/spectate-token-public`, base), {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(tokenRes.status).toBe(200);
    const { spectateToken } = (await tokenRes.json()) as { spectateToken: string };
    // The runtime: the socket URL built with an absolute path against the base, the token as the first message.
    const s = await connectReplay(new URL(`/ws/flappybots/spectate?sessionId=${encodeURIComponent(platformSessionId)}`, wsBase));
    s.ws.send(JSON.stringify({ t: 'auth', token: spectateToken }));
    expect(await replayClosed(s)).toEqual({ code: 1000, reason: 'GAME_OVER' });
    expect(s.texts[0]).toBe('{"t":"hello","role":"spectate","tickHz":20}');
    const frames = s.raw.slice(1);
    expect(frames.length).toBeGreaterThan(30);
    for (const f of frames) {
      const m = JSON.parse(f.toString('utf8')) as { t?: unknown; frame?: unknown };
      expect({ t: m.t, problems: flappyFrameProblems(m.frame) }).toEqual({ t: 'frame', problems: [] });
    }
    // Byte for byte what the platform sent the player (the tick-0 "ready" frame included).
    const recorded = flappyTraffic.entries.filter((t) => t.channel === 'ws' && t.direction === 'received' && String(t.data).startsWith('{"t":"frame"')).map((t) => Buffer.from(String(t.data), 'utf8'));
    expect(frames.length).toBe(recorded.length);
    expect(frames.every((f, i) => f.equals(recorded[i]!))).toBe(true);
    expect((JSON.parse(frames[0]!.toString('utf8')) as { frame: { tick: number; phase: string } }).frame).toMatchObject({ tick: 0, phase: 'ready' });

    // The legacy style (the token in the query) is served there as well.
    const q = await connectReplay(new URL(`/ws/flappybots/spectate?sessionId=${encodeURIComponent(platformSessionId)}&token=${encodeURIComponent(spectateToken)}`, wsBase));
    await waitFor('hello', () => q.raw[0], 5_000);
    expect(q.texts[0]).toBe('{"t":"hello","role":"spectate","tickHz":20}');
    q.ws.close();
  }, 40_000);

  it('given a SpaceMolt client on the base http://127.0.0.1:<SpaceMolt replay port>, then /ws plays the recorded session (chosen by ?sessionId=, as on /replay/spacemolt/ws) and ends with its recorded close', async () => {
    const wsBase = `ws://127.0.0.1:${smPort}`;
    const s = await connectReplay(new URL(`/ws?sessionId=${spacemoltSessionId}&speed=16`, wsBase), { authorization: `Bearer ${apiKey}` });
    await replayClosed(s);
    const bot = smTraffic.entries.filter((t) => t.channel === 'ws' && t.direction === 'received' && !(t.meta && t.meta['close'])).map((t) => redactor.redactText(String(t.data)));
    expect(s.texts.length).toBeGreaterThan(5);
    expect(s.texts).toEqual(bot);
    const botClose = smTraffic.entries.find((t) => t.channel === 'ws' && t.meta && t.meta['close'])!.meta!;
    expect(s.close).toEqual({ code: botClose['code'], reason: botClose['reason'] });
  }, 30_000);

  it('authenticates as the prefixed form does: no bearer on the token endpoint is 401, a forged token closes 4001 INVALID_TOKEN, SpaceMolt without a credential closes 4401', async () => {
    const base = `http://127.0.0.1:${msPort}`;
    const noBearer = await fetch(new URL(`/api/games/flappybots/sessions/${platformSessionId}/spectate-token`, base), { method: 'POST' });
    expect(noBearer.status).toBe(401);
    const unknownRun = await fetch(new URL('/api/games/flappybots/sessions/no-such-run/spectate-token', base), { method: 'POST', headers: { authorization: `Bearer ${apiKey}` } });
    expect({ status: unknownRun.status, body: await unknownRun.json() }).toEqual({ status: 404, body: { error: 'Session not found', code: 'SESSION_NOT_FOUND' } });
    const forged = await connectReplay(new URL(`/ws/flappybots/spectate?sessionId=${platformSessionId}`, base.replace('http', 'ws')));
    forged.ws.send('{"t":"auth","token":"rt1.nope.nope"}');
    expect(await replayClosed(forged, 5_000)).toEqual({ code: 4001, reason: 'INVALID_TOKEN' });
    const anonymous = await connectReplay(new URL(`/ws?sessionId=${spacemoltSessionId}`, `ws://127.0.0.1:${smPort}`));
    expect(await replayClosed(anonymous, 5_000)).toMatchObject({ code: 4401 });
  }, 20_000);

  it('answers the CORS preflight of the root token endpoint for an allowed origin, as on the replay base', async () => {
    const res = await fetch(new URL(`/api/games/flappybots/sessions/${platformSessionId}/spectate-token-public`, `http://127.0.0.1:${msPort}`), {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('given a path the port does not serve, then a plain request and a WebSocket upgrade are both answered 404 at once', async () => {
    const ms = `http://127.0.0.1:${msPort}`;
    const sm = `http://127.0.0.1:${smPort}`;
    // Plain requests: anything but the token endpoints (none on SpaceMolt's port); the API's own routes are not here either.
    for (const [base, path, method] of [
      [ms, '/nope', 'GET'],
      [ms, '/api/sessions', 'GET'],
      [ms, '/replay/moltstation/api/games/flappybots/sessions/x/spectate-token', 'POST'],
      [ms, '/ws/flappybots/spectate', 'GET'],
      [sm, '/api/games/flappybots/sessions/x/spectate-token', 'POST'],
      [sm, '/ws', 'GET'],
    ] as const) {
      const res = await fetch(new URL(path, base), { method });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(await res.json()).toMatchObject({ error: 'not_found' });
    }
    // Upgrades: another platform's stream, the play socket, the prefixed paths, the generic stream: refused 404 (no hang).
    for (const [base, path] of [
      [ms, '/nope'],
      [ms, '/ws/flappybots/play?sessionId=x'],
      [ms, '/ws'],
      [ms, `/replay/${randomUUID()}`],
      [ms, '/replay/moltstation/ws/flappybots/spectate?sessionId=x'],
      [sm, '/ws/flappybots/spectate?sessionId=x'],
      [sm, '/replay/spacemolt/ws'],
      [sm, '/'],
    ] as const) {
      const r = await upgradeStatus(new URL(path, base.replace('http', 'ws')));
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      expect(r.ms).toBeLessThan(2_000);
    }
    // A raw handshake (no client library): the 404 status line comes back and the connection is closed.
    const answer = await new Promise<string>((resolve, reject) => {
      const c = tcpConnect(smPort, '127.0.0.1', () =>
        c.write(
          `GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1:${smPort}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
        ),
      );
      let got = '';
      c.on('data', (d) => (got += d.toString('latin1')));
      c.on('end', () => resolve(got));
      c.on('error', reject);
    });
    expect(answer.startsWith('HTTP/1.1 404 Not Found\r\n')).toBe(true);
  }, 20_000);

  it("reports the ports it listens on, and the API's close closes them", async () => {
    expect(api!.get(ReplayPlatformListeners).addresses()).toEqual({ moltstation: msPort, spacemolt: smPort });
    const watching = await connectReplay(new URL(`/ws?sessionId=${spacemoltSessionId}&speed=0.25`, `ws://127.0.0.1:${smPort}`), { authorization: `Bearer ${apiKey}` });
    await api!.close();
    api = undefined;
    await replayClosed(watching, 5_000);
    for (const port of [msPort, smPort]) await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  }, 20_000);
});
