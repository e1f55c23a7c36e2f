import { startMetricsServer } from './metrics-server';
import { ingestSources, liveCaptureSources, rewindMetrics } from './rewind-metrics';

describe('the metrics port', () => {
  it('serves the default and Rewind metrics at /metrics, sources read at scrape time, and nothing else', async () => {
    const sut = await startMetricsServer({ port: 0, host: '127.0.0.1' });
    const offIngest = ingestSources.add({ lagMs: () => 1500, buffered: () => 7, journaled: () => 3, walBytes: () => 4096 });
    const offCaptures = liveCaptureSources.add(() => 2);
    try {
      rewindMetrics.pipelineJobs.labels('reward-handoff', 'completed').inc();
      const res = await fetch(`${sut.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(text).toContain('process_cpu_user_seconds_total');
      expect(text).toContain('nodejs_eventloop_lag_seconds');
      expect(text).toMatch(/^rewind_ingest_lag_seconds 1\.5$/m);
      expect(text).toMatch(/^rewind_ingest_buffered_events 7$/m);
      expect(text).toMatch(/^rewind_ingest_journaled_events 3$/m);
      expect(text).toMatch(/^rewind_wal_bytes 4096$/m);
      expect(text).toMatch(/^rewind_live_captures 2$/m);
      expect(text).toMatch(/^rewind_pipeline_jobs_total\{queue="reward-handoff",outcome="completed"\} [1-9]/m);
      for (const name of ['rewind_replay_lateness_seconds', 'rewind_replay_seek_seconds', 'rewind_audits_total', 'rewind_proxy_relay_latency_seconds', 'rewind_events_stored_total'])
        expect(text).toContain(`# TYPE ${name}`);
      expect((await fetch(`${sut.url}/`)).status).toBe(404);
    } finally {
      offIngest();
      offCaptures();
      await sut.close();
    }
    const after = await startMetricsServer({ port: 0, host: '127.0.0.1' });
    try {
      expect(await (await fetch(`${after.url}/metrics`)).text()).toMatch(/^rewind_live_captures 0$/m);
    } finally {
      await after.close();
    }
  });
});
