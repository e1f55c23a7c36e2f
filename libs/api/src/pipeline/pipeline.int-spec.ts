import { randomBytes, randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import { bullConnection, jobOptions } from '@rewind/pipeline';
import { testDatabaseUrl, testRedisUrl, waitFor } from '@rewind/testing';
import { startApi } from '../api';

const readKey = `read-${randomBytes(12).toString('hex')}`;
const adminKey = `admin-${randomBytes(12).toString('hex')}`;

describe('pipeline operations in the API: dead letters, retry, metrics, Bull Board', () => {
  let app: INestApplication;
  let base: string;
  const prefix = `api-${randomUUID().slice(0, 8)}`;
  let queue: Queue;
  const jobId = randomUUID();

  beforeAll(async () => {
    app = await startApi({
      databaseUrl: testDatabaseUrl(),
      redisUrl: testRedisUrl(),
      queuePrefix: prefix,
      port: 0,
      logger: false,
      replay: { apiKeys: [`${readKey}:read`, `${adminKey}:admin`], secret: randomBytes(32) },
    });
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    // A handoff whose only attempt fails: a dead letter.
    queue = new Queue('reward-handoff', { connection: bullConnection(testRedisUrl()), prefix });
    await queue.add('reward', { sessionId: 'run-1', platform: 'rgs', platformSessionId: 'rgs-1' }, { ...jobOptions({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 }), jobId });
    const worker = new Worker(
      'reward-handoff',
      async () => {
        throw new Error('the rewards pipeline answered 500');
      },
      { connection: bullConnection(testRedisUrl()), prefix },
    );
    await waitFor('the reward-handoff job to fail', () => queue.getFailedCount(), { until: (n) => n > 0 });
    await worker.close();
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await app.close();
  });

  it('Bull Board at /queues: admin keys only (401 without a key, 403 for a read key); its API lists the three queues with the dead letter', async () => {
    expect((await fetch(`${base}/queues`)).status).toBe(401);
    expect((await fetch(`${base}/queues/api/queues`)).status).toBe(401);
    expect((await fetch(`${base}/queues`, { headers: { authorization: 'Bearer not-a-key-0123456789' } })).status).toBe(401);
    expect((await fetch(`${base}/queues`, { headers: { authorization: `Bearer ${readKey}` } })).status).toBe(403);
    expect((await fetch(`${base}/queues/api/queues`, { headers: { 'x-api-key': readKey } })).status).toBe(403);
    expect((await fetch(`${base}/queues`, { headers: { cookie: `rewind_api_key=${readKey}` } })).status).toBe(403); // the viewer's cookie, a read key

    const page = await fetch(`${base}/queues`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<div id="root">/);
    const api = await fetch(`${base}/queues/api/queues?activeQueue=reward-handoff&status=failed&page=1`, { headers: { 'x-api-key': adminKey } });
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: { name: string; counts: Record<string, number>; jobs: { id: string }[] }[] };
    expect(queues.map((q) => q.name).sort()).toEqual(['reward-handoff', 'run-audit', 'snapshot-submission']);
    const reward = queues.find((q) => q.name === 'reward-handoff')!;
    expect(reward.counts['failed']).toBe(1);
    expect(reward.jobs.map((j) => j.id)).toEqual([jobId]);
  });

  it('Bull Board in a browser: /queues?key=<admin key> sets an HttpOnly cookie for /queues and redirects without the key; a read key is refused', async () => {
    expect((await fetch(`${base}/queues?key=${readKey}`, { redirect: 'manual' })).status).toBe(403);
    const login = await fetch(`${base}/queues?key=${encodeURIComponent(adminKey)}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/queues');
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^rewind_queues_key=[^;]+; Path=\/queues; HttpOnly; SameSite=Strict/);
    const page = await fetch(`${base}/queues`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('lists the dead letter, shows it in /metrics, retries it, and answers 404 for an unknown job', async () => {
    const read = { authorization: `Bearer ${readKey}` };
    const admin = { authorization: `Bearer ${adminKey}` };
    const list = (await (await fetch(`${base}/api/pipeline/dead-letters`, { headers: read })).json()) as { deadLetters: { jobId: string; failedReason: string; platform: string }[] };
    expect(list.deadLetters).toEqual([expect.objectContaining({ jobId, platform: 'rgs', failedReason: 'the rewards pipeline answered 500', queue: 'reward-handoff' })]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('rewind_queue_jobs{queue="reward-handoff",state="failed"} 1');
    expect(metrics).toMatch(/rewind_outbox_pending\{queue="snapshot-submission"\} \d+/);
    expect((await fetch(`${base}/api/pipeline/dead-letters/${jobId}/retry`, { method: 'POST', headers: read })).status).toBe(403);
    const missing = await fetch(`${base}/api/pipeline/dead-letters/${randomUUID()}/retry`, { method: 'POST', headers: admin });
    expect(missing.status).toBe(404);
    const retried = await fetch(`${base}/api/pipeline/dead-letters/${jobId}/retry`, { method: 'POST', headers: admin });
    expect({ status: retried.status, body: await retried.json() }).toEqual({ status: 200, body: { retried: 1 } });
    expect(await queue.getFailedCount()).toBe(0);
    expect(await (await queue.getJob(jobId))?.getState()).toBe('waiting');
  });
});
