import { INestApplication } from '@nestjs/common';
import { testDatabaseUrl, testRedisUrl } from '@rewind/testing';
import { startApi } from '../api';

const base = async (app: INestApplication): Promise<string> => (await app.getUrl()).replace('[::1]', '127.0.0.1');

describe('API /metrics and request ids (real Postgres and Redis)', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApi({ databaseUrl: testDatabaseUrl(), redisUrl: testRedisUrl(), port: 0, logger: false });
  });
  afterAll(async () => {
    await app.close();
  });

  it('serves the default process metrics, Rewind metrics and the pipeline gauges as Prometheus text, without a key', async () => {
    const res = await fetch(`${await base(app)}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('nodejs_heap_size_used_bytes');
    expect(text).toMatch(/^rewind_queue_jobs\{queue="reward-handoff",state="waiting"\} \d+$/m);
    expect(text).toMatch(/^rewind_queue_jobs\{queue="reward-handoff",state="failed"\} \d+$/m);
    expect(text).toMatch(/^rewind_outbox_pending\{queue="reward-handoff"\} \d+$/m);
    for (const name of [
      'rewind_proxy_messages_relayed_total',
      'rewind_events_stored_total',
      'rewind_ingest_lag_seconds',
      'rewind_replay_streams',
      'rewind_replay_lateness_seconds',
      'rewind_replay_seek_seconds',
      'rewind_pipeline_jobs_total',
      'rewind_audits_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('answers every request with a request id: the caller’s when it is sane, else a new one', async () => {
    const given = await fetch(`${await base(app)}/health/live`, { headers: { 'x-request-id': 'agent-run-42' } });
    expect(given.headers.get('x-request-id')).toBe('agent-run-42');
    const fresh = await fetch(`${await base(app)}/health/live`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
