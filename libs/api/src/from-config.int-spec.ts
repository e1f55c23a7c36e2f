import type { INestApplication } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { loadConfig, REWIND_CONFIG, RewindConfig, withRewindConfig } from '@rewind/config';
import { freePorts, testDatabaseUrl, testRedisUrl } from '@rewind/testing';
import { startApiModule } from './api';
import { apiModuleFromConfig } from './from-config';
import { ReplayPlatformListeners } from './replay/platform-listeners';

/** The API process's root as apps/api builds it: the configuration through RewindConfigModule, AppModule from REWIND_CONFIG. */
describe('apiModuleFromConfig: the API configured through RewindConfigModule (real Postgres and Redis)', () => {
  const prefix = `cfg${process.pid}`;
  const env: Record<string, string> = {
    DATABASE_URL: testDatabaseUrl(),
    REDIS_URL: testRedisUrl(),
    REWIND_API_KEYS: 'reader-key-0123456789:read,admin-key-0123456789',
    REWIND_REDACTION_KEY: 'cd'.repeat(32),
    REWIND_QUEUE_PREFIX: prefix,
    // Off unless a test asks: the defaults (8191, 8192) would collide with other tests and a running Rewind.
    REWIND_REPLAY_PORT_MOLTSTATION: '0',
    REWIND_REPLAY_PORT_SPACEMOLT: '0',
  };
  let app: INestApplication;
  let base: string;
  let moltstationPort = 0;
  beforeAll(async () => {
    [moltstationPort] = (await freePorts(1)) as [number];
    env['REWIND_REPLAY_PORT_MOLTSTATION'] = String(moltstationPort);
    app = await startApiModule(withRewindConfig([apiModuleFromConfig({ local: false, logger: false })], loadConfig(env)), { port: 0, logger: false, shutdownHooks: false });
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
  });

  it('provides the validated configuration to the application', () => {
    const config = app.get<RewindConfig>(REWIND_CONFIG);
    expect(config.apiKeys).toEqual(['reader-key-0123456789:read', 'admin-key-0123456789']);
    expect(config.pipeline.queuePrefix).toBe(prefix);
  });

  it('guards the routes with the configured keys and scopes', async () => {
    const as = (key: string) => fetch(`${base}/api/sessions`, { headers: { authorization: `Bearer ${key}` } });
    expect((await as('reader-key-0123456789')).status).toBe(200);
    expect((await as('some-other-key-0123456789')).status).toBe(401);
    // Bull Board's own middleware takes its keys from the same options: admin only.
    expect((await fetch(`${base}/queues/api/queues`, { headers: { authorization: 'Bearer reader-key-0123456789' } })).status).toBe(403);
    expect((await fetch(`${base}/queues/api/queues`, { headers: { authorization: 'Bearer admin-key-0123456789' } })).status).toBe(200);
  });

  it("listens on the configured replay port of MoltStation (its root paths) and not on SpaceMolt's, which is 0 (off)", async () => {
    expect(app.get(ReplayPlatformListeners).addresses()).toEqual({ moltstation: moltstationPort });
    // The token endpoint at the root, guarded as on the API's port: an unknown run with a reader key (no replay scope) is refused 403.
    const token = await fetch(`http://127.0.0.1:${moltstationPort}/api/games/flappybots/sessions/nope/spectate-token`, { method: 'POST', headers: { authorization: 'Bearer reader-key-0123456789' } });
    expect(token.status).toBe(403);
    expect((await fetch(`http://127.0.0.1:${moltstationPort}/api/sessions`)).status).toBe(404);
  });

  it('registers the pipeline queues under the configured prefix', () => {
    const queue = app.get<Queue>(getQueueToken('reward-handoff'));
    expect(queue.opts.prefix).toBe(prefix);
  });

  it('refuses to start in production without API keys, naming them', async () => {
    const { REWIND_API_KEYS: _keys, ...rest } = env;
    await expect(startApiModule(withRewindConfig([apiModuleFromConfig({ local: false, logger: false })], loadConfig(rest)), { port: 0, logger: false, shutdownHooks: false })).rejects.toThrow(
      /REWIND_API_KEYS and REWIND_REDACTION_KEY/,
    );
  });
});
