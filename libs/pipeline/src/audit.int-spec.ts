import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { AuditService, Finding, listRunAnchors, loadRunEvidence, StoredAudit } from '@rewind/audit';
import { moltstation, runCloudplayLauncher, runRgsBot, runSpaceMoltHttpMiner, runSpaceMoltWsMiner } from '@rewind/agents';
import { bullmqScheduler, RunningRecorderService, RunSignalBoard, startRecorderService, taskRunners } from '@rewind/capture';
import { CredentialVault } from '@rewind/scaleout';
import { EventStore } from '@rewind/event-store';
import { RunningPipeline, startPipeline } from './service';
import { startSimulator, RunningSimulator } from '@rewind/simulator';
import { createMigratedScratchDatabase, ScratchDatabase, tamper, testRedisUrl, waitFor } from '@rewind/testing';

const PLATFORMS = ['moltstation', 'spacemolt', 'cloudplay', 'rgs'] as const;

/**
 * Every platform played through the recorder (proxy, spectator, pollers) with the outcome pipeline running:
 * each run is audited automatically when its jobs are done; then the database is edited behind Rewind's back
 * and the audit names what changed.
 */
describe('audits of recorded runs (real simulator, recorder, pipeline, Postgres and Redis)', () => {
  let sim: RunningSimulator;
  let recorder: RunningRecorderService;
  let pipeline: RunningPipeline;
  let vault: CredentialVault;
  let db: ScratchDatabase;
  let pool: Pool;
  let store: EventStore;
  let audits: AuditService;
  let dataDir: string;
  const key = randomBytes(32);
  const prefix = `audit-${randomUUID().slice(0, 8)}`;
  const logs: string[] = [];
  const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(`ERROR ${m}`) };
  let flappySessionId = '';

  beforeAll(async () => {
    db = await createMigratedScratchDatabase();
    pool = db.pool;
    store = new EventStore(pool);
    dataDir = mkdtempSync(join(tmpdir(), 'rewind-audit-'));
    sim = await startSimulator({ port: 0, seed: 'audit', platformOptions: { spacemolt: { tickMs: 50 }, cloudplay: { timeScale: 0.001 }, rgs: { sessionTtlMs: 1500 } } });
    vault = new CredentialVault({ redis: testRedisUrl(), secret: key, log });
    const signals = new RunSignalBoard(vault, log);
    const upstreams = Object.fromEntries(PLATFORMS.map((p) => [p, sim.baseUrl(p)]));
    recorder = await startRecorderService({
      databaseUrl: db.url,
      proxyPort: 0,
      upstreams,
      dataDir,
      instance: 'audit-e2e',
      redactionKey: key,
      sealAfterMs: 200,
      accountIdleMs: 200,
      rgsSessionTtlMs: 1500,
      signals,
      scheduler: bullmqScheduler({ redisUrl: testRedisUrl(), holder: 'audit-e2e', concurrency: 20, queueName: `audit-e2e-${randomUUID().slice(0, 8)}`, log }),
      runners: taskRunners({ upstreams, signals, pollIntervalMs: 100, rgsSessionTtlMs: 1500 }),
      log,
    });
    pipeline = await startPipeline({
      databaseUrl: db.url,
      redisUrl: testRedisUrl(),
      prefix,
      key,
      rewardsUrl: `${sim.rewardsUrl}/handoffs`,
      moltstationUrl: sim.baseUrl('moltstation'),
      retry: { attempts: 6, backoffMs: 200, maxBackoffMs: 1000 },
      concurrency: 4,
      requestTimeoutMs: 2000,
      relayIntervalMs: 50,
      log,
    });
    audits = new AuditService(pool, store, { rewardsUrl: `${sim.rewardsUrl}/handoffs` });
    const base = (p: string) => `${recorder.proxyUrl}/${p}`;
    const [flappy] = await Promise.all([
      moltstation.runFlappyBotsFlapper({ baseUrl: base('moltstation'), seed: 'audit-f', stopAfterTick: 40 }),
      moltstation.runShellRunnersSteerer({ baseUrl: base('moltstation'), seed: 'audit-s', exitAfterTick: 30 }),
      runSpaceMoltWsMiner({ baseUrl: base('spacemolt'), seed: 'audit-ws', cycles: 1 }),
      runSpaceMoltHttpMiner({ baseUrl: base('spacemolt'), seed: 'audit-http', cycles: 1 }),
      runCloudplayLauncher({ baseUrl: base('cloudplay'), seed: 'audit', token: `audit-${randomBytes(8).toString('hex')}`, keepalives: 1, keepaliveIntervalMs: 50, pollIntervalMs: 30 }),
      runRgsBot({ baseUrl: base('rgs'), seed: 'audit', diceRounds: 3, minesRounds: 1 }),
    ]);
    flappySessionId = flappy.sessionId;
  }, 90_000);

  afterAll(async () => {
    await pipeline?.close();
    await recorder?.close();
    await vault?.close();
    await sim?.close();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const problems = (a: StoredAudit, status: Finding['status']) => a.findings.filter((f) => f.status === status).map((f) => `${f.check}${f.subject ? ` (${f.subject})` : ''}: ${f.detail}`);
  const pipelineAudits = async () => (await pool.query<{ run_key: string; status: string; findings: Finding[] }>(`SELECT run_key, status, findings FROM audits WHERE trigger = 'pipeline'`)).rows;

  it('given every platform played to its end, when the pipeline is done, then each run is audited automatically with no mismatch', async () => {
    const anchors = await waitFor(
      'every run ended',
      async () => {
        const ids = await listRunAnchors(pool);
        const ended = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sessions WHERE id = ANY($1::uuid[]) AND status <> 'open'`, [ids]);
        return ids.length >= 7 && ended.rows[0]!.n === ids.length && ids;
      },
      30_000,
      200,
    );
    const rows = await waitFor(
      'an automatic audit of every run',
      async () => {
        const r = await pipelineAudits();
        return new Set(r.map((x) => x.run_key)).size >= anchors.length && r;
      },
      60_000,
      200,
    );
    const platforms = new Set(rows.map((r) => r.run_key.split(':')[0]));
    expect([...platforms].sort()).toEqual([...PLATFORMS].sort());
    const mismatches = rows.flatMap((r) => r.findings.filter((f) => f.status === 'mismatch').map((f) => `${r.run_key} ${f.check}: ${f.detail}`));
    expect(mismatches).toEqual([]);
    // Every run's chains were checked and its handoff compared with its outcome.
    for (const r of rows) {
      expect({ run: r.run_key, chain: r.findings.some((f) => f.check === 'chain' && f.status === 'ok') }).toEqual({ run: r.run_key, chain: true });
      expect({ run: r.run_key, reward: r.findings.find((f) => f.check === 'pipeline.reward-body')?.status }).toEqual({ run: r.run_key, reward: 'ok' });
    }
  }, 120_000);

  it('given the RGS rounds of the simulator, when audited, then every revealed round verifies (commitment, outcome, multiplier, payout) and balances are continuous', async () => {
    const [{ id }] = (await pool.query<{ id: string }>(`SELECT id FROM sessions WHERE platform = 'rgs' AND metadata->>'stream' = 'run' ORDER BY started_at LIMIT 1`)).rows as [{ id: string }];
    const a = (await audits.auditSession(id, 'on-demand')) as StoredAudit;
    expect(problems(a, 'mismatch')).toEqual([]);
    const fair = a.findings.filter((f) => f.check.startsWith('rgs.') && f.check.includes('provably-fair'));
    expect(fair.some((f) => f.status === 'ok')).toBe(true);
    expect(a.findings.some((f) => f.check === 'rgs.balance' && f.status === 'ok')).toBe(true);
  });

  /** The event of a run whose body contains `needle` (first match), for editing it behind Rewind's back. */
  async function eventWith(platform: string, needle: string, role?: string) {
    const { rows } = await pool.query<{ session_id: string; seq: number; body_text: string }>(
      `SELECT e.session_id, e.seq, e.body_text FROM events e JOIN sessions s ON s.id = e.session_id
        WHERE s.platform = $1 AND e.body_text LIKE '%' || $2 || '%' ${role ? `AND s.metadata->>'capturedBy' = $3` : ''} ORDER BY s.started_at, e.seq LIMIT 1`,
      role ? [platform, needle, role] : [platform, needle],
    );
    if (!rows[0]) throw new Error(`no ${platform} event with ${needle}`);
    return rows[0];
  }

  /**
   * Runs `edit`, which tampers with the named events, then puts those rows back exactly as they were (bytes,
   * hashes and positions), even when an expectation failed: each test starts from the recorded truth.
   */
  async function restoringEvents(sessionId: string, seqs: number[], edit: () => Promise<void>): Promise<void> {
    const { rows } = await pool.query<{ row: unknown }>(`SELECT to_json(e) AS row FROM events e WHERE session_id = $1 AND seq = ANY($2::int[])`, [sessionId, seqs]);
    expect(rows).toHaveLength(seqs.length);
    try {
      await edit();
    } finally {
      await tamper(pool, 'DELETE FROM events WHERE session_id = $1 AND seq = ANY($2::int[])', [sessionId, seqs]);
      await tamper(pool, 'INSERT INTO events SELECT * FROM json_populate_recordset(NULL::events, $1::json)', [JSON.stringify(rows.map((r) => r.row))]);
    }
  }

  const chainMismatches = async (sessionId: string) => ((await audits.auditSession(sessionId, 'on-demand')) as StoredAudit).findings.filter((f) => f.check === 'chain' && f.status === 'mismatch');

  it('given a recorded frame edited in the database, when audited, then the chain finding names that exact event', async () => {
    const e = await eventWith('moltstation', '"phase":"running"', 'proxy');
    await restoringEvents(e.session_id, [e.seq], async () => {
      expect(await tamper(pool, `UPDATE events SET body_text = replace(body_text, '"phase":"running"', '"phase":"paused"') WHERE session_id = $1 AND seq = $2`, [e.session_id, e.seq])).toBe(1);
      const a = (await audits.auditSession(e.session_id, 'on-demand')) as StoredAudit;
      expect(a.status).toBe('mismatch');
      expect(a.findings.find((f) => f.check === 'chain' && f.status === 'mismatch')).toMatchObject({ at: { sessionId: e.session_id, seq: e.seq }, found: 'hash_mismatch' });
    });
    expect(await chainMismatches(e.session_id)).toEqual([]);
  });

  it('given an event deleted, or two events swapped, when audited, then the first broken link is named', async () => {
    const e = await eventWith('spacemolt', '"type":"get_status"');
    const original = await pool.query(`SELECT * FROM events WHERE session_id = $1 AND seq IN ($2, $2 + 1) ORDER BY seq`, [e.session_id, e.seq]);
    await restoringEvents(e.session_id, [e.seq, e.seq + 1], async () => {
      expect(await tamper(pool, 'DELETE FROM events WHERE session_id = $1 AND seq = $2', [e.session_id, e.seq])).toBe(1);
      let a = (await audits.auditSession(e.session_id, 'on-demand')) as StoredAudit;
      expect(a.findings.find((f) => f.check === 'chain' && f.status === 'mismatch')).toMatchObject({ at: { sessionId: e.session_id, seq: e.seq }, found: 'seq_gap' });

      // Put it back under the next event's seq and move that one here: a reorder.
      const [mine, next] = original.rows as [Record<string, unknown>, Record<string, unknown>];
      await tamper(pool, 'UPDATE events SET seq = $3 WHERE session_id = $1 AND seq = $2', [e.session_id, e.seq + 1, e.seq]);
      await tamper(
        pool,
        `INSERT INTO events (session_id, seq, global_position, tx_id, kind, direction, channel, recorded_at, offset_us, format, body_text, body_bytes, msg_type, tick, request_id, meta, hash)
         SELECT session_id, $2, global_position, tx_id, kind, direction, channel, recorded_at, offset_us, format, body_text, body_bytes, msg_type, tick, request_id, meta, hash
           FROM json_populate_record(NULL::events, $1::json)`,
        [JSON.stringify({ ...mine, hash: `\\x${(mine['hash'] as Buffer).toString('hex')}` }), e.seq + 1],
      );
      a = (await audits.auditSession(e.session_id, 'on-demand')) as StoredAudit;
      expect(a.findings.find((f) => f.check === 'chain' && f.status === 'mismatch')).toMatchObject({ at: { sessionId: e.session_id, seq: e.seq }, found: 'hash_mismatch' });
      expect(next['seq']).toBe(e.seq + 1);
    });
    expect(await chainMismatches(e.session_id)).toEqual([]);
  });

  it('given the stored outcome or the outbox payload altered, when audited, then the outcome and pipeline findings say what differs', async () => {
    const [{ id }] = (
      await pool.query<{ id: string }>(`SELECT id FROM sessions WHERE platform = 'moltstation' AND platform_session_id = $1 AND metadata->>'stream' = 'run' ORDER BY started_at LIMIT 1`, [
        flappySessionId,
      ])
    ).rows as [{ id: string }];
    const run = await loadRunEvidence(pool, store, id);
    const runStream = run!.runSessionId!;
    const { rows: before } = await pool.query<{ outcome: unknown; payload: unknown }>(
      `SELECT s.outcome, o.payload FROM sessions s JOIN outbox o ON o.session_id = s.id AND o.queue = 'reward-handoff' WHERE s.id = $1`,
      [runStream],
    );
    expect(before).toHaveLength(1);
    try {
      await tamper(pool, `UPDATE sessions SET outcome = jsonb_set(outcome, '{score}', '99999') WHERE id = $1`, [runStream]);
      await tamper(pool, `UPDATE outbox SET payload = jsonb_set(payload, '{outcome,score}', '99999') WHERE session_id = $1 AND queue = 'reward-handoff'`, [runStream]);
      const a = (await audits.auditSession(id, 'on-demand')) as StoredAudit;
      expect(a.findings.find((f) => f.check === 'outcome.stored' && f.status === 'mismatch')).toMatchObject({ subject: runStream, found: expect.objectContaining({ score: 99999 }) });
      expect(a.findings.find((f) => f.check === 'pipeline.outbox' && f.status === 'mismatch')).toMatchObject({ subject: 'reward-handoff', found: expect.objectContaining({ score: 99999 }) });
      // The served audit is the newest one.
      expect((await audits.latest(id))?.id).toBe(a.id);
    } finally {
      await tamper(pool, 'UPDATE sessions SET outcome = $2::jsonb WHERE id = $1', [runStream, JSON.stringify(before[0]!.outcome)]);
      await tamper(pool, `UPDATE outbox SET payload = $2::jsonb WHERE session_id = $1 AND queue = 'reward-handoff'`, [runStream, JSON.stringify(before[0]!.payload)]);
    }
    const again = (await audits.auditSession(id, 'on-demand')) as StoredAudit;
    expect(again.findings.filter((f) => (f.check === 'outcome.stored' || f.check === 'pipeline.outbox') && f.status === 'mismatch')).toEqual([]);
  });

  it('given the rewards pipeline holding an altered reward, when audited, then the receipt finding is a mismatch', async () => {
    const [{ id }] = (await pool.query<{ id: string }>(`SELECT id FROM sessions WHERE platform = 'cloudplay' AND metadata->>'stream' = 'run' ORDER BY started_at LIMIT 1`)).rows as [{ id: string }];
    // A rewards service whose record of each receipt was edited after the handoff (the duration doubled).
    const altered: Server = createServer((req, res) => {
      void fetch(`${sim.rewardsUrl}/handoffs/${(req.url ?? '').split('/').pop()}`).then(async (r) => {
        const record = (await r.json()) as { body: { outcome: Record<string, number> } };
        record.body.outcome['duration'] = (record.body.outcome['duration'] ?? 0) * 2 + 1;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(record));
      });
    });
    await new Promise<void>((r) => altered.listen(0, '127.0.0.1', r));
    try {
      const honest = (await audits.auditSession(id, 'on-demand')) as StoredAudit;
      expect(honest.findings.find((f) => f.check === 'pipeline.reward-receipt')?.status).toBe('ok');
      const viaAltered = new AuditService(pool, store, { rewardsUrl: `http://127.0.0.1:${(altered.address() as AddressInfo).port}/handoffs` });
      const a = (await viaAltered.auditSession(id, 'on-demand')) as StoredAudit;
      expect(a.status).toBe('mismatch');
      expect(a.findings.find((f) => f.check === 'pipeline.reward-receipt')).toMatchObject({ status: 'mismatch' });
    } finally {
      await new Promise((r) => altered.close(r));
    }
  });

  it('given a handoff result marker overwritten with text that is not JSON, when audited, then the audit still completes and names that event', async () => {
    const { rows } = await pool.query<{ session_id: string; seq: number }>(
      `SELECT e.session_id, e.seq FROM events e JOIN sessions s ON s.id = e.session_id
        WHERE s.platform = 'spacemolt' AND s.metadata->>'queue' = 'reward-handoff' AND e.msg_type = 'result' ORDER BY s.started_at LIMIT 1`,
    );
    const e = rows[0]!;
    await restoringEvents(e.session_id, [e.seq], async () => {
      expect(await tamper(pool, `UPDATE events SET body_text = 'not json {' WHERE session_id = $1 AND seq = $2`, [e.session_id, e.seq])).toBe(1);
      const a = (await audits.auditSession(e.session_id, 'on-demand')) as StoredAudit;
      expect(a.status).toBe('mismatch');
      expect(a.findings.filter((f) => f.check === 'chain' && f.status === 'mismatch')).toEqual([expect.objectContaining({ at: { sessionId: e.session_id, seq: e.seq }, found: 'hash_mismatch' })]);
    });
    expect(await chainMismatches(e.session_id)).toEqual([]);
  });

  it('given a recorded RGS round whose revealed server seed is forged, when audited, then provably-fair fails naming the round', async () => {
    const e = await eventWith('rgs', '"serverSeed":"');
    const seed = /"serverSeed":"([0-9a-f]{64})"/.exec(e.body_text)![1]!;
    const forged = seed.slice(0, 63) + (seed[63] === '0' ? '1' : '0');
    await restoringEvents(e.session_id, [e.seq], async () => {
      await tamper(pool, 'UPDATE events SET body_text = replace(body_text, $3, $4) WHERE session_id = $1 AND seq = $2', [e.session_id, e.seq, seed, forged]);
      const a = (await audits.auditSession(e.session_id, 'on-demand')) as StoredAudit;
      const fair = a.findings.filter((f) => f.check.includes('provably-fair') && f.status === 'mismatch');
      expect(fair.length).toBeGreaterThan(0);
      expect(fair.every((f) => typeof f.subject === 'string' && f.subject.length > 0)).toBe(true);
      expect(a.findings.find((f) => f.check === 'chain' && f.status === 'mismatch')).toMatchObject({ at: { sessionId: e.session_id, seq: e.seq } });
    });
    expect(await chainMismatches(e.session_id)).toEqual([]);
  });

  it('given every run, when summaries are rebuilt, then the figures equal what the raw events say', async () => {
    expect(await audits.rebuildSummaries()).toBeGreaterThanOrEqual(7);
    const { rows } = await pool.query<{ run_key: string; run_session_id: string; inputs: number; score: number | null; gaps: number; reward_status: string | null }>(`SELECT * FROM run_summaries`);
    for (const r of rows) {
      const [platform, psid] = [r.run_key.slice(0, r.run_key.indexOf(':')), r.run_key.slice(r.run_key.indexOf(':') + 1)];
      // Independently: the agent's own messages in the run's proxy stream(s).
      const { rows: counts } = await pool.query<{ inputs: number; gaps: number }>(
        `SELECT count(*) FILTER (WHERE e.direction = 'client_to_platform' AND s.metadata->>'capturedBy' = 'proxy')::int AS inputs,
                count(*) FILTER (WHERE e.kind = 'gap')::int AS gaps
           FROM events e JOIN sessions s ON s.id = e.session_id
          WHERE s.platform = $1 AND s.metadata->>'stream' = 'run' AND (s.platform_session_id = $2 OR s.id::text = $2)`,
        [platform, psid],
      );
      expect({ run: r.run_key, inputs: r.inputs, gaps: r.gaps }).toEqual({ run: r.run_key, inputs: counts[0]!.inputs, gaps: counts[0]!.gaps });
      expect({ run: r.run_key, reward: r.reward_status }).toEqual({ run: r.run_key, reward: 'handed-off' });
    }
    const flappy = rows.find((r) => r.run_key === `moltstation:${flappySessionId}`)!;
    const { rows: last } = await pool.query<{ body_text: string }>(
      `SELECT e.body_text FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.platform_session_id = $1 AND s.metadata->>'capturedBy' = 'proxy'
          AND e.body_text LIKE '{"t":"frame"%' ORDER BY e.seq DESC LIMIT 1`,
      [flappySessionId],
    );
    const frame = (JSON.parse(last[0]!.body_text) as { frame: { score: number | { current: number } } }).frame;
    expect(flappy.score).toBe(typeof frame.score === 'number' ? frame.score : frame.score.current);
  });
});
