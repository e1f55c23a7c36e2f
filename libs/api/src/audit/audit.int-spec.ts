import { randomBytes, randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import type { Pool } from 'pg';
import { EventStore, NewEvent } from '@rewind/event-store';
import { createTestPool, tamper, testDatabaseUrl, testRedisUrl } from '@rewind/testing';
import { startApi } from '../api';

/**
 * The audit and analytics endpoints over crafted MoltStation runs written as the recorder writes them:
 * frames and inputs on the play socket, the close, the outcome event with its outbox rows, the stored outcome.
 */
describe('audit and analytics API (real Postgres)', () => {
  let app: INestApplication;
  let base: string;
  let pool: Pool;
  let store: EventStore;
  const game = `g-${randomUUID().slice(0, 8)}`;
  const readKey = `read-${randomBytes(12).toString('hex')}`;
  const adminKey = `admin-${randomBytes(12).toString('hex')}`;
  const runs: { id: string; psid: string; inputs: number; score: number; agent: string }[] = [];

  /** A run of `frames` frames, an input after every `every`-th frame; the final frame ends it with `score`. */
  async function writeRun(agent: string, frames: number, every: number): Promise<void> {
    const id = randomUUID();
    const psid = `ms_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    await store.openSession({ id, platform: 'moltstation', game, platformSessionId: psid, agent, source: 'browser_ws', startedAt: new Date(), metadata: { stream: 'run', capturedBy: 'proxy' } });
    const events: NewEvent[] = [];
    const t0 = Date.now() * 1000;
    const push = (e: Omit<NewEvent, 'sessionId' | 'seq' | 'recordedAtUs'>) => events.push({ ...e, sessionId: id, seq: events.length + 1, recordedAtUs: t0 + e.offsetUs });
    let inputs = 0;
    for (let tick = 0; tick < frames; tick++) {
      const phase = tick === frames - 1 ? 'ended' : 'running';
      push({
        kind: 'frame',
        direction: 'platform_to_client',
        channel: 'play_ws',
        offsetUs: tick * 50_000,
        format: 'json',
        body: JSON.stringify({ t: 'frame', frame: { tick, phase, score: { current: tick * 2, high: tick * 2 }, ...(phase === 'ended' ? { gameOverReason: 'GROUND_COLLISION' } : {}) } }),
        tick,
        msgType: 'frame',
      });
      if (tick % every === 0 && phase !== 'ended') {
        push({ kind: 'input', direction: 'client_to_platform', channel: 'play_ws', offsetUs: tick * 50_000 + 7_000, format: 'json', body: '{"t":"input","action":"FLAP"}', tick, msgType: 'input' });
        inputs++;
      }
    }
    const end = frames * 50_000;
    push({
      kind: 'lifecycle',
      direction: 'platform_to_client',
      channel: 'play_ws',
      offsetUs: end,
      format: 'empty',
      body: null,
      msgType: 'ws-close',
      meta: JSON.stringify({ code: 1000, reason: 'GAME_OVER', initiator: 'platform' }),
    });
    const score = (frames - 1) * 2;
    const outcome = { platform: 'moltstation', game, platformSessionId: psid, agent, reason: 'GAME_OVER', phase: 'ended', tick: frames - 1, score, lives: null, gameOverReason: 'GROUND_COLLISION' };
    push({ kind: 'outcome', direction: 'internal', channel: 'internal', offsetUs: end + 1, format: 'json', body: JSON.stringify(outcome), msgType: 'outcome', tick: frames - 1 });
    const payload = { sessionId: id, platform: 'moltstation', game, platformSessionId: psid, agent, source: 'browser_ws', outcome };
    // Marked relayed already: no pipeline runs in this test (a relay elsewhere must not pick them up).
    await store.append(events, [{ sessionId: id, queue: 'reward-handoff', jobName: 'reward', payload, dedupeKey: `reward-handoff:test:${psid}` }]);
    await pool.query('UPDATE outbox SET relayed_at = now() WHERE session_id = $1', [id]);
    await store.endSession(id, new Date(), outcome);
    runs.push({ id, psid, inputs, score, agent });
  }

  beforeAll(async () => {
    pool = createTestPool(2);
    store = new EventStore(pool);
    app = await startApi({
      databaseUrl: testDatabaseUrl(),
      redisUrl: testRedisUrl(),
      queuePrefix: `api-a-${randomUUID().slice(0, 6)}`,
      port: 0,
      logger: false,
      replay: { apiKeys: [`${readKey}:read`, adminKey], secret: randomBytes(32) },
    });
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    await writeRun('agent-a', 40, 3);
    await writeRun('agent-a', 25, 2);
    await writeRun('agent-b', 60, 5);
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
  });

  const get = async (path: string) => {
    const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${readKey}` } });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  it('given a recorded run, when its audit is asked for, then the findings are served: chain and outcome ok, the missing handoff unverifiable with the reason', async () => {
    const { status, body } = await get(`/api/sessions/${runs[0]!.id}/audit`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ runKey: `moltstation:${runs[0]!.psid}`, platform: 'moltstation', runSessionId: runs[0]!.id, trigger: 'on-demand', status: 'unverifiable' });
    const findings = body['findings'] as { check: string; status: string; detail: string }[];
    expect(findings.find((f) => f.check === 'chain')).toMatchObject({ status: 'ok' });
    expect(findings.find((f) => f.check === 'outcome.stored')).toMatchObject({ status: 'ok' });
    expect(findings.filter((f) => f.check.startsWith('moltstation.outcome.')).every((f) => f.status === 'ok')).toBe(true);
    expect(findings.find((f) => f.check === 'pipeline.reward')).toMatchObject({ status: 'unverifiable', detail: expect.stringContaining('no reward handoff recorded') });
    // The second GET serves the stored audit, it does not audit again.
    expect((await get(`/api/sessions/${runs[0]!.id}/audit`)).body['id']).toBe(body['id']);
  });

  it("given a frame edited behind Rewind's back, when re-audited (POST), then the audit fails naming the event", async () => {
    const run = runs[2]!;
    expect(await tamper(pool, `UPDATE events SET body_text = replace(body_text, '"current":20', '"current":21') WHERE session_id = $1 AND seq = 13`, [run.id])).toBe(1);
    const asReader = await fetch(`${base}/api/sessions/${run.id}/audit`, { method: 'POST', headers: { authorization: `Bearer ${readKey}` } });
    expect(asReader.status).toBe(403); // re-auditing is an operator's action
    const r = await fetch(`${base}/api/sessions/${run.id}/audit`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}` } });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { status: string; findings: { check: string; status: string; at?: { sessionId: string; seq: number } }[] };
    expect(body.status).toBe('mismatch');
    expect(body.findings.find((f) => f.check === 'chain')).toMatchObject({ status: 'mismatch', at: { sessionId: run.id, seq: 13 } });
  });

  it('answers unknown and malformed ids with 404 and a message', async () => {
    for (const id of [randomUUID(), 'not-a-uuid']) {
      const { status, body } = await get(`/api/sessions/${id}/audit`);
      expect(status).toBe(404);
      expect(body).toMatchObject({ error: 'not_found', message: expect.stringContaining('no run with session') });
    }
  });

  it('given audited runs, when analytics are asked for, then each run row equals what its events say, filters and groups hold', async () => {
    for (const r of runs.slice(1, 2)) await get(`/api/sessions/${r.id}/audit`);
    const { status, body } = await get(`/api/analytics/runs?platform=moltstation&game=${game}`);
    expect(status).toBe(200);
    const rows = body['runs'] as { runKey: string; score: number; inputs: number; agent: string; auditStatus: string | null; reactionP50Ms: number | null }[];
    expect(rows.map((r) => r.runKey).sort()).toEqual(runs.map((r) => `moltstation:${r.psid}`).sort());
    for (const run of runs) {
      const row = rows.find((r) => r.runKey === `moltstation:${run.psid}`)!;
      expect({ score: row.score, inputs: row.inputs, agent: row.agent }).toEqual({ score: run.score, inputs: run.inputs, agent: run.agent });
      // Every input was followed by the next frame 43 ms later.
      expect(row.reactionP50Ms).toBeCloseTo(43, 3);
    }
    expect(rows.find((r) => r.runKey === `moltstation:${runs[2]!.psid}`)!.auditStatus).toBe('mismatch');

    const byAgent = (await get(`/api/analytics/runs?game=${game}&groupBy=agent`)).body as {
      groups: { key: string; runs: number; totalInputs: number; maxScore: number; audit: Record<string, number> }[];
    };
    const a = byAgent.groups.find((g) => g.key === 'agent-a')!;
    expect(a).toMatchObject({ runs: 2, totalInputs: runs[0]!.inputs + runs[1]!.inputs, maxScore: Math.max(runs[0]!.score, runs[1]!.score) });
    expect(byAgent.groups.find((g) => g.key === 'agent-b')).toMatchObject({ runs: 1, audit: { mismatch: 1 } });
    expect((await get(`/api/analytics/runs?agent=agent-b&game=${game}`)).body['runs']).toHaveLength(1);
  });

  it('refuses bad analytics parameters with 400 naming the parameter', async () => {
    for (const [q, name] of [
      ['groupBy=week', 'groupBy'],
      ['platform=chess', 'platform'],
      ['from=yesterday', 'from'],
      ['limit=0', 'limit'],
      ['auditStatus=fine', 'auditStatus'],
    ] as const) {
      const { status, body } = await get(`/api/analytics/runs?${q}`);
      expect({ q, status }).toEqual({ q, status: 400 });
      expect(String(body['message'])).toContain(name);
    }
  });
});
