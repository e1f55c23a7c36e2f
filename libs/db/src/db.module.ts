import { DynamicModule, Global, InjectionToken, Module, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
import { PrismaService } from './prisma.service';

/**
 * The `pg` pool under the PrismaService (the same connections): for the events append by COPY and for
 * call sites that still take a pool. Not a second pool.
 */
export const PG_POOL = Symbol('PG_POOL');

export interface DbModuleOptions {
  databaseUrl: string;
  poolSize?: number;
}

/** `DbModule.forRootAsync`: the options from a factory (e.g. one that injects the validated configuration). */
export interface DbModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => DbModuleOptions | Promise<DbModuleOptions>;
}

const DB_OPTIONS = Symbol('DB_OPTIONS');

/** Postgres access for a Nest app: the PrismaService (one per process, its pool ended on shutdown). */
@Global()
@Module({})
export class DbModule {
  static forRoot(options: DbModuleOptions): DynamicModule {
    return DbModule.forRootAsync({ useFactory: () => options });
  }

  static forRootAsync(o: DbModuleAsyncOptions): DynamicModule {
    return {
      module: DbModule,
      imports: o.imports ?? [],
      providers: [
        { provide: DB_OPTIONS, inject: o.inject ?? [], useFactory: o.useFactory as (...args: unknown[]) => DbModuleOptions | Promise<DbModuleOptions> },
        { provide: PrismaService, inject: [DB_OPTIONS], useFactory: (options: DbModuleOptions) => new PrismaService(options.databaseUrl, { poolSize: options.poolSize ?? 10 }) },
        { provide: PG_POOL, useFactory: (prisma: PrismaService) => prisma.pool, inject: [PrismaService] },
      ],
      exports: [PG_POOL, PrismaService],
    };
  }
}
