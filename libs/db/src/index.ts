export * from './pg';
export * from './migrate';
export * from './prisma.service';
export * from './db.module';
export * from './paths';
export * from './transaction';
export { Prisma } from './generated/client';
export type { Pool, PoolClient } from 'pg';
export type { Session as SessionModel, Audit as AuditModel, RunSummary as RunSummaryModel, OutboxMessage as OutboxMessageModel } from './generated/client';
