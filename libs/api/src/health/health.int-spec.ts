import { INestApplication } from '@nestjs/common';
import { testDatabaseUrl, testRedisUrl } from '@rewind/testing';
import { startApi } from '../api';

async function get(app: INestApplication, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${await app.getUrl()}${path}`.replace('[::1]', '127.0.0.1'));
  return { status: res.status, body: await res.json() };
}

describe('API health (real Postgres and Redis)', () => {
  it('is ready when Postgres and Redis answer', async () => {
    const app = await startApi({ databaseUrl: testDatabaseUrl(), redisUrl: testRedisUrl(), port: 0, logger: false });
    try {
      expect(await get(app, '/health/live')).toEqual({ status: 200, body: { status: 'ok' } });
      const ready = await get(app, '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ok', checks: { postgres: { status: 'up' }, redis: { status: 'up' }, queues: { status: 'up', depths: { 'reward-handoff': expect.any(Object) } } } });
    } finally {
      await app.close();
    }
  });

  it('answers 503 naming the dependency that is down, and stays alive', async () => {
    // A port where nothing listens: Redis is "down" for this app.
    const app = await startApi({ databaseUrl: testDatabaseUrl(), redisUrl: 'redis://127.0.0.1:1', port: 0, logger: false });
    try {
      const ready = await get(app, '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'unavailable', checks: { postgres: { status: 'up' }, redis: { status: 'down' }, queues: { status: 'down' } } });
      expect(ready.body.checks.redis.error).toEqual(expect.any(String));
      expect((await get(app, '/health/live')).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
