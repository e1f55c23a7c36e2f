import * as http from 'node:http';
import { RunningSimulator, startSimulator } from '../simulator';

interface Answer {
  status: number;
  headers: Headers;
  json: any;
}

/** POST /rewards/handoffs with an Idempotency-Key (omitted when null) and a JSON (or raw string) body. */
async function handoff(sim: RunningSimulator, key: string | null, body: unknown, init: { token?: string; signal?: AbortSignal } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers['idempotency-key'] = key;
  if (init.token !== undefined) headers['authorization'] = `Bearer ${init.token}`;
  const res = await fetch(`${sim.rewardsUrl}/handoffs`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body), signal: init.signal });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

async function received(sim: RunningSimulator): Promise<any[]> {
  const res = await fetch(`${sim.rewardsUrl}/handoffs`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { handoffs: any[] }).handoffs;
}

async function addFault(sim: RunningSimulator, spec: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(`${sim.url}/admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

const OUTCOME = { runId: 'run_1', platform: 'rgs', score: 42, agent: { id: 'a1', name: 'bot' } };

describe('rewards endpoint (reward handoff)', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 'rewards-test', now: () => Date.UTC(2025, 2, 9, 10, 15, 0, 123) });
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    await fetch(`${sim.url}/admin/faults`, { method: 'DELETE' });
    expect((await fetch(`${sim.rewardsUrl}/handoffs`, { method: 'DELETE' })).status).toBe(200);
  });

  it('is mounted at /rewards and is not a recorded platform', async () => {
    expect(sim.rewardsUrl).toBe(`${sim.url}/rewards`);
    const health = (await (await fetch(`${sim.url}/health`)).json()) as { platforms: string[] };
    expect(health.platforms).not.toContain('rewards');
  });

  it('records a new key: 201 with a seeded id, the key, receivedAt and duplicate false', async () => {
    const a = await handoff(sim, 'run_1/reward', OUTCOME);
    expect(a.status).toBe(201);
    expect(a.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(a.json).toEqual({ id: expect.stringMatching(/^rh_[0-9a-z]{21}$/), idempotencyKey: 'run_1/reward', receivedAt: '2025-03-09T10:15:00.123Z', duplicate: false });
    expect(await received(sim)).toEqual([{ id: a.json.id, idempotencyKey: 'run_1/reward', receivedAt: '2025-03-09T10:15:00.123Z', body: OUTCOME, deliveries: 1 }]);
    const one = await fetch(`${sim.rewardsUrl}/handoffs/${a.json.id}`);
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ id: a.json.id, body: OUTCOME, deliveries: 1 });
    const missing = await fetch(`${sim.rewardsUrl}/handoffs/rh_nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
  });

  it('absorbs a retry with the same key and body: 200, the original id, duplicate true, listed once with deliveries 2', async () => {
    const first = await handoff(sim, 'k-dup', OUTCOME);
    // Same JSON value, other key order: still the same body.
    const again = await handoff(sim, 'k-dup', { agent: { name: 'bot', id: 'a1' }, score: 42, platform: 'rgs', runId: 'run_1' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ ...first.json, duplicate: true });
    const list = await received(sim);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: first.json.id, deliveries: 2 });
  });

  it('refuses the same key with another body: 409 idempotency_conflict, nothing changed', async () => {
    const first = await handoff(sim, 'k-conflict', OUTCOME);
    const other = await handoff(sim, 'k-conflict', { ...OUTCOME, score: 43 });
    expect(other.status).toBe(409);
    expect(other.json).toMatchObject({ error: 'idempotency_conflict', message: expect.stringContaining(first.json.id) });
    expect(await received(sim)).toEqual([expect.objectContaining({ id: first.json.id, body: OUTCOME, deliveries: 1 })]);
  });

  it('answers 400 for a missing or malformed Idempotency-Key and for a bad body, recording nothing', async () => {
    expect(await handoff(sim, null, OUTCOME)).toMatchObject({ status: 400, json: { error: 'missing_idempotency_key' } });
    expect(await handoff(sim, 'x'.repeat(201), OUTCOME)).toMatchObject({ status: 400, json: { error: 'invalid_idempotency_key' } });
    expect(await handoff(sim, 'x'.repeat(200), OUTCOME)).toMatchObject({ status: 201 });
    await fetch(`${sim.rewardsUrl}/handoffs`, { method: 'DELETE' });
    for (const bad of ['{not json', '', '[1,2]', '"text"', 'null', '42']) {
      expect(await handoff(sim, `k-bad-${bad}`, bad)).toMatchObject({ status: 400, json: { error: 'invalid_body', message: expect.any(String) } });
    }
    expect(await received(sim)).toEqual([]);
  });

  it('answers 413 for a body over 256 KiB (and accepts one just under)', async () => {
    const big = { blob: 'x'.repeat(256 * 1024) };
    const tooBig = await handoff(sim, 'k-big', big);
    expect(tooBig.status).toBe(413);
    expect(tooBig.json).toMatchObject({ error: 'payload_too_large' });
    const fits = { blob: 'x'.repeat(256 * 1024 - 20) };
    expect(JSON.stringify(fits).length).toBeLessThanOrEqual(256 * 1024);
    expect((await handoff(sim, 'k-fits', fits)).status).toBe(201);
    expect((await received(sim)).map((h) => h.idempotencyKey)).toEqual(['k-fits']);
  });

  it('status-500 twice (times: 2), then success: only the success is recorded', async () => {
    expect(await addFault(sim, { platform: 'rewards', fault: 'status-500', times: 2 })).toMatchObject({ status: 201, json: { platform: 'rewards', fault: 'status-500' } });
    const a = await handoff(sim, 'k-500', OUTCOME);
    const b = await handoff(sim, 'k-500', OUTCOME);
    expect([a.status, b.status]).toEqual([500, 500]);
    expect(a.json).toMatchObject({ error: 'internal' });
    expect(await received(sim)).toEqual([]);
    const c = await handoff(sim, 'k-500', OUTCOME);
    expect(c).toMatchObject({ status: 201, json: { duplicate: false } });
    expect(await received(sim)).toEqual([expect.objectContaining({ id: c.json.id, deliveries: 1 })]);
    expect(sim.faults.list()).toEqual([]);
  });

  it('status-503 with retryAfter answers Retry-After; a targeted fault hits only its key', async () => {
    await addFault(sim, { platform: 'rewards', fault: 'status-503', target: 'k-503', params: { retryAfter: 7 }, times: 1 });
    expect((await handoff(sim, 'k-other', OUTCOME)).status).toBe(201);
    const hit = await handoff(sim, 'k-503', OUTCOME);
    expect(hit).toMatchObject({ status: 503, json: { error: 'unavailable' } });
    expect(hit.headers.get('retry-after')).toBe('7');
    expect((await handoff(sim, 'k-503', OUTCOME)).status).toBe(201);
  });

  it('timeout: the client gives up, nothing is recorded, and the retry is a fresh 201', async () => {
    await addFault(sim, { platform: 'rewards', fault: 'timeout', params: { ms: 5_000 }, times: 1 });
    const t0 = Date.now();
    await expect(handoff(sim, 'k-timeout', OUTCOME, { signal: AbortSignal.timeout(200) })).rejects.toThrow(/abort|timeout/i);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(await received(sim)).toEqual([]);
    expect(await handoff(sim, 'k-timeout', OUTCOME)).toMatchObject({ status: 201, json: { duplicate: false } });
  });

  it('timeout without a client timeout: the socket is destroyed after ms, without an answer', async () => {
    await addFault(sim, { platform: 'rewards', fault: 'timeout', params: { ms: 150 }, times: 1 });
    const t0 = Date.now();
    const outcome = await new Promise<string>((resolve) => {
      const req = http.request(`${sim.rewardsUrl}/handoffs`, { method: 'POST', headers: { 'idempotency-key': 'k-reset', 'content-type': 'application/json' } }, (res) =>
        resolve(`answered ${res.statusCode}`),
      );
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end(JSON.stringify(OUTCOME));
    });
    expect(outcome).toBe('ECONNRESET');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(await received(sim)).toEqual([]);
  });

  it('timeout with commit: the handoff is recorded but the answer is lost; the retry is a 200 duplicate (deliveries 2)', async () => {
    await addFault(sim, { platform: 'rewards', fault: 'timeout', params: { ms: 5_000, commit: true }, times: 1 });
    await expect(handoff(sim, 'k-commit', OUTCOME, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    const retry = await handoff(sim, 'k-commit', OUTCOME);
    expect(retry).toMatchObject({ status: 200, json: { duplicate: true } });
    expect(await received(sim)).toEqual([expect.objectContaining({ id: retry.json.id, idempotencyKey: 'k-commit', deliveries: 2 })]);
  });

  it('validates rewards faults on POST /admin/faults', async () => {
    expect(await addFault(sim, { platform: 'rewards', fault: 'drop-socket' })).toMatchObject({ status: 400, json: { error: 'invalid_fault', message: expect.stringContaining('status-500') } });
    expect(await addFault(sim, { platform: 'rewards', fault: 'timeout', params: { ms: -1 } })).toMatchObject({ status: 400, json: { error: 'invalid_fault' } });
    expect(await addFault(sim, { platform: 'rewards', fault: 'status-500', times: 0 })).toMatchObject({ status: 400, json: { error: 'invalid_fault' } });
    expect(await addFault(sim, { platform: 'steam', fault: 'x' })).toMatchObject({ status: 400, json: { message: expect.stringContaining('rgs or rewards') } });
    expect(sim.faults.list()).toEqual([]);
  });

  it('answers 404 and 405 with JSON reasons on other paths and methods', async () => {
    const nowhere = await fetch(`${sim.rewardsUrl}/payouts`);
    expect(nowhere.status).toBe(404);
    expect(await nowhere.json()).toMatchObject({ error: 'not_found' });
    const put = await fetch(`${sim.rewardsUrl}/handoffs`, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST, DELETE');
  });
});

describe('rewards endpoint with an api key', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 'rewards-key', rewards: { apiKey: 'secret-key' } });
  });
  afterAll(() => sim.close());

  it('answers 401 without a bearer or with the wrong one, and records with the right one', async () => {
    const none = await handoff(sim, 'k1', OUTCOME);
    expect(none).toMatchObject({ status: 401, json: { error: 'unauthorized' } });
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(await handoff(sim, 'k1', OUTCOME, { token: 'wrong-key' })).toMatchObject({ status: 401, json: { error: 'unauthorized' } });
    expect(await received(sim)).toEqual([]);
    expect(await handoff(sim, 'k1', OUTCOME, { token: 'secret-key' })).toMatchObject({ status: 201 });
    expect(await received(sim)).toHaveLength(1);
  });

  it('refuses invalid options at start-up', async () => {
    await expect(startSimulator({ port: 0, rewards: { apiKey: '' } })).rejects.toThrow(/apiKey/);
  });
});

describe('rewards endpoint determinism and start-up faults', () => {
  const script = async (seed: string): Promise<string[]> => {
    const sim = await startSimulator({ port: 0, seed, faults: [{ platform: 'rewards', fault: 'status-503', times: 1 }] });
    try {
      const statuses = [(await handoff(sim, 'a', OUTCOME)).status];
      const ids = [(await handoff(sim, 'a', OUTCOME)).json.id, (await handoff(sim, 'b', OUTCOME)).json.id];
      return [...statuses.map(String), ...ids];
    } finally {
      await sim.close();
    }
  };

  it('the same seed gives the same ids; another seed does not', async () => {
    const a = await script('seed-one');
    expect(a[0]).toBe('503');
    expect(await script('seed-one')).toEqual(a);
    expect((await script('seed-two')).slice(1)).not.toEqual(a.slice(1));
  });
});
