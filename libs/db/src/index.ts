export * from './pg';
export * from './migrate';
export * from './prisma.service';
export * from './db.module';
export * from './paths';
export * from './transaction';
