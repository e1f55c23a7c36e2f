import { defineConfig } from 'prisma/config';

// Prisma CLI configuration (Prisma 7 reads the datasource URL here, not from schema.prisma).
// Migrations are applied by Rewind's own offline runner (`./rewind migrate`), which records them in
// Prisma's `_prisma_migrations` table, so `prisma migrate status` agrees wherever a schema engine exists.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://rewind@127.0.0.1:54329/rewind' },
});
