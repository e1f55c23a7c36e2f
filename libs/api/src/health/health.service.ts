import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { PrismaService } from '@rewind/db';

export const REDIS = Symbol('REDIS');

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
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref()),
    ]);
    return { status: 'up', latencyMs: Math.round(performance.now() - started) };
  } catch (e) {
    return { status: 'down', latencyMs: Math.round(performance.now() - started), error: e instanceof Error ? e.message : String(e) };
  }
}

@Injectable()
export class HealthService implements OnModuleDestroy {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async check(): Promise<Readiness> {
    const [postgres, redis] = await Promise.all([timed(() => this.prisma.$queryRaw`SELECT 1`), timed(() => this.redis.ping())]);
    return { status: postgres.status === 'up' && redis.status === 'up' ? 'ok' : 'unavailable', checks: { postgres, redis } };
  }

  onModuleDestroy(): void {
    this.redis.disconnect(false);
  }
}
