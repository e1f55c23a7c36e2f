import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { Pool } from 'pg';
import { EventStore } from '@rewind/event-store';
import { createTestPool, testDatabaseUrl, testRedisUrl } from '@rewind/testing';
import { startApi } from '../api';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A real HTTP request (node:http: the `Origin` header is sent as given, as a browser would). */
function call(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * CORS on the replay base's spectate-token endpoints (REWIND_CORS_ORIGINS), with real HTTP requests against the
 * API: an allowed origin's preflight is answered 204 with the CORS headers, its calls carry
 * Access-Control-Allow-Origin (their errors too, so the page can read them); any other origin gets no CORS header;
 * other paths are untouched; without configured origins there are no CORS headers at all.
 */
describe('CORS on the spectate-token endpoints (the API, real Postgres)', () => {
  const ALLOWED = 'https://molt.example';
  const OTHER = 'https://evil.example';
  const key = `key-${randomBytes(12).toString('hex')}`;
  const run = `ms_cors_${randomBytes(4).toString('hex')}`;
  let pool: Pool;
  let api: INestApplication;
  let bare: INestApplication;
  let base = '';
  let bareBase = '';
  const tokenPath = `/replay/moltstation/api/games/flappybots/sessions/${run}/spectate-token`;
  const preflight = (origin: string) => ({ origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' });

  beforeAll(async () => {
    pool = createTestPool(2);
    const store = new EventStore(pool);
    await store.openSession({ id: randomUUID(), platform: 'moltstation', game: 'flappybots', platformSessionId: run, startedAt: new Date(), metadata: { stream: 'run', capturedBy: 'proxy' } });
    const common = { databaseUrl: testDatabaseUrl(), redisUrl: testRedisUrl(), port: 0, logger: false, replay: { apiKeys: [key], secret: randomBytes(32) } };
    api = await startApi({ ...common, queuePrefix: `cors-${randomUUID().slice(0, 6)}`, corsOrigins: [ALLOWED, 'http://localhost:3000'] });
    bare = await startApi({ ...common, queuePrefix: `cors-${randomUUID().slice(0, 6)}` });
    base = (await api.getUrl()).replace('[::1]', '127.0.0.1');
    bareBase = (await bare.getUrl()).replace('[::1]', '127.0.0.1');
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await bare?.close();
    await pool?.end();
  });

  it('given an allowed origin, then its preflight is answered 204 with the allowed origin, methods and headers, on both token endpoints', async () => {
    for (const path of [tokenPath, `${tokenPath}-public`]) {
      const r = await call(base, 'OPTIONS', path, preflight(ALLOWED));
      expect(r.status).toBe(204);
      expect(r.headers['access-control-allow-origin']).toBe(ALLOWED);
      expect(String(r.headers['access-control-allow-methods'])).toMatch(/\bPOST\b/);
      expect(String(r.headers['access-control-allow-headers']).toLowerCase()).toEqual(expect.stringContaining('authorization'));
      expect(String(r.headers['access-control-allow-headers']).toLowerCase()).toEqual(expect.stringContaining('content-type'));
      expect(r.headers['access-control-allow-credentials']).toBeUndefined();
      expect(r.headers['vary']).toMatch(/Origin/);
    }
  });

  it('given an allowed origin, then the token call answers with Access-Control-Allow-Origin, and so does its refusal (the page reads the error)', async () => {
    const ok = await call(base, 'POST', tokenPath, { origin: ALLOWED, authorization: `Bearer ${key}` });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(JSON.parse(ok.body)).toMatchObject({ token: expect.any(String), spectateToken: expect.any(String) });
    const refused = await call(base, 'POST', tokenPath, { origin: ALLOWED });
    expect(refused.status).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe(ALLOWED);
  });

  it('given another origin (or a near miss of an allowed one), then no Access-Control-Allow-Origin on its preflight or its call', async () => {
    for (const origin of [OTHER, `${ALLOWED}:443`, 'http://molt.example', 'https://molt.example.evil', 'null']) {
      const p = await call(base, 'OPTIONS', tokenPath, preflight(origin));
      expect([origin, p.status, p.headers['access-control-allow-origin'], p.headers['access-control-allow-methods']]).toEqual([origin, 204, undefined, undefined]);
      const c = await call(base, 'POST', tokenPath, { origin, authorization: `Bearer ${key}` });
      expect([origin, c.status, c.headers['access-control-allow-origin']]).toEqual([origin, 200, undefined]);
    }
  });

  it('given another path of the API, then no CORS header even for an allowed origin', async () => {
    const r = await call(base, 'GET', '/api/sessions', { origin: ALLOWED, authorization: `Bearer ${key}` });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    const p = await call(base, 'OPTIONS', '/api/sessions', preflight(ALLOWED));
    expect(p.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('given no REWIND_CORS_ORIGINS (the default), then no CORS header for any origin', async () => {
    const p = await call(bareBase, 'OPTIONS', tokenPath, preflight(ALLOWED));
    expect(p.status).toBe(204);
    expect(p.headers['access-control-allow-origin']).toBeUndefined();
    const c = await call(bareBase, 'POST', tokenPath, { origin: ALLOWED, authorization: `Bearer ${key}` });
    expect(c.status).toBe(200);
    expect(c.headers['access-control-allow-origin']).toBeUndefined();
  });
});
