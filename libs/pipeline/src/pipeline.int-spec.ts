import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { moltstation, runCloudplayLauncher, runRgsBot, runSpaceMoltWsMiner } from '@rewind/agents';
import { RunningRecorderService, RunSignalBoard, startRecorderService } from '@rewind/capture';
import { CredentialVault } from '@rewind/scaleout';
import { StoredEvent } from '@rewind/event-store';
import { startSimulator, RunningSimulator } from '@rewind/simulator';
import { createMigratedScratchDatabase, ScratchDatabase, testRedisUrl, waitFor } from '@rewind/testing';
import { RunningPipeline, startPipeline } from './service';

interface Handoff {
  id: string;
  idempotencyKey: string;
  body: { runSessionId: string; platform: string; platformSessionId: string | null; outcome: Record<string, unknown> };
  deliveries: number;
}

describe('the outcome pipeline: runs recorded through the proxy are snapshotted and handed off, exactly once', () => {
  let sim: RunningSimulator;
  let recorder: RunningRecorderService;
  let pipeline: RunningPipeline;
  let vault: CredentialVault;
  // A database of its own: the relay takes every unrelayed outbox row, and other test files write some too.
  let db: ScratchDatabase;
  let pool: Pool;
  let dataDir: string;
  const key = randomBytes(32);
  const prefix = `pipe-${randomUUID().slice(0, 8)}`;
  const logs: string[] = [];
  const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(`ERROR ${m}`) };

  beforeAll(async () => {
    db = await createMigratedScratchDatabase();
    pool = db.pool;
    dataDir = mkdtempSync(join(tmpdir(), 'rewind-pipeline-'));
    sim = await startSimulator({ port: 0, seed: 'pipeline', platformOptions: { spacemolt: { tickMs: 50 }, cloudplay: { timeScale: 0.001 }, rgs: { sessionTtlMs: 1500 } } });
    vault = new CredentialVault({ redis: testRedisUrl(), secret: key, log });
    recorder = await startRecorderService({
      databaseUrl: db.url,
      proxyPort: 0,
      upstreams: { moltstation: sim.baseUrl('moltstation'), spacemolt: sim.baseUrl('spacemolt'), cloudplay: sim.baseUrl('cloudplay'), rgs: sim.baseUrl('rgs') },
      dataDir,
      redactionKey: key,
      sealAfterMs: 200,
      accountIdleMs: 200,
      rgsSessionTtlMs: 1500,
      signals: new RunSignalBoard(vault, log),
      log,
    });
  });

  afterAll(async () => {
    await pipeline?.close();
    await recorder?.close();
    await vault?.close();
    await sim?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const handoffs = async (): Promise<Handoff[]> => ((await (await fetch(`${sim.rewardsUrl}/handoffs`)).json()) as { handoffs: Handoff[] }).handoffs;
  const start = (attempts = 4) =>
    startPipeline({
      databaseUrl: db.url,
      redisUrl: testRedisUrl(),
      prefix,
      key,
      rewardsUrl: `${sim.rewardsUrl}/handoffs`,
      moltstationUrl: sim.baseUrl('moltstation'),
      retry: { attempts, backoffMs: 100, maxBackoffMs: 400 },
      concurrency: 4,
      requestTimeoutMs: 1000,
      relayIntervalMs: 50,
      log,
    });
  const until = <T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T> => waitFor(what, f, { timeoutMs, intervalMs: 100 });
  async function pipelineEvents(jobId: string): Promise<StoredEvent[]> {
    const { rows } = await pool.query<{ id: string }>(`SELECT id FROM sessions WHERE metadata->>'jobId' = $1`, [jobId]);
    const out: StoredEvent[] = [];
    for (const r of rows) for await (const e of recorder.store.readSession(r.id)) out.push(e);
    return out;
  }
  const outboxOf = async (platform: string, platformSessionId: string) =>
    (
      await pool.query<{ id: string; queue: string }>(`SELECT o.id, o.queue FROM outbox o JOIN sessions s ON s.id = o.session_id WHERE s.platform = $1 AND s.platform_session_id = $2`, [
        platform,
        platformSessionId,
      ])
    ).rows;

  it('every platform: each run is handed off once; the MoltStation agent_api run is snapshotted; a browser_ws run is not; the rewards endpoint 500s twice first', async () => {
    sim.faults.add({ platform: 'rewards' as never, fault: 'status-500', times: 2 } as never);
    pipeline = await start();
    const base = (p: string) => `${recorder.proxyUrl}/${p}`;
    const [agentRun, practice] = await Promise.all([
      moltstation.runFlappyBotsFlapper({ baseUrl: base('moltstation'), seed: 'pipe-a', stopAfterTick: 20, snapshot: false }),
      moltstation.runFlappyBotsFlapper({ baseUrl: base('moltstation'), seed: 'pipe-b', stopAfterTick: 20, source: 'browser_ws' }),
      runSpaceMoltWsMiner({ baseUrl: base('spacemolt'), seed: 'pipe', cycles: 1 }),
      runCloudplayLauncher({ baseUrl: base('cloudplay'), seed: 'pipe', token: `pipe-${randomBytes(8).toString('hex')}`, keepalives: 1, keepaliveIntervalMs: 20, pollIntervalMs: 20 }),
      runRgsBot({ baseUrl: base('rgs'), seed: 'pipe', diceRounds: 2, minesRounds: 1 }),
    ]);
    // Runs: 2 MoltStation, 1 SpaceMolt, 1 cloud-play, 2 RGS (dice + mines, ended by expiry).
    const received = await until('six handoffs', async () => {
      const h = await handoffs();
      return h.length >= 6 && h;
    });
    await new Promise((r) => setTimeout(r, 500)); // deliberate, the subject: nothing more arrives (no duplicate handoff)
    expect((await handoffs()).length).toBe(6);
    expect(new Set(received.map((h) => h.idempotencyKey)).size).toBe(6);
    expect(received.map((h) => h.body.platform).sort()).toEqual(['cloudplay', 'moltstation', 'moltstation', 'rgs', 'rgs', 'spacemolt']);
    expect(received.every((h) => h.deliveries === 1)).toBe(true);

    const [snapshotRow] = (await outboxOf('moltstation', agentRun.sessionId)).filter((r) => r.queue === 'snapshot-submission');
    const job = await until('snapshot done', async () => {
      const j = await pipeline.queues['snapshot-submission'].getJob(snapshotRow!.id);
      // Read again once completed: the job read before may hold its fields from before (returnvalue null).
      return (await j?.isCompleted()) && (await pipeline.queues['snapshot-submission'].getJob(snapshotRow!.id))!;
    });
    expect(job.returnvalue).toMatchObject({ status: 'submitted', httpStatus: 200 });
    const detail = (await (await fetch(`${sim.baseUrl('moltstation')}/api/games/flappybots/sessions/${agentRun.sessionId}`)).json()) as { snapshotted: boolean };
    expect(detail.snapshotted).toBe(true);
    const events = await pipelineEvents(snapshotRow!.id);
    expect(events.map((e) => e.msgType)).toEqual([
      'attempt',
      'GET /api/games/flappybots/sessions/' + agentRun.sessionId,
      'GET /api/games/flappybots/sessions/' + agentRun.sessionId,
      'POST /api/rewards/snapshot',
      'POST /api/rewards/snapshot',
      'result',
    ]);
    expect(events.map((e) => String(e.meta ?? '')).join('')).toMatch(/\[redacted:[0-9a-f]{16}\]/);

    const [practiceSnapshot] = (await outboxOf('moltstation', practice.sessionId)).filter((r) => r.queue === 'snapshot-submission');
    const skipped = await until('practice skipped', async () => {
      const j = await pipeline.queues['snapshot-submission'].getJob(practiceSnapshot!.id);
      // Read again once completed: the job read before may hold its fields from before (returnvalue null).
      return (await j?.isCompleted()) && (await pipeline.queues['snapshot-submission'].getJob(practiceSnapshot!.id))!;
    });
    expect(skipped.returnvalue).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/browser_ws run is practice/) });
    // The two 500s were retried: some handoff job has two failed attempts recorded before its success.
    const rewardJobs = await pipeline.queues['reward-handoff'].getCompleted();
    const retried = [];
    for (const j of rewardJobs) if ((await pipelineEvents(String(j.id))).filter((e) => e.msgType === 'attempt-failed').length > 0) retried.push(j.id);
    expect(retried.length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('an endpoint that stays down: the job is dead-lettered after its attempts, listed, and a retry delivers it once', async () => {
    sim.faults.add({ platform: 'rewards' as never, fault: 'status-500', times: 1000 } as never);
    await moltstation.runFlappyBotsFlapper({ baseUrl: `${recorder.proxyUrl}/moltstation`, seed: 'pipe-dead', stopAfterTick: 10, source: 'browser_ws' });
    const dead = await until('dead letter', async () => {
      const d = await pipeline.deadLetters();
      return d.length > 0 && d;
    });
    expect(dead[0]).toMatchObject({ queue: 'reward-handoff', platform: 'moltstation', failedReason: expect.stringMatching(/answered 500/) });
    const events = await pipelineEvents(dead[0]!.jobId);
    expect(events.filter((e) => e.msgType === 'attempt')).toHaveLength(4);
    expect(events[events.length - 1]!.msgType).toBe('dead-letter');
    // Its attempts are over until a retry: the job's stream is ended (not sealed: the retry appends on).
    expect(await recorder.store.getSession(events[0]!.sessionId)).toMatchObject({ status: 'ended', outcome: { deadLetter: true } });
    await fetch(`${sim.url}/admin/faults`, { method: 'DELETE' });
    const before = (await handoffs()).length;
    expect(await pipeline.retry(dead[0]!.jobId)).toBe(1);
    await until('delivered after retry', async () => (await handoffs()).length === before + 1);
    expect(await pipeline.deadLetters()).toEqual([]);
    expect((await handoffs()).filter((h) => h.idempotencyKey === dead[0]!.jobId)).toHaveLength(1);
  }, 60_000);
});
