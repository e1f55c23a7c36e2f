import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { moltstation, runCloudplayLauncher, runRgsBot, runSpaceMoltHttpMiner, runSpaceMoltWsMiner, TrafficLog } from '@rewind/agents';
import { StoredEvent, verifySession } from '@rewind/event-store';
import { startSimulator, RunningSimulator } from '@rewind/simulator';
import { createTestPool, testDatabaseUrl, testRedisUrl, waitFor } from '@rewind/testing';
import { CredentialVault } from '@rewind/scaleout';
import { byDirection, httpExchanges, readStreams, secretsIn, wsSequences } from '@rewind/recorder/test-support';
import { RunningRecorderService, startRecorderService } from './recorder-service';
import { RunSignalBoard } from './run-signals';
import { bullmqScheduler } from './schedulers';
import { taskRunners } from './task-runners';

const PLATFORMS = ['moltstation', 'spacemolt', 'cloudplay', 'rgs'] as const;

/** RGS sessions expire after this long idle (real: 1 h): long enough that a loaded machine does not expire the bot's session between its calls. */
const RGS_TTL_MS = 6000;

describe('the recorder service: every platform played through the proxy while the spectator and pollers run', () => {
  let sim: RunningSimulator;
  let service: RunningRecorderService;
  let vault: CredentialVault;
  let pool: Pool;
  let dataDir: string;
  const logs: string[] = [];
  const traffic = { flappy: new TrafficLog(), shell: new TrafficLog(), smWs: new TrafficLog(), smHttp: new TrafficLog(), cloud: new TrafficLog(), rgs: new TrafficLog() };
  const cloudToken = `cp-${randomBytes(12).toString('hex')}`;
  let streams: Map<string, StoredEvent[]>;
  let flappySessionId = '';

  beforeAll(async () => {
    pool = createTestPool(3);
    dataDir = mkdtempSync(join(tmpdir(), 'rewind-service-'));
    sim = await startSimulator({
      port: 0,
      seed: 'service-e2e',
      // Cloud-play at 1/1000 of real time, but an idle timeout of 10 s (not 1.8 s): the launcher's keepalives every
      // 150 ms must not miss it on a loaded machine.
      platformOptions: { spacemolt: { tickMs: 50 }, cloudplay: { timeScale: 0.001, idleTimeoutMs: 10_000_000 }, rgs: { sessionTtlMs: RGS_TTL_MS } },
    });
    const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(`ERROR ${m}`) };
    const key = randomBytes(32);
    vault = new CredentialVault({ redis: testRedisUrl(), secret: key, log });
    const signals = new RunSignalBoard(vault, log);
    const upstreams = Object.fromEntries(PLATFORMS.map((p) => [p, sim.baseUrl(p)]));
    service = await startRecorderService({
      databaseUrl: testDatabaseUrl(),
      proxyPort: 0,
      upstreams,
      dataDir,
      instance: 'service-e2e',
      redactionKey: key,
      sealAfterMs: 300,
      accountIdleMs: 300,
      rgsSessionTtlMs: RGS_TTL_MS,
      signals,
      scheduler: bullmqScheduler({ redisUrl: testRedisUrl(), holder: 'service-e2e', concurrency: 20, queueName: `service-e2e-${randomUUID().slice(0, 8)}`, log }),
      runners: taskRunners({ upstreams, signals, pollIntervalMs: 100, rgsSessionTtlMs: RGS_TTL_MS }),
      log,
    });
    const base = (p: string) => `${service.proxyUrl}/${p}`;
    const [flappy] = await Promise.all([
      moltstation.runFlappyBotsFlapper({ baseUrl: base('moltstation'), seed: 'svc-f', traffic: traffic.flappy, stopAfterTick: 60 }),
      moltstation.runShellRunnersSteerer({ baseUrl: base('moltstation'), seed: 'svc-s', traffic: traffic.shell, exitAfterTick: 40 }),
      runSpaceMoltWsMiner({ baseUrl: base('spacemolt'), seed: 'svc-ws', traffic: traffic.smWs, cycles: 1 }),
      runSpaceMoltHttpMiner({ baseUrl: base('spacemolt'), seed: 'svc-http', traffic: traffic.smHttp, cycles: 1 }),
      runCloudplayLauncher({ baseUrl: base('cloudplay'), seed: 'svc', traffic: traffic.cloud, token: cloudToken, keepalives: 2, keepaliveIntervalMs: 150, pollIntervalMs: 50 }),
      runRgsBot({ baseUrl: base('rgs'), seed: 'svc', traffic: traffic.rgs, diceRounds: 4, minesRounds: 1 }),
    ]);
    flappySessionId = flappy.sessionId;
    // Every run ends on its own signal (RGS: expiry after RGS_TTL_MS idle) and every stream is sealed.
    await waitFor('every stream sealed and no capture running', () => service.stats(), {
      until: (s) => s.recorder.openStreams === 0 && Number(s.tasks['running'] ?? 0) === 0,
      timeoutMs: 90_000,
      intervalMs: 100,
    });
    await service.ingest.waitUntilStored();
    streams = await readStreams(
      service.store,
      service.recorder.openedStreams().map((s) => s.id),
    );
  }, 180_000);

  afterAll(async () => {
    await service?.close();
    await vault?.close();
    await sim?.close();
    await pool?.end();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const streamsOf = (kind: 'run' | 'task' | 'account', platform?: string) =>
    new Map([...streams].filter(([id]) => service.recorder.openedStreams().some((s) => s.id === id && s.kind === kind && (!platform || s.platform === platform))));

  it('stores, byte for byte and in order, what every bot sent and received (secrets replaced by their fingerprints)', () => {
    const r = service.redactor;
    const ms = streamsOf('run', 'moltstation');
    for (const [name, log] of [
      ['flappy', traffic.flappy],
      ['shell', traffic.shell],
    ] as const) {
      const session = [...ms].filter(([, events]) => events.some((e) => e.kind === 'frame' && log.entries.some((t) => t.data === e.body)));
      expect({ name, streams: session.length }).toEqual({ name, streams: 1 });
      const ws = wsSequences(new Map(session), log, r);
      expect(ws.stored.length).toBeGreaterThan(40);
      expect(byDirection(ws.stored)).toEqual(byDirection(ws.bot));
    }
    const all = new Map([...streamsOf('run'), ...streamsOf('account')]);
    const botHttp = new TrafficLog();
    for (const log of Object.values(traffic)) botHttp.entries.push(...log.entries.filter((e) => e.channel === 'http'));
    const http = httpExchanges(all, botHttp, r);
    expect(http.stored.length).toBeGreaterThan(40);
    expect(http.stored).toEqual(http.bot);
    const smWs = wsSequences(streamsOf('run', 'spacemolt'), traffic.smWs, r);
    expect(byDirection(smWs.stored)).toEqual(byDirection(smWs.bot));
  });

  it('the spectator recorded the Flappy Bots run: the same frame texts the bot received, in order, from where it attached', async () => {
    let spectated: StoredEvent[] | undefined;
    for (const [id, events] of streamsOf('task', 'moltstation')) {
      if ((await service.store.getSession(id))?.platformSessionId === flappySessionId) spectated = events;
    }
    expect(spectated).toBeDefined();
    const frames = spectated!.filter((e) => e.kind === 'frame').map((e) => e.body as string);
    const botFrames = traffic.flappy.entries.filter((t) => t.channel === 'ws' && t.direction === 'received' && String(t.data).includes('"t":"frame"')).map((t) => t.data as string);
    const start = botFrames.indexOf(frames[0]!);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(frames).toEqual(botFrames.slice(start));
    expect(spectated!.filter((e) => e.kind === 'outcome')).toHaveLength(1);
  });

  it('the pollers recorded cloud-play status transitions and RGS rounds without ever refreshing the token', () => {
    const cloud = [...streamsOf('task', 'cloudplay').values()].flat();
    const transitions = cloud.filter((e) => e.kind === 'marker' && e.msgType === 'status-transition').map((e) => JSON.parse(e.body as string).to);
    // The simulator runs cloud-play 1000× faster here: the first poll may already see it running.
    expect(transitions).toEqual(expect.arrayContaining(['running', 'stopped']));
    expect(cloud.filter((e) => e.kind === 'response').length).toBeGreaterThanOrEqual(2);
    const rgs = [...streamsOf('task', 'rgs').values()].flat();
    expect(rgs.filter((e) => e.kind === 'request' && String(e.msgType).startsWith('GET /game/round/')).length).toBeGreaterThan(0);
    expect(rgs.some((e) => e.kind === 'request' && e.msgType === 'POST /session/refresh')).toBe(false);
    for (const events of streamsOf('task').values()) expect(events.filter((e) => e.kind === 'outcome')).toHaveLength(1);
  });

  it('every stream is sealed with an intact hash chain; each run has one outcome and its outbox rows', async () => {
    for (const [id, events] of streams) {
      expect({ id, ok: (await verifySession(service.store, id))?.ok }).toEqual({ id, ok: true });
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect((await service.store.getSession(id))?.status).toBe('sealed');
    }
    for (const [id, events] of streamsOf('run')) {
      expect({ id, outcomes: events.filter((e) => e.kind === 'outcome').length }).toEqual({ id, outcomes: 1 });
    }
    const runIds = [...streamsOf('run').keys(), ...streamsOf('task').keys()];
    const { rows } = await pool.query<{ dedupe_key: string }>('SELECT dedupe_key FROM outbox WHERE session_id = ANY($1::uuid[])', [runIds]);
    // One snapshot and one handoff per platform run, whichever of its streams ended first.
    expect(new Set(rows.map((r) => r.dedupe_key)).size).toBe(rows.length);
    expect(rows.filter((r) => r.dedupe_key.startsWith(`reward-handoff:moltstation:${flappySessionId}`))).toHaveLength(1);
  });

  it('no secret any bot used appears anywhere in the database or in the logs', async () => {
    const secrets = new Set<string>([cloudToken, 'rgs-operator-dev-key']);
    for (const log of Object.values(traffic)) for (const s of secretsIn(log)) secrets.add(s);
    expect(secrets.size).toBeGreaterThan(8);
    const { rows: tables } = await pool.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
    let scanned = 0;
    for (const { table_name } of tables) {
      const { rows } = await pool.query<{ row: string }>(`SELECT t::text AS row FROM "${table_name}" t`);
      for (const { row } of rows) {
        scanned++;
        for (const s of secrets) {
          const hex = Buffer.from(s).toString('hex');
          if (row.includes(s) || row.includes(hex)) throw new Error(`a secret (${s.slice(0, 3)}…) is stored in table ${table_name}`);
        }
      }
    }
    expect(scanned).toBeGreaterThan(500);
    // The spectator's own tokens come from answers the bots never saw: no token value is stored unredacted.
    const { rows: leaks } = await pool.query(
      `SELECT session_id, seq FROM events WHERE session_id = ANY($1::uuid[]) AND body_text ~ '"(token|spectateToken|playToken|accessToken|sessionToken)"\\s*:\\s*"(?!\\[redacted:)'`,
      [[...streams.keys()]],
    );
    expect(leaks).toEqual([]);
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) for (const s of secrets) expect({ line, leaked: line.includes(s) }).toEqual({ line, leaked: false });
    expect(logs.filter((l) => l.startsWith('ERROR'))).toEqual([]);
  });
});
