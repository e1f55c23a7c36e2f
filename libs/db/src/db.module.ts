import { DynamicModule, Global, Inject, Injectable, Module, OnModuleDestroy } from '@nestjs/common';
import { Pool } from 'pg';
import { createPgPool } from './pg';
import { PrismaService } from './prisma.service';

export const PG_POOL = Symbol('PG_POOL');

@Injectable()
class PoolCloser implements OnModuleDestroy {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}
  async onModuleDestroy(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}

/** Postgres access for a Nest app: the `pg` pool (bulk paths) and Prisma (ordinary queries). */
@Global()
@Module({})
export class DbModule {
  static forRoot(options: { databaseUrl: string; poolSize?: number }): DynamicModule {
    return {
      module: DbModule,
      providers: [
        { provide: PG_POOL, useFactory: () => createPgPool(options.databaseUrl, { max: options.poolSize ?? 10 }) },
        { provide: PrismaService, useFactory: () => new PrismaService(options.databaseUrl) },
        PoolCloser,
      ],
      exports: [PG_POOL, PrismaService],
    };
  }
}
