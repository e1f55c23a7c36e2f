import { Injectable } from '@nestjs/common';
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

async function timed(probe: () => Promise<unknown>): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      }),
    ]);
    return { status: 'up', latencyMs: Math.round(performance.now() - started) };
  } catch (e) {
    return { status: 'down', latencyMs: Math.round(performance.now() - started), error: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
  }
}

@Injectable()
export class HealthService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly redis: RedisConnection,
    private readonly pipeline: PipelineQueues,
  ) {}

  async check(): Promise<Readiness> {
    let depths: Record<string, Record<string, number>> | undefined;
    const [postgres, redis, queues] = await Promise.all([
      timed(() => this.prisma.$queryRaw`SELECT 1`),
      timed(() => this.redis.client.ping()),
      timed(async () => (depths = await queueDepths(this.pipeline.queues))),
    ]);
    const up = postgres.status === 'up' && redis.status === 'up' && queues.status === 'up';
    return { status: up ? 'ok' : 'unavailable', checks: { postgres, redis, queues: { ...queues, ...(depths ? { depths } : {}) } } };
  }
}
