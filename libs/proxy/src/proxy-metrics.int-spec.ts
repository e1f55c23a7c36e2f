/** The recording proxy's metrics, read the way Prometheus reads them: over HTTP from a metrics port. */
import { startMetricsServer, RunningMetricsServer } from '@rewind/observability';
import { waitFor } from '@rewind/testing';
import { FakeUpstream, openWs, startFakeUpstream } from './fake-upstream';
import { startRecordingProxy } from './server';
import { RecordingSink } from './test-helpers';
import type { RunningRecordingProxy } from './types';

const value = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
};

describe('recording proxy metrics', () => {
  let up: FakeUpstream;
  let proxy: RunningRecordingProxy;
  let metrics: RunningMetricsServer;
  const scrape = async (): Promise<string> => (await fetch(`${metrics.url}/metrics`)).text();

  beforeAll(async () => {
    up = await startFakeUpstream();
    proxy = await startRecordingProxy({ port: 0, upstreams: { cloudplay: up.base }, sink: new RecordingSink() });
    metrics = await startMetricsServer({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await proxy.close();
    await metrics.close();
    await up.close();
  });

  it('counts relayed messages and HTTP exchanges by platform and channel, times the relay, and tracks open connections', async () => {
    const before = await scrape();
    for (let i = 0; i < 2; i++) expect((await fetch(`${proxy.url}/cloudplay/echo?i=${i}`)).status).toBe(200);
    const client = await openWs(`${proxy.url.replace('http', 'ws')}/cloudplay/ws`);
    for (const m of ['a', 'b', 'c']) client.ws.send(m);
    await client.waitFor(3);
    const during = await scrape();
    expect(value(during, 'rewind_proxy_messages_relayed_total{platform="cloudplay",channel="http"}') - value(before, 'rewind_proxy_messages_relayed_total{platform="cloudplay",channel="http"}')).toBe(
      2,
    );
    // three messages up, their three echoes down
    expect(value(during, 'rewind_proxy_messages_relayed_total{platform="cloudplay",channel="ws"}') - value(before, 'rewind_proxy_messages_relayed_total{platform="cloudplay",channel="ws"}')).toBe(6);
    expect(value(during, 'rewind_proxy_relay_latency_seconds_count{platform="cloudplay",channel="ws"}')).toBeGreaterThanOrEqual(6);
    expect(value(during, 'rewind_proxy_relay_latency_seconds_bucket{platform="cloudplay",channel="ws",le="+Inf"}')).toBe(
      value(during, 'rewind_proxy_relay_latency_seconds_count{platform="cloudplay",channel="ws"}'),
    );
    expect(value(during, 'rewind_proxy_relay_latency_seconds_count{platform="cloudplay",channel="http"}')).toBeGreaterThanOrEqual(2);
    expect(value(during, 'rewind_proxy_open_connections{platform="cloudplay",channel="ws"}')).toBe(1);
    expect(during).toContain('process_resident_memory_bytes');
    expect(during).toContain('# TYPE rewind_proxy_relay_latency_seconds histogram');
    client.ws.close(1000);
    await client.closed;
    await waitFor('the closed WebSocket no longer counted', async () => value(await scrape(), 'rewind_proxy_open_connections{platform="cloudplay",channel="ws"}') === 0);
    expect(value(await scrape(), 'rewind_proxy_open_connections{platform="cloudplay",channel="http"}')).toBe(0);
  });
});
