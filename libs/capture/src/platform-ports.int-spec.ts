/**
 * Drop-in for unmodified clients: the recorder, configured as an installation is (loadConfig → startRecording),
 * serves each platform at the root of its own proxy port (REWIND_PROXY_PORT_<PLATFORM>). A client that builds every
 * URL from a bare origin with absolute paths (`new URL('/ws/' + slug + '/play', base)`, as MoltStation's runtimes do)
 * plays and spectates through it, and what is stored is what the prefixed form stores: same platform, same game,
 * same platform paths, sealed chains.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Pool } from 'pg';
import { runSpaceMoltHttpMiner, runSpaceMoltWsMiner } from '@rewind/agents';
import { loadConfig } from '@rewind/config';
import { EventStore, verifySession } from '@rewind/event-store';
import { flappyFrameProblems } from '@rewind/platforms';
import { resetMoltStationOptions, setMoltStationOptions, startSimulator, type RunningSimulator } from '@rewind/simulator';
import { createTestPool, freePorts, testDatabaseUrl, testRedisUrl, waitFor } from '@rewind/testing';
import { startRecording, type StartedRecorder } from './from-config';

interface SocketResult {
  messages: string[];
  code: number;
  reason: string;
}

/**
 * A MoltStation client as the platform's own runtimes are written: one base (an origin), every URL made with an
 * absolute path against it. `url` is how it joins; the prefixed run passes a join that keeps the prefix.
 */
function moltClient(url: (path: string) => URL) {
  const call = async (path: string, body?: unknown, token?: string): Promise<Record<string, unknown>> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(url(path), { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`POST ${path} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const socket = (path: string, token: string, onFrame?: (frame: Record<string, unknown>, send: (m: unknown) => void) => void, onReady?: () => void): Promise<SocketResult> =>
    new Promise((resolve, reject) => {
      const u = url(path);
      u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
      const ws = new WebSocket(u);
      const result: SocketResult = { messages: [], code: 0, reason: '' };
      const send = (m: unknown): void => void (ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m)));
      ws.on('open', () => send({ t: 'auth', token }));
      ws.on('message', (data: Buffer) => {
        const text = data.toString('utf8');
        result.messages.push(text);
        const msg = JSON.parse(text) as { t?: string; frame?: Record<string, unknown> };
        if (msg.t === 'hello') onReady?.();
        if (msg.t === 'frame' && msg.frame) onFrame?.(msg.frame, send);
      });
      ws.on('error', reject);
      ws.on('close', (code, reason) => resolve({ ...result, code, reason: reason.toString('utf8') }));
    });
  return {
    /** Sign in (the simulator takes any signature), start an agent_api run, then spectate it live while playing it. */
    async playAndSpectate(slug: 'flappybots'): Promise<{ sessionId: string; play: SocketResult; spectate: SocketResult }> {
      const n = await call(`/api/games/${slug}/auth/nonce`);
      const wallet = `0x${createHash('sha256').update(`platform-ports/${Math.random()}`).digest('hex').slice(0, 40)}`;
      const message = [
        `${String(n.domain)} wants you to sign in with your Ethereum account:`,
        wallet,
        '',
        'Sign in with Ethereum to MoltStation.',
        '',
        `URI: ${String(n.uri)}`,
        'Version: 1',
        `Chain ID: ${String(n.chainId)}`,
        `Nonce: ${String(n.nonce)}`,
        `Issued At: ${String(n.issuedAt)}`,
      ].join('\n');
      const { accessToken } = (await call(`/api/games/${slug}/auth/verify`, { message, signature: `0x${'ab'.repeat(65)}` })) as { accessToken: string };
      const started = await call(`/api/games/${slug}/sessions/start`, { source: 'agent_api' }, accessToken);
      const sessionId = String(started.sessionId);
      const q = `?sessionId=${encodeURIComponent(sessionId)}`;
      const playToken = (await call(`/api/games/${slug}/sessions/${encodeURIComponent(sessionId)}/play-token`, undefined, accessToken)) as { playToken?: string; token?: string };
      const spectateToken = (await call(`/api/games/${slug}/sessions/${encodeURIComponent(sessionId)}/spectate-token`, undefined, accessToken)) as { spectateToken?: string; token?: string };
      // The spectator is in before the game starts (it starts with the player), so it sees every frame.
      let spectatorIn!: () => void;
      const ready = new Promise<void>((r) => (spectatorIn = r));
      const spectate = socket(`/ws/${slug}/spectate${q}`, String(spectateToken.spectateToken ?? spectateToken.token), undefined, spectatorIn);
      await ready;
      // Flap to hold the middle for a few ticks, then fall: a quick, certain GAME_OVER.
      const play = await socket(`/ws/${slug}/play${q}`, String(playToken.playToken ?? playToken.token), (frame, send) => {
        const bot = frame.bot as { y?: number; velocityY?: number } | undefined;
        if (typeof frame.tick === 'number' && frame.tick < 15 && (bot?.y ?? 0) > 260 && (bot?.velocityY ?? 0) > -60) send({ t: 'action', action: 'FLAP' });
      });
      return { sessionId, play, spectate: await spectate };
    },
  };
}

function frames(result: SocketResult): unknown[] {
  return result.messages.map((m) => JSON.parse(m) as { t?: string; frame?: unknown }).flatMap((m) => (m.t === 'frame' ? [m.frame] : []));
}

describe('the recorder serves each platform at the root of its own proxy port (REWIND_PROXY_PORT_<PLATFORM>)', () => {
  let sim: RunningSimulator;
  let pool: Pool;
  let dataDir: string;
  let recording: StartedRecorder | undefined;
  let ports: { moltstation: number; spacemolt: number };
  const logs: string[] = [];

  beforeAll(async () => {
    setMoltStationOptions({ tickMs: 50 });
    pool = createTestPool(2);
    dataDir = mkdtempSync(join(tmpdir(), 'rewind-platform-ports-'));
    sim = await startSimulator({ port: 0, seed: `platform-ports-${randomBytes(3).toString('hex')}`, platformOptions: { spacemolt: { tickMs: 50 } } });
    const [molt, space] = (await freePorts(2)) as [number, number];
    ports = { moltstation: molt, spacemolt: space };
    // As an installation configures it; the upstreams are the simulator's own root ports.
    const config = loadConfig({
      DATABASE_URL: testDatabaseUrl(),
      REDIS_URL: testRedisUrl(),
      REWIND_DATA_DIR: dataDir,
      REWIND_REDACTION_KEY: randomBytes(32).toString('hex'),
      REWIND_CAPTURE_QUEUE: `platform-ports-${randomBytes(4).toString('hex')}`,
      REWIND_SPECTATE_LIVE: '0',
      REWIND_SEAL_AFTER_MS: '200',
      REWIND_UPSTREAM_MOLTSTATION: sim.rootUrl('moltstation'),
      REWIND_UPSTREAM_SPACEMOLT: sim.rootUrl('spacemolt'),
      REWIND_PROXY_PORT_MOLTSTATION: String(molt),
      REWIND_PROXY_PORT_SPACEMOLT: String(space),
      REWIND_PROXY_PORT_CLOUDPLAY: '0',
      REWIND_PROXY_PORT_RGS: '0',
    });
    recording = await startRecording({ config, databaseUrl: testDatabaseUrl(), redisUrl: testRedisUrl(), log: (l) => logs.push(l) }, { verbose: false, port: 0 });
  });

  afterAll(async () => {
    resetMoltStationOptions();
    await recording?.close();
    await sim.close();
    await pool.end();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The stored sessions of the streams the recorder opened for `platform`, once sealed, with their events. */
  async function stored(platform: string, since: number) {
    const service = recording!.service;
    const ids = service.recorder
      .openedStreams()
      .slice(since)
      .filter((s) => s.platform === platform)
      .map((s) => s.id);
    // The runs end (and are sealed) with the platform's close; the account streams stay open while the recorder runs.
    await waitFor(
      `the ${platform} runs stored and ended`,
      async () => (await pool.query<{ stream: string; status: string }>(`SELECT metadata->>'stream' AS stream, status FROM sessions WHERE id = ANY($1)`, [ids])).rows,
      {
        until: (rows) => rows.length === ids.length && rows.every((r) => r.stream !== 'run' || r.status !== 'open'),
        timeoutMs: 30_000,
      },
    );
    const store = new EventStore(pool);
    const { rows } = await pool.query<{ id: string; platform: string; game: string | null; platform_session_id: string | null; stream: string; captured_by: string }>(
      `SELECT id, platform, game, platform_session_id, metadata->>'stream' AS stream, metadata->>'capturedBy' AS captured_by FROM sessions WHERE id = ANY($1) ORDER BY started_at`,
      [ids],
    );
    for (const r of rows) expect({ id: r.id, ok: (await verifySession(store, r.id))?.ok }).toEqual({ id: r.id, ok: true });
    const events = async (id: string) => {
      const out = [];
      for await (const e of store.readSession(id)) out.push(e);
      return out;
    };
    return { rows, events };
  }

  it('the MoltStation port serves a Flappy Bots run and its live spectator, stored as the prefixed form stores it', async () => {
    const service = recording!.service;
    expect(service.proxyPlatformUrls).toEqual({ moltstation: `http://127.0.0.1:${ports.moltstation}`, spacemolt: `http://127.0.0.1:${ports.spacemolt}` });
    const base = `http://127.0.0.1:${ports.moltstation}`;

    const runs = [];
    for (const [label, join] of [
      ['root', (path: string) => new URL(path, base)],
      ['prefixed', (path: string) => new URL(`${service.proxyUrl}/moltstation${path}`)],
    ] as const) {
      const since = service.recorder.openedStreams().length;
      const run = await moltClient(join).playAndSpectate('flappybots');
      // Both sockets saw the run end as the platform ended it; every frame passes the Flappy Bots validator.
      expect({ label, play: [run.play.code, run.play.reason], spectate: [run.spectate.code, run.spectate.reason] }).toEqual({
        label,
        play: [1000, 'GAME_OVER'],
        spectate: [1000, 'GAME_OVER'],
      });
      const seen = [...frames(run.play), ...frames(run.spectate)];
      expect(frames(run.spectate).length).toBeGreaterThan(5);
      expect(seen.map(flappyFrameProblems).filter((p) => p.length > 0)).toEqual([]);
      // The spectator watched live: it has every frame the player had (it was in from the first tick).
      expect(frames(run.spectate)).toEqual(frames(run.play));
      const { rows, events } = await stored('moltstation', since);
      const runRow = rows.find((r) => r.stream === 'run' && r.platform_session_id === run.sessionId);
      expect(runRow).toMatchObject({ platform: 'moltstation', game: 'flappybots', captured_by: 'proxy' });
      const evs = await events(runRow!.id);
      // The stored frames are the bytes the player got, each valid; the platform paths are the platform's own.
      const storedFrames = evs.filter((e) => e.kind === 'frame' && e.channel === 'play_ws' && e.direction === 'platform_to_client');
      expect(storedFrames.length).toBeGreaterThanOrEqual(frames(run.play).length);
      expect(storedFrames.map((e) => flappyFrameProblems((JSON.parse(String(e.body)) as { frame: unknown }).frame)).filter((p) => p.length > 0)).toEqual([]);
      // Byte for byte what the player received.
      expect(storedFrames.map((e) => String(e.body))).toEqual(run.play.messages.filter((m) => m.startsWith('{"t":"frame"')));
      runs.push({
        label,
        // Distinct kinds of streams (an account stream the first run opened may be reused by the second).
        streams: [...new Set(rows.map((r) => JSON.stringify({ platform: r.platform, game: r.game, stream: r.stream, capturedBy: r.captured_by })))].sort(),
        kinds: [...new Set(evs.map((e) => `${e.kind}/${e.channel}/${e.direction}/${e.msgType ?? ''}`.split(run.sessionId).join('<session>')))].sort(),
        paths: evs
          .map((e) => (e.meta ? (JSON.parse(e.meta) as { path?: string }).path : undefined))
          .filter((p): p is string => typeof p === 'string')
          .map((p) => p.split(run.sessionId).join('<session>')),
      });
    }
    // Root and prefixed: the same streams (platform, game, capturer), the same kinds of events, the same paths.
    const [root, prefixed] = runs as [(typeof runs)[number], (typeof runs)[number]];
    expect(root.streams).toEqual(prefixed.streams);
    expect(root.kinds).toEqual(prefixed.kinds);
    expect(root.paths).toEqual(prefixed.paths);
    expect(root.paths.some((p) => p.startsWith('/ws/flappybots/play'))).toBe(true);
    expect(logs.filter((l) => l.includes('error'))).toEqual([]);
  }, 90_000);

  it('the SpaceMolt port: a client with the bare origin as its base registers, mines and logs out over /ws and over /api/v2', async () => {
    const service = recording!.service;
    const since = service.recorder.openedStreams().length;
    // The miners append their paths to the base; with a bare origin that is the URL an absolute-path client makes.
    const baseUrl = `http://127.0.0.1:${ports.spacemolt}`;
    const ws = await runSpaceMoltWsMiner({ baseUrl, seed: `pp-ws-${randomBytes(3).toString('hex')}`, cycles: 1, timeoutMs: 20_000 });
    const http = await runSpaceMoltHttpMiner({ baseUrl, seed: `pp-http-${randomBytes(3).toString('hex')}`, cycles: 1, timeoutMs: 20_000 });
    for (const s of [ws, http]) expect({ cycles: s.cyclesCompleted, mined: s.unitsMined > 0, player: s.playerId.length > 0 }).toEqual({ cycles: 1, mined: true, player: true });

    const { rows, events } = await stored('spacemolt', since);
    const runs = rows.filter((r) => r.stream === 'run');
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const r of runs) expect(r).toMatchObject({ platform: 'spacemolt', captured_by: 'proxy' });
    const paths = new Set<string>();
    for (const r of runs) for (const e of await events(r.id)) if (e.meta) paths.add(String((JSON.parse(e.meta) as { path?: string }).path ?? ''));
    // Stored as the platform sees them: /ws and /api/v2/… (no prefix, no port).
    expect([...paths].some((p) => p === '/ws')).toBe(true);
    expect([...paths].some((p) => p.startsWith('/api/v2/'))).toBe(true);
    expect([...paths].filter((p) => p.startsWith('/spacemolt'))).toEqual([]);
  }, 90_000);
});
