import { Injectable } from '@nestjs/common';
import { PrismaService } from '@rewind/db';
import { RedisConnection } from './redis-connection';

export interface CheckResult {
  status: 'up' | 'down';
  latencyMs: number;
  error?: string;
}

export interface Readiness {
  status: 'ok' | 'unavailable';
  checks: { postgres: CheckResult; redis: CheckResult };
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
  ) {}

  async check(): Promise<Readiness> {
    const [postgres, redis] = await Promise.all([timed(() => this.prisma.$queryRaw`SELECT 1`), timed(() => this.redis.client.ping())]);
    return { status: postgres.status === 'up' && redis.status === 'up' ? 'ok' : 'unavailable', checks: { postgres, redis } };
  }
}
