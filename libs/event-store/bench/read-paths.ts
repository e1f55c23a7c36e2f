/**
 * Prisma vs pg on the event log's read paths (docs/benchmarks.md, "Prisma vs pg on the read paths").
 *
 *   node -r ./scripts/register.js libs/event-store/bench/read-paths.ts postgresql://user@host:port/scratch_db [events] [runs]
 *
 * Give it an empty, migrated scratch database: it inserts one session of `events` (default 100,000) ~800-byte
 * JSON frames, then reads the whole session in seq order with keyset pages, `runs` times (default 3) per way,
 * and prints the median seconds of each way:
 * - replay page (500 rows, the columns a replay sends): plain `pg`, Prisma `$queryRaw` (the same SQL),
 *   Prisma `findMany` with `where: { seq: { gt } }` + `take`;
 * - full event page (readSession's, with the µs wall clock and hash): plain `pg`, Prisma `$queryRaw`.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createPgPool, PrismaService } from '@rewind/db';
import { Prisma } from '@rewind/db';

const PAGE = 500;

async function fill(pool: Pool, sessionId: string, n: number): Promise<void> {
  await pool.query(`INSERT INTO sessions (id, platform, started_at, head_hash) VALUES ($1, 'moltstation', now(), '\\x00')`, [sessionId]);
  for (let from = 1; from <= n; from += 10_000) {
    const to = Math.min(n, from + 9_999);
    await pool.query(
      `INSERT INTO events (session_id, seq, kind, direction, channel, recorded_at, offset_us, format, body_text, msg_type, tick, hash)
       SELECT $1, s, 'frame', 'platform_to_client', 'play_ws', now(), s * 16667, 'json',
              '{"type":"frame","tick":' || s || ',"entities":"' || repeat(md5(s::text), 23) || '"}', 'frame', s, decode(md5(s::text), 'hex')
         FROM generate_series($2::int, $3::int) s`,
      [sessionId, from, to],
    );
  }
  await pool.query('UPDATE sessions SET head_seq = $2 WHERE id = $1', [sessionId, n]);
  await pool.query('ANALYZE events');
}

async function readAll(page: (after: number) => Promise<{ seq: number }[]>): Promise<number> {
  let after = 0;
  let rows = 0;
  for (;;) {
    const got = await page(after);
    rows += got.length;
    if (got.length < PAGE) return rows;
    after = (got[got.length - 1] as { seq: number }).seq;
  }
}

async function median(runs: number, expected: number, read: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const n = await read();
    times.push((performance.now() - t0) / 1000);
    if (n !== expected) throw new Error(`read ${n} rows, expected ${expected}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)] as number;
}

async function main(): Promise<void> {
  const [url, eventsArg, runsArg] = process.argv.slice(2);
  if (!url) throw new Error('usage: read-paths.ts <scratch database url> [events] [runs]');
  const n = Number(eventsArg ?? 100_000);
  const runs = Number(runsArg ?? 3);
  const pool = createPgPool(url, { max: 4 });
  const prisma = new PrismaService(pool);
  const id = randomUUID();
  await fill(pool, id, n);
  const replayCols = 'seq, offset_us, kind, direction, channel, format, body_text, body_bytes, msg_type, tick, meta';
  const fullCols = `session_id, seq, global_position, tx_id, kind, direction, channel, (extract(epoch from recorded_at) * 1000000)::bigint AS recorded_at_us, offset_us, format, body_text, body_bytes, msg_type, tick, request_id, meta, hash`;
  const results: [string, number][] = [];
  const measure = async (name: string, page: (after: number) => Promise<{ seq: number }[]>) => {
    await readAll(page); // warm-up: plans, caches, JIT
    results.push([name, await median(runs, n, () => readAll(page))]);
    console.log(`${name.padEnd(44)} ${results[results.length - 1]?.[1].toFixed(2)} s`);
  };
  await measure('replay page: pg', async (after) => (await pool.query(`SELECT ${replayCols} FROM events WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [id, after, PAGE])).rows);
  await measure('replay page: Prisma $queryRaw', (after) =>
    prisma.$queryRaw<{ seq: number }[]>(Prisma.sql`SELECT ${Prisma.raw(replayCols)} FROM events WHERE session_id = ${id}::uuid AND seq > ${after} ORDER BY seq LIMIT ${PAGE}`),
  );
  await measure('replay page: Prisma findMany (where + take)', (after) =>
    prisma.event.findMany({
      where: { sessionId: id, seq: { gt: after } },
      orderBy: { seq: 'asc' },
      take: PAGE,
      select: { seq: true, offsetUs: true, kind: true, direction: true, channel: true, format: true, bodyText: true, bodyBytes: true, msgType: true, tick: true, meta: true },
    }),
  );
  await measure(
    'event page: pg',
    async (after) =>
      (
        await pool.query(`SELECT ${fullCols} FROM events WHERE session_id = $1 AND seq > $2 AND seq <= $3 AND offset_us < $4 ORDER BY seq LIMIT $5`, [
          id,
          after,
          2_147_483_647,
          Number.MAX_SAFE_INTEGER,
          PAGE,
        ])
      ).rows,
  );
  await measure('event page: Prisma $queryRaw', (after) =>
    prisma.$queryRaw<{ seq: number }[]>(
      Prisma.sql`SELECT ${Prisma.raw(fullCols)} FROM events WHERE session_id = ${id}::uuid AND seq > ${after} AND seq <= ${2_147_483_647} AND offset_us < ${Number.MAX_SAFE_INTEGER}::bigint ORDER BY seq LIMIT ${PAGE}`,
    ),
  );
  await prisma.$disconnect();
  await pool.end();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
