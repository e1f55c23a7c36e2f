import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import type { Queue } from 'bullmq';
import { moltstation } from '@rewind/agents';
import { RunningRecorderService, RunSignalBoard, startRecorderService } from '@rewind/capture';
import { CredentialVault } from '@rewind/scaleout';
import { EventStore, NewOutboxMessage, Platform, StoredEvent } from '@rewind/event-store';
import { startSimulator, RunningSimulator } from '@rewind/simulator';
import { createMigratedScratchDatabase, ScratchDatabase, tamper, TcpForwarder, testRedisUrl, waitFor } from '@rewind/testing';
import { openQueues, PipelineQueue } from './queues';
import { RunningPipeline, startPipeline } from './service';

interface Handoff {
  id: string;
  idempotencyKey: string;
  body: { runSessionId: string; platform: string; platformSessionId: string | null; outcome: Record<string, unknown> };
  deliveries: number;
}

interface OutboxRow {
  id: string;
  queue: string;
  relayed_at: Date | null;
  attempts: number;
  last_error: string | null;
}

const ROOT = join(__dirname, '..', '..', '..');
const CHILD = join(__dirname, 'test-support', 'pipeline-child.ts');

describe('the outcome pipeline under faults: Redis away, endpoint timeouts, a killed worker, two relays, SNAPSHOT_REQUIRED', () => {
  let sim: RunningSimulator;
  let recorder: RunningRecorderService;
  let vault: CredentialVault;
  let store: EventStore;
  // A database of its own: the relay takes every unrelayed outbox row, and other test files write some too.
  let db: ScratchDatabase;
  let pool: Pool;
  let dataDir: string;
  const key = randomBytes(32);
  // One prefix per test of this file (`faults-xxxxxxxx-N`): no test sees another's delayed retries.
  const filePrefix = `faults-${randomUUID().slice(0, 8)}`;
  let testNo = 0;
  const logs: string[] = [];
  const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(`ERROR ${m}`) };
  // Everything a test opened, closed after it whatever happens.
  const cleanups: (() => Promise<unknown> | void)[] = [];

  beforeAll(async () => {
    db = await createMigratedScratchDatabase();
    pool = db.pool;
    store = new EventStore(pool);
    dataDir = mkdtempSync(join(tmpdir(), 'rewind-pipeline-faults-'));
    sim = await startSimulator({ port: 0, seed: 'pipeline-faults' });
    vault = new CredentialVault({ redis: testRedisUrl(), secret: key, log });
    recorder = await startRecorderService({
      databaseUrl: db.url,
      proxyPort: 0,
      upstreams: { moltstation: sim.baseUrl('moltstation'), spacemolt: sim.baseUrl('spacemolt'), cloudplay: sim.baseUrl('cloudplay'), rgs: sim.baseUrl('rgs') },
      dataDir,
      redactionKey: key,
      sealAfterMs: 200,
      accountIdleMs: 200,
      signals: new RunSignalBoard(vault, log),
      log,
    });
  });

  beforeEach(async () => {
    testNo++;
    sim.faults.clear();
    await fetch(`${sim.rewardsUrl}/handoffs`, { method: 'DELETE' });
  });

  afterEach(async () => {
    while (cleanups.length > 0) await Promise.resolve(cleanups.pop()!()).catch(() => undefined);
  });

  afterAll(async () => {
    await recorder?.close();
    await vault?.close();
    await sim?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const prefix = () => `${filePrefix}-${testNo}`;
  const handoffs = async (): Promise<Handoff[]> => ((await (await fetch(`${sim.rewardsUrl}/handoffs`)).json()) as { handoffs: Handoff[] }).handoffs;
  const addRewardsFault = (spec: { fault: 'status-500' | 'status-503' | 'timeout'; target?: string; params?: Record<string, unknown>; times?: number }) =>
    sim.faults.add({ platform: 'rewards', ...spec } as never);

  function start(o: { redisUrl?: string; requestTimeoutMs?: number; attempts?: number; lockDurationMs?: number; stalledIntervalMs?: number } = {}): Promise<RunningPipeline> {
    return startPipeline({
      databaseUrl: db.url,
      redisUrl: o.redisUrl ?? testRedisUrl(),
      prefix: prefix(),
      key,
      rewardsUrl: `${sim.rewardsUrl}/handoffs`,
      moltstationUrl: sim.baseUrl('moltstation'),
      retry: { attempts: o.attempts ?? 4, backoffMs: 100, maxBackoffMs: 400 },
      concurrency: 4,
      requestTimeoutMs: o.requestTimeoutMs ?? 1000,
      relayIntervalMs: 50,
      ...(o.lockDurationMs ? { lockDurationMs: o.lockDurationMs, stalledIntervalMs: o.stalledIntervalMs } : {}),
      log,
    }).then((p) => {
      cleanups.push(() => p.close());
      return p;
    });
  }
  /** Queues on the real Redis (not through any forwarder), to look at the jobs of this test's prefix. */
  function inspectQueues(): Record<PipelineQueue, Queue> {
    const q = openQueues(testRedisUrl(), prefix());
    cleanups.push(() => Promise.all(Object.values(q).map((x) => x.close())));
    return q;
  }

  /** The one waitFor, with the pipeline's last log lines in its failure. */
  async function until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T> {
    return waitFor(what, f, { timeoutMs, intervalMs: 100 }).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs.slice(-15).join('\n')}`);
    });
  }
  async function pipelineEvents(jobId: string): Promise<StoredEvent[]> {
    const { rows } = await pool.query<{ id: string }>(`SELECT id FROM sessions WHERE metadata->>'jobId' = $1`, [jobId]);
    const out: StoredEvent[] = [];
    for (const r of rows) for await (const e of store.readSession(r.id)) out.push(e);
    return out;
  }
  const outboxOf = async (platform: string, platformSessionId: string): Promise<OutboxRow[]> =>
    (
      await pool.query<OutboxRow>(
        `SELECT o.id, o.queue, o.relayed_at, o.attempts, o.last_error FROM outbox o JOIN sessions s ON s.id = o.session_id
          WHERE s.platform = $1 AND s.platform_session_id = $2 ORDER BY o.queue`,
        [platform, platformSessionId],
      )
    ).rows;
  /** The three outbox rows of a run (snapshot, handoff, audit), once the recorder has written them. */
  const rowsOfRun = (platform: string, platformSessionId: string) =>
    until(`outbox rows of ${platform}:${platformSessionId}`, async () => {
      const rows = await outboxOf(platform, platformSessionId);
      return rows.length === 3 && rows;
    });
  const rewardRow = (rows: OutboxRow[]) => rows.find((r) => r.queue === 'reward-handoff')!;
  const snapshotRow = (rows: OutboxRow[]) => rows.find((r) => r.queue === 'snapshot-submission')!;
  /** Nothing left to do on a queue of a pipeline: no job waiting, active or delayed. */
  const settled = async (queues: Record<PipelineQueue, Queue>) => {
    for (const q of Object.values(queues)) {
      const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused');
      if (Object.values(c).some((n) => n > 0)) return false;
    }
    return true;
  };
  const flappyRun = (seed: string, extra: Partial<Parameters<typeof moltstation.runFlappyBotsFlapper>[0]> = {}) =>
    moltstation.runFlappyBotsFlapper({ baseUrl: `${recorder.proxyUrl}/moltstation`, seed, stopAfterTick: 15, ...extra });

  /**
   * A run ending as `Recorder.endStream` writes it: the run's stream, its outcome event and both outbox rows in
   * one append (same payload and dedupe keys), then the session marked ended.
   */
  async function endRunDirectly(platform: Platform, game: string | null, source: string | null): Promise<{ sessionId: string; platformSessionId: string }> {
    const sessionId = randomUUID();
    const platformSessionId = `${platform}-${randomBytes(6).toString('hex')}`;
    const agent = `agent-${randomBytes(3).toString('hex')}`;
    await store.openSession({ id: sessionId, platform, game, platformSessionId, agent, source, startedAt: new Date(), metadata: { stream: 'proxy', capturedBy: 'test' } });
    const outcome: Record<string, unknown> = { platform, game, platformSessionId, agent, score: 42, reason: 'GAME_OVER' };
    const payload = { sessionId, platform, game, platformSessionId, agent, source, outcome };
    const run = `${platform}:${platformSessionId}`;
    const outbox: NewOutboxMessage[] = [
      { sessionId, queue: 'snapshot-submission', jobName: 'snapshot', payload, dedupeKey: `snapshot-submission:${run}` },
      { sessionId, queue: 'reward-handoff', jobName: 'reward', payload, dedupeKey: `reward-handoff:${run}` },
    ];
    const nowUs = Date.now() * 1000;
    await store.append(
      [{ sessionId, seq: 1, kind: 'outcome', direction: 'internal', channel: 'internal', recordedAtUs: nowUs, offsetUs: 0, format: 'json', body: JSON.stringify(outcome), msgType: 'outcome' }],
      outbox,
    );
    await store.endSession(sessionId, new Date(), outcome);
    return { sessionId, platformSessionId };
  }

  it('given Redis cut while runs end, then rows wait and nothing is handed off; when Redis is back, every outcome is handed off exactly once', async () => {
    const u = new URL(testRedisUrl());
    const forwarder = await TcpForwarder.start(u.hostname, Number(u.port));
    cleanups.push(() => forwarder.close());
    const pipeline = await start({ redisUrl: forwarder.urlFor(testRedisUrl()) });
    cleanups.push(() => forwarder.resume()); // closes after the pipeline (LIFO), so it can close cleanly
    const direct = inspectQueues();

    forwarder.pause();
    // Three runs end through the recorder's proxy: two practice runs, one agent_api run the bot snapshots itself.
    const runs = await Promise.all([flappyRun('down-a', { source: 'browser_ws' }), flappyRun('down-b', { source: 'browser_ws' }), flappyRun('down-c')]);
    const ids = runs.map((r) => r.sessionId);
    expect(runs.map((r) => r.closeReason)).toEqual(['GAME_OVER', 'GAME_OVER', 'GAME_OVER']);
    const rows = (await Promise.all(ids.map((id) => rowsOfRun('moltstation', id)))).flat();
    expect(rows).toHaveLength(9); // snapshot, handoff and audit per run

    // The relay tried while Redis was away: every row waits, with its attempt and the error noted.
    const waiting = await until('relay attempts noted on every row', async () => {
      const now = (await Promise.all(ids.map((id) => outboxOf('moltstation', id)))).flat();
      return now.every((r) => r.attempts >= 1) && now;
    });
    expect(waiting.every((r) => r.relayed_at === null && (r.last_error ?? '').length > 0)).toBe(true);
    expect(pipeline.relay.counters.failedRounds).toBeGreaterThan(0);
    for (const r of rows) expect(await direct[r.queue as PipelineQueue].getJob(r.id)).toBeUndefined();
    expect((await handoffs()).filter((h) => ids.includes(h.body.platformSessionId ?? ''))).toEqual([]);

    forwarder.resume();
    await until('three handoffs', async () => (await handoffs()).filter((h) => ids.includes(h.body.platformSessionId ?? '')).length >= 3, 30_000);
    await until(
      'every row relayed and every job finished',
      async () => {
        const now = (await Promise.all(ids.map((id) => outboxOf('moltstation', id)))).flat();
        return now.every((r) => r.relayed_at !== null && r.last_error === null) && (await settled(direct));
      },
      30_000,
    );

    const received = (await handoffs()).filter((h) => ids.includes(h.body.platformSessionId ?? ''));
    expect(received.map((h) => h.body.platformSessionId).sort()).toEqual([...ids].sort());
    expect(received.map((h) => h.deliveries)).toEqual([1, 1, 1]);
    for (const r of rows) {
      const job = await direct[r.queue as PipelineQueue].getJob(r.id);
      expect(await job?.isCompleted()).toBe(true);
      if (r.queue === 'reward-handoff') {
        expect(received.map((h) => h.idempotencyKey)).toContain(r.id);
        expect(job!.returnvalue).toMatchObject({ status: 'handed-off', httpStatus: 201, duplicate: false });
      }
    }
    // The agent_api run was snapshotted by its bot: the job saw that and did not submit a second one.
    const agentSnapshot = await direct['snapshot-submission'].getJob(snapshotRow(await outboxOf('moltstation', runs[2]!.sessionId)).id);
    expect(agentSnapshot!.returnvalue).toMatchObject({ status: 'already-snapshotted' });
  }, 60_000);

  it('given the endpoint times out after processing (answer lost), when the job retries, then the idempotency key absorbs it: listed once, deliveries 2, job duplicate: true', async () => {
    const run = await flappyRun('timeout-a', { source: 'browser_ws' });
    const reward = rewardRow(await rowsOfRun('moltstation', run.sessionId));
    addRewardsFault({ fault: 'timeout', target: reward.id, params: { ms: 10_000, commit: true }, times: 1 });

    const pipeline = await start({ requestTimeoutMs: 1000 });
    const job = await until('handoff job completed', async () => {
      const j = await pipeline.queues['reward-handoff'].getJob(reward.id);
      // Read again once completed: the job read before may hold its fields from before (returnvalue null).
      return (await j?.isCompleted()) && (await pipeline.queues['reward-handoff'].getJob(reward.id))!;
    });
    expect(job.returnvalue).toMatchObject({ status: 'handed-off', httpStatus: 200, duplicate: true });
    expect(job.attemptsMade).toBe(2);

    const mine = (await handoffs()).filter((h) => h.body.platformSessionId === run.sessionId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ idempotencyKey: reward.id, deliveries: 2 });
    expect(job.returnvalue.receiptId).toBe(mine[0]!.id);

    const events = await pipelineEvents(reward.id);
    expect(events.map((e) => e.msgType)).toEqual(['attempt', 'POST /rewards/handoffs', 'call-failed', 'attempt-failed', 'attempt', 'POST /rewards/handoffs', 'POST /rewards/handoffs', 'result']);
    // The client's own 1 s limit ended the call (not the endpoint's 10 s hold).
    expect(events.find((e) => e.msgType === 'call-failed')!.body).toMatch(/no answer within 1000 ms/);
  }, 60_000);

  it('given the worker process SIGKILLed mid-handoff, when another worker takes the stalled job over, then it completes and the endpoint holds the run once; the job stream has both attempts', async () => {
    const run = await flappyRun('kill-a', { source: 'browser_ws' });
    const rows = await rowsOfRun('moltstation', run.sessionId);
    const reward = rewardRow(rows);
    // The endpoint takes the handoff and then sits on the answer: the child's job is mid-call.
    addRewardsFault({ fault: 'timeout', target: reward.id, params: { ms: 45_000, commit: true }, times: 1 });
    const direct = inspectQueues();

    const child: ChildProcess = spawn(process.execPath, ['-r', join(ROOT, 'scripts', 'register.js'), CHILD], {
      cwd: ROOT,
      env: {
        ...process.env,
        REWIND_PIPELINE_CHILD: JSON.stringify({
          databaseUrl: db.url,
          redisUrl: testRedisUrl(),
          prefix: prefix(),
          keyHex: key.toString('hex'),
          rewardsUrl: `${sim.rewardsUrl}/handoffs`,
          moltstationUrl: sim.baseUrl('moltstation'),
          requestTimeoutMs: 60_000,
          attempts: 4,
          lockDurationMs: 3000,
          stalledIntervalMs: 2000,
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let childOut = '';
    child.stdout!.on('data', (d: Buffer) => (childOut += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (childOut += d.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });

    await until('child ready', async () => childOut.includes('ready') || (child.exitCode !== null && Promise.reject(new Error(`child exited: ${childOut}`))), 20_000);
    // Mid-job: the endpoint has recorded the handoff (commit before the hold) and the job is active.
    await until('handoff taken by the endpoint, job active', async () => {
      const j = await direct['reward-handoff'].getJob(reward.id);
      return (await j?.isActive()) && (await handoffs()).some((h) => h.idempotencyKey === reward.id);
    });
    const before = await pipelineEvents(reward.id);
    expect(before.map((e) => e.msgType)).toEqual(['attempt', 'POST /rewards/handoffs']);

    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(await (await direct['reward-handoff'].getJob(reward.id))!.isActive()).toBe(true); // orphaned: its lock is left to expire

    // Another worker. BullMQ gives the orphan back after stalled checks find the dead worker's lock expired:
    // with a 3 s lock and 2 s checks (the defaults are 30 s each) within a few seconds.
    const pipeline = await start({ requestTimeoutMs: 5000, lockDurationMs: 3000, stalledIntervalMs: 2000 });
    const job = await until(
      'taken-over job completed',
      async () => {
        const j = await pipeline.queues['reward-handoff'].getJob(reward.id);
        // Read again once completed: the job read before may hold its fields from before (returnvalue null).
        return (await j?.isCompleted()) && (await pipeline.queues['reward-handoff'].getJob(reward.id))!;
      },
      30_000,
    );
    expect(job.returnvalue).toMatchObject({ status: 'handed-off', httpStatus: 200, duplicate: true });

    // Exactly once as a handoff. deliveries is 2: the first call was processed (committed) by the endpoint,
    // the worker died before reading the answer, and the take-over re-sent it with the same Idempotency-Key.
    const mine = (await handoffs()).filter((h) => h.body.platformSessionId === run.sessionId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ idempotencyKey: reward.id, deliveries: 2 });

    const events = await pipelineEvents(reward.id);
    expect(events.map((e) => e.msgType)).toEqual(['attempt', 'POST /rewards/handoffs', 'attempt', 'POST /rewards/handoffs', 'POST /rewards/handoffs', 'result']);
    expect(events.filter((e) => e.kind === 'request')).toHaveLength(2);
    expect(events.filter((e) => e.kind === 'response')).toHaveLength(1);
  }, 60_000);

  it('given two pipelines (two relays, two worker sets) on the same database and queues, when many runs end, then each run is handed off exactly once', async () => {
    const a = await start();
    const b = await start();
    const N = 30;
    const runs = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        i % 3 === 0 ? endRunDirectly('rgs', 'dice', null) : i % 3 === 1 ? endRunDirectly('spacemolt', null, null) : endRunDirectly('moltstation', 'flappybots', 'browser_ws'),
      ),
    );
    const ids = new Set(runs.map((r) => r.platformSessionId));
    const mine = async () => (await handoffs()).filter((h) => ids.has(h.body.platformSessionId ?? ''));
    await until(`${N} handoffs`, async () => (await mine()).length >= N, 30_000);
    await until(
      'both relays idle, every job finished',
      async () => {
        const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL');
        return rows[0]!.n === 0 && (await settled(a.queues));
      },
      30_000,
    );

    const received = await mine();
    expect(received).toHaveLength(N);
    expect(new Set(received.map((h) => h.body.platformSessionId)).size).toBe(N);
    expect(received.every((h) => h.deliveries === 1)).toBe(true);
    // Every row relayed by exactly one of the relays, once.
    const { rows } = await pool.query<OutboxRow>('SELECT o.id, o.queue, o.relayed_at, o.attempts, o.last_error FROM outbox o WHERE o.session_id = ANY($1::uuid[])', [runs.map((r) => r.sessionId)]);
    expect(rows).toHaveLength(2 * N);
    expect(rows.every((r) => r.relayed_at !== null && r.attempts === 1)).toBe(true);
    expect(a.relay.counters.relayed + b.relay.counters.relayed).toBe(2 * N);
    const completed = await a.queues['reward-handoff'].getCompleted(0, 999);
    expect(completed.filter((j) => rows.some((r) => r.id === j.id))).toHaveLength(N);
    expect(completed.every((j) => j.returnvalue?.duplicate === false)).toBe(true);
  }, 60_000);

  it('given an agent_api run ended without a snapshot and the agent resolving SNAPSHOT_REQUIRED itself, when the pipeline starts, then the snapshot job ends already-snapshotted without a second snapshot call', async () => {
    // The pipeline is not running while the agent plays.
    const first = await flappyRun('snapreq', { snapshot: false });
    expect(first.closeReason).toBe('GAME_OVER');
    expect(first.snapshot).toBeUndefined();
    const detail = async (id: string) => (await (await fetch(`${sim.baseUrl('moltstation')}/api/games/flappybots/sessions/${id}`)).json()) as { status: string; snapshotted: boolean };
    expect(await detail(first.sessionId)).toMatchObject({ status: 'ended', snapshotted: false });

    // Same wallet, next agent_api session: 409 SNAPSHOT_REQUIRED, which the bot resolves by snapshotting the first run.
    const second = await flappyRun('snapreq');
    expect(second.sessionId).not.toBe(first.sessionId);
    expect(await detail(first.sessionId)).toMatchObject({ snapshotted: true });
    expect(second.snapshot).toMatchObject({ ok: true, sessionId: second.sessionId });
    // The platform's snapshot is once per session: another call is refused, so the state holds one snapshot.
    const firstRows = await rowsOfRun('moltstation', first.sessionId);
    const secondRows = await rowsOfRun('moltstation', second.sessionId);
    expect([...firstRows, ...secondRows].every((r) => r.relayed_at === null)).toBe(true);

    const pipeline = await start();
    const snapJob = async (row: OutboxRow) =>
      until(`snapshot job ${row.id} finished`, async () => {
        const j = await pipeline.queues['snapshot-submission'].getJob(row.id);
        // Read again once finished: a job read just before isCompleted() turned true has no returnvalue yet.
        return ((await j?.isCompleted()) || (await j?.isFailed())) && (await pipeline.queues['snapshot-submission'].getJob(row.id));
      });
    const job = await snapJob(snapshotRow(firstRows));
    expect(await job.isCompleted()).toBe(true);
    expect(job.returnvalue).toMatchObject({ status: 'already-snapshotted' });
    expect(job.attemptsMade).toBe(1);
    const events = await pipelineEvents(snapshotRow(firstRows).id);
    expect(events.map((e) => e.msgType)).toEqual(['attempt', `GET /api/games/flappybots/sessions/${first.sessionId}`, `GET /api/games/flappybots/sessions/${first.sessionId}`, 'result']);
    expect(events.some((e) => (e.msgType ?? '').includes('/api/rewards/snapshot'))).toBe(false);

    const secondJob = await snapJob(snapshotRow(secondRows));
    expect(secondJob.returnvalue).toMatchObject({ status: 'already-snapshotted' });
    expect(await detail(first.sessionId)).toMatchObject({ status: 'ended', snapshotted: true });
    await until('both runs handed off', async () => (await handoffs()).filter((h) => [first.sessionId, second.sessionId].includes(h.body.platformSessionId ?? '')).length === 2);
    expect(await pipeline.deadLetters()).toEqual([]);
  }, 60_000);
  it('given runs whose outbox payload has no source (the spectator stream ended first), when the snapshot job runs, then the platform detail decides: agent_api submitted, browser_ws skipped', async () => {
    const [agent, practice] = await Promise.all([flappyRun('nosrc-a', { snapshot: false }), flappyRun('nosrc-b', { source: 'browser_ws' })]);
    const agentRows = await rowsOfRun('moltstation', agent.sessionId);
    const practiceRows = await rowsOfRun('moltstation', practice.sessionId);
    const ids = [...agentRows, ...practiceRows].map((r) => r.id);
    expect(await tamper(pool, `UPDATE outbox SET payload = jsonb_set(payload, '{source}', 'null') WHERE id = ANY($1::uuid[])`, [ids])).toBe(6);

    const pipeline = await start();
    const finished = (row: OutboxRow) =>
      until(`snapshot job ${row.id} finished`, async () => {
        const j = await pipeline.queues['snapshot-submission'].getJob(row.id);
        // Read again once completed: the job read before may hold its fields from before (returnvalue null).
        return (await j?.isCompleted()) && (await pipeline.queues['snapshot-submission'].getJob(row.id))!;
      });
    expect((await finished(snapshotRow(agentRows))).returnvalue).toMatchObject({ status: 'submitted', httpStatus: 200 });
    expect((await finished(snapshotRow(practiceRows))).returnvalue).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/browser_ws run is practice/) });
    const detail = (await (await fetch(`${sim.baseUrl('moltstation')}/api/games/flappybots/sessions/${agent.sessionId}`)).json()) as { snapshotted: boolean };
    expect(detail.snapshotted).toBe(true);
  }, 60_000);
});
