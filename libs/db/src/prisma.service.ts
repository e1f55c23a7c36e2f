import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import type { Pool } from 'pg';
import { createPgPool } from './pg';
import { PrismaClient } from './generated/client';

export interface PrismaServiceOptions {
  /** Connections of the pool this service creates from a URL (default 10); ignored when given a pool. */
  poolSize?: number;
}

/** What a data-access class accepts: the process's PrismaService, or (older call sites, tests) the `pg` pool it wraps. */
export type Db = Pool | PrismaService;

/** The PrismaService of each `pg` pool: the one that created it, or the one `PrismaService.of` made to borrow it. */
const borrowed = new WeakMap<Pool, PrismaService>();

/**
 * The one Prisma client of a process and its one connection pool (adapter-pg: no engine binary at run
 * time). Every query of Rewind goes through it: typed model queries where they fit, `$queryRaw` /
 * `$executeRaw` where SQL needs what the query API lacks. The same `pg` pool (`.pool`) carries the one
 * path Prisma cannot: the events append by COPY (libs/event-store/src/append.ts), so a process holds one
 * pool, not one per library.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PrismaService.name);
  /** The pool under the adapter: the COPY append and its transaction take their connections from it. */
  readonly pool: Pool;
  private readonly ownsPool: boolean;

  /** From a URL the service creates (and on destroy ends) its pool; given a pool it borrows it. */
  constructor(databaseUrlOrPool: string | Pool, options: PrismaServiceOptions = {}) {
    const pool = typeof databaseUrlOrPool === 'string' ? createPgPool(databaseUrlOrPool, { max: options.poolSize ?? 10 }) : databaseUrlOrPool;
    super({ adapter: new PrismaPg(pool) });
    this.pool = pool;
    this.ownsPool = typeof databaseUrlOrPool === 'string';
    // `PrismaService.of(service.pool)` (a call site given the app's pool) finds this service, not a second client.
    if (!borrowed.has(pool)) borrowed.set(pool, this);
  }

  /**
   * The PrismaService of `db`: itself, or the one (created once, then reused) that borrows the given `pg`
   * pool. What keeps `new EventStore(pool)`, `new AuditService(pool, …)` and the like working: the data
   * still goes through Prisma, on the caller's pool.
   */
  static of(db: Db): PrismaService {
    if (isPrismaService(db)) return db;
    let prisma = borrowed.get(db);
    if (!prisma) {
      prisma = new PrismaService(db);
      borrowed.set(db, prisma);
    }
    return prisma;
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
    this.logger.log('connected');
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
    if (this.ownsPool && !this.pool.ended) await this.pool.end();
  }
}

/** A `bytea` value as Prisma returns it (Uint8Array) as the Buffer the rest of Rewind uses, without a copy. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Whether `db` is a PrismaService rather than a `pg` pool. Not `instanceof`: PrismaClient's constructor
 * returns a proxy of the client, which is no instance of a subclass.
 */
export function isPrismaService(db: Db): db is PrismaService {
  return typeof (db as Partial<PrismaService>).$queryRaw === 'function';
}
