import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { PrismaService } from '@rewind/db';
import { queueDepths } from '@rewind/pipeline';
import { PipelineQueues } from '../pipeline/pipeline-queues';
import { RedisConnection } from './redis-connection';

export interface CheckResult {
  status: 'up' | 'down';
  latencyMs: number;
  error?: string;
}

export interface Readiness {
  status: 'ok' | 'unavailable';
  checks: { postgres: CheckResult; redis: CheckResult; queues: CheckResult & { depths?: Record<string, Record<string, number>> } };
}

const TIMEOUT_MS = 2000;

/** One probe, bounded by TIMEOUT_MS, as a terminus indicator result: up or down with its latency (and error). */
async function timed<K extends string>(indicator: HealthIndicatorService, key: K, probe: () => Promise<unknown>, extra: () => Record<string, unknown> = () => ({})): Promise<HealthIndicatorResult<K>> {
  const session = indicator.check(key);
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      }),
    ]);
    return session.up({ latencyMs: Math.round(performance.now() - started), ...extra() });
  } catch (e) {
    return session.down({ latencyMs: Math.round(performance.now() - started), error: e instanceof Error ? e.message : String(e) });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Readiness on @nestjs/terminus: Postgres (a `SELECT 1` through Prisma), Redis (PING) and the pipeline's queues
 * (their depths read from BullMQ), each a terminus indicator, run together by `HealthCheckService`. Its result is
 * given the shape the API has always answered (`status` ok/unavailable, `checks` per dependency with latency,
 * error and the queue depths).
 */
@Injectable()
export class HealthService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly prisma: PrismaService,
    private readonly redis: RedisConnection,
    private readonly pipeline: PipelineQueues,
  ) {}

  /** Liveness: no dependency, the process answers. */
  async live(): Promise<{ status: 'ok' }> {
    await this.health.check([]);
    return { status: 'ok' };
  }

  async check(): Promise<Readiness> {
    let depths: Record<string, Record<string, number>> | undefined;
    let result: HealthCheckResult;
    try {
      result = await this.health.check([
        () => timed(this.indicator, 'postgres', () => this.prisma.$queryRaw`SELECT 1`),
        () => timed(this.indicator, 'redis', () => this.redis.client.ping()),
        () =>
          timed(
            this.indicator,
            'queues',
            async () => (depths = await queueDepths(this.pipeline.queues)),
            () => (depths ? { depths } : {}),
          ),
      ]);
    } catch (e) {
      // terminus answers a failed check with a 503 exception whose response is the result.
      if (!(e instanceof ServiceUnavailableException)) throw e;
      result = e.getResponse() as HealthCheckResult;
    }
    const details = result.details as unknown as Readiness['checks'];
    return { status: result.status === 'ok' ? 'ok' : 'unavailable', checks: { postgres: details.postgres, redis: details.redis, queues: details.queues } };
  }
}
