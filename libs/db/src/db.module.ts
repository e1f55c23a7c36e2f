import { DynamicModule, Global, Module } from '@nestjs/common';
import { PrismaService } from './prisma.service';

/**
 * The `pg` pool under the PrismaService (the same connections): for the events append by COPY and for
 * call sites that still take a pool. Not a second pool.
 */
export const PG_POOL = Symbol('PG_POOL');

/** Postgres access for a Nest app: the PrismaService (one per process, its pool ended on shutdown). */
@Global()
@Module({})
export class DbModule {
  static forRoot(options: { databaseUrl: string; poolSize?: number }): DynamicModule {
    return {
      module: DbModule,
      providers: [
        { provide: PrismaService, useFactory: () => new PrismaService(options.databaseUrl, { poolSize: options.poolSize ?? 10 }) },
        { provide: PG_POOL, useFactory: (prisma: PrismaService) => prisma.pool, inject: [PrismaService] },
      ],
      exports: [PG_POOL, PrismaService],
    };
  }
}
