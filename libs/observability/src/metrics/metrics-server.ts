import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { enableDefaultMetrics, METRICS_CONTENT_TYPE, metricsText } from './registry';

export interface RunningMetricsServer {
  /** http://host:port (0 asked: the port picked). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * `/metrics` on a port of its own, for the processes without an HTTP server (recorder, pipeline): plain node:http,
 * one route, nothing else answered. Port 0 in the configuration means "not served" — callers skip it — while
 * `port: 0` here picks a free port (tests).
 */
export async function startMetricsServer(options: { port: number; host?: string }): Promise<RunningMetricsServer> {
  enableDefaultMetrics();
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    metricsText().then(
      (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(e as Error).message}\n`),
    );
  });
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Starts the server when `port` is not 0 (the configuration's "off"); else nothing. */
export async function maybeStartMetricsServer(port: number, host?: string): Promise<RunningMetricsServer | null> {
  return port === 0 ? null : startMetricsServer({ port, ...(host ? { host } : {}) });
}
