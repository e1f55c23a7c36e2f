/**
 * What one Prisma query costs in CPU against the same SELECT on the pool (docs/data-layer.md, "Why a Prisma
 * query costs what it does").
 *
 *   node -r ./scripts/register.js libs/event-store/bench/prisma-call.ts postgresql://user@host:port/scratch_db [calls] [concurrency]
 *
 * Give it an empty, migrated scratch database: it inserts 200 sessions, then reads one by id `calls` times
 * (default 3,000; `concurrency` at once, default 1) each way after a warm-up, and prints the process CPU
 * (user + system) per call of each way, median of 3 rounds.
 */
import { randomUUID } from 'node:crypto';
import { PrismaService, Prisma } from '@rewind/db';
import { SessionsRepository } from '../src/repositories/sessions.repository';

type Way = [string, (id: string) => Promise<unknown>];
const sys: number[] = [];

async function cpuPerCall(ids: string[], calls: number, concurrency: number, read: (id: string) => Promise<unknown>): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      const id = ids[next++ % ids.length] as string;
      const r = await read(id);
      if (!r || (Array.isArray(r) && r.length !== 1)) throw new Error(`no row for ${id}`);
    }
  };
  const c0 = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const c = process.cpuUsage(c0);
  sys.push(c.system / calls);
  return (c.user + c.system) / calls;
}

async function main(): Promise<void> {
  const [url, callsArg, concArg, onlyArg] = process.argv.slice(2);
  if (!url) throw new Error('usage: prisma-call.ts <scratch database url> [calls] [concurrency] [only]');
  const calls = Number(callsArg ?? 3000);
  const concurrency = Number(concArg ?? 1);
  const prisma = new PrismaService(url);
  await prisma.$connect();
  const pool = prisma.pool;
  const ids = Array.from({ length: 200 }, () => randomUUID());
  await pool.query(
    `INSERT INTO sessions (id, platform, started_at, head_hash, metadata) SELECT id, 'moltstation', now(), '\\x00'::bytea, '{"stream":"recorder","writer":"w1"}'::jsonb FROM unnest($1::uuid[]) id ON CONFLICT DO NOTHING`,
    [ids],
  );
  const repo = new SessionsRepository(prisma);
  const ways: Way[] = [
    ['pg pool.query SELECT *', (id) => pool.query('SELECT * FROM sessions WHERE id = $1', [id]).then((r) => r.rows[0])],
    ['pg pool.query SELECT * (named, prepared)', (id) => pool.query({ name: 'session-by-id', text: 'SELECT * FROM sessions WHERE id = $1', values: [id] }).then((r) => r.rows[0])],
    ['SessionsRepository.get (pool, named)', (id) => repo.get(id)],
    ['prisma findUnique', (id) => prisma.session.findUnique({ where: { id } })],
    ['prisma findUnique select id, headSeq, status', (id) => prisma.session.findUnique({ where: { id }, select: { id: true, headSeq: true, status: true } })],
    ['prisma $queryRaw SELECT *', (id) => prisma.$queryRaw<unknown[]>(Prisma.sql`SELECT * FROM sessions WHERE id = ${id}::uuid`).then((r) => r[0])],
    ['prisma $queryRawUnsafe SELECT *', (id) => prisma.$queryRawUnsafe<unknown[]>('SELECT * FROM sessions WHERE id = $1::uuid', id).then((r) => r[0])],
    ['prisma findFirst', (id) => prisma.session.findFirst({ where: { id } })],
  ];
  const selected = onlyArg ? ways.filter(([n]) => n.includes(onlyArg)) : ways;
  for (const [, read] of selected) await cpuPerCall(ids, 500, concurrency, read);
  const results = new Map<string, number[]>();
  const system = new Map<string, number[]>();
  for (let round = 0; round < 3; round++)
    for (const [name, read] of selected) {
      results.set(name, [...(results.get(name) ?? []), await cpuPerCall(ids, calls, concurrency, read)]);
      system.set(name, [...(system.get(name) ?? []), sys[sys.length - 1] as number]);
    }
  console.log(`${calls} calls per way, ${concurrency} at once, median of 3 rounds (µs of process CPU per call):`);
  for (const [name, r] of results)
    console.log(
      `  ${name.padEnd(48)} ${(r.sort((a, b) => a - b)[1] as number).toFixed(1).padStart(7)}   [${r.map((x) => x.toFixed(0)).join(', ')}]  of which system ${(system.get(name) ?? []).map((x) => x.toFixed(0)).join(', ')}`,
    );

  await prisma.$disconnect();
  await pool.end();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
