import { Controller, DynamicModule, Get, Header, Inject, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Registry } from 'prom-client';
import { enableDefaultMetrics, METRICS_CONTENT_TYPE } from './registry';
import { scrapeText, shareWithCluster } from './cluster-metrics';
import { maybeStartMetricsServer, RunningMetricsServer } from './metrics-server';

/**
 * The application's own registry, beside the process-wide one: gauges whose `collect()` reads this application's
 * connections (the API's queue depths, its outbox) live here, so two applications in one process (tests) do not
 * read each other's. `/metrics` serves both.
 */
@Injectable()
export class AppMetricsRegistry extends Registry {}

/**
 * Prometheus text at `GET /metrics`: Node's process metrics, Rewind's, the application's own. In a worker of the
 * API's cluster (REWIND_API_WORKERS > 1) the scrape answers for every worker, aggregated by the primary.
 */
@Controller()
export class MetricsController {
  constructor(@Inject(AppMetricsRegistry) private readonly app: AppMetricsRegistry) {
    shareWithCluster(app);
  }

  @Get('metrics')
  @Header('content-type', METRICS_CONTENT_TYPE)
  metrics(): Promise<string> {
    return scrapeText(this.app);
  }
}

export const METRICS_PORT = Symbol('METRICS_PORT');

/** Serves `/metrics` on `METRICS_PORT` (0: off) for an application without an HTTP server, for its lifetime. */
@Injectable()
export class MetricsServer implements OnModuleInit, OnApplicationShutdown {
  private running: RunningMetricsServer | null = null;
  constructor(@Inject(METRICS_PORT) private readonly port: number) {}

  async onModuleInit(): Promise<void> {
    this.running = await maybeStartMetricsServer(this.port);
  }

  get url(): string | null {
    return this.running?.url ?? null;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running?.close();
    this.running = null;
  }
}

@Module({})
export class MetricsModule {
  /**
   * `http: true` (the API): the `/metrics` controller. `port` (a worker): the `MetricsServer` on that port (0: off).
   * Both turn Node's default metrics on.
   */
  static forRoot(options: { http?: boolean; port?: number } = {}): DynamicModule {
    enableDefaultMetrics();
    return {
      module: MetricsModule,
      global: true,
      controllers: options.http ? [MetricsController] : [],
      providers: [AppMetricsRegistry, ...(options.port !== undefined ? [{ provide: METRICS_PORT, useValue: options.port }, MetricsServer] : [])],
      exports: [AppMetricsRegistry, ...(options.port !== undefined ? [MetricsServer] : [])],
    };
  }
}
