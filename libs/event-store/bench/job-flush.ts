/**
 * The CPU of a pipeline job stream's writes (docs/pipeline.md, "What a job stream's flush costs"): node's and
 * the Postgres backend's, per `writeBatch`, in the shape of a handoff job's two flushes.
 *
 *   node -r ./scripts/register.js libs/event-store/bench/job-flush.ts postgresql://user@host:port/scratch_db [jobs] [rounds] [events per flush]
 *
 * Give it an empty, migrated scratch database on a Postgres of this machine (the backend's CPU is read from
 * /proc). Per job: flush 1 opens a new stream with its `attempt` marker and the `request` (2 events), flush 2
 * stores the `response` and the `result` marker and ends the stream (2 events), like a handoff attempt (events per
 * flush: 2 unless given). One
 * connection, so one backend does all the work; prints µs of CPU per flush (median of the rounds).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createPgPool } from '@rewind/db';
import { EventStore } from '../src/event-store';
import type { NewEvent } from '../src/types';

const body = (n: number): string => JSON.stringify({ method: 'POST', url: 'http://rewards.local/api/outcomes', status: 200, n, body: 'x'.repeat(300) });

function backendCpuUs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime + stime, in clock ticks of 10 ms
}

async function main(): Promise<void> {
  const [url, jobsArg, roundsArg, perFlushArg] = process.argv.slice(2);
  const perFlush = Number(perFlushArg ?? 2);
  const seqs = (from: number): number[] => Array.from({ length: perFlush }, (_, i) => from + i);
  if (!url) throw new Error('usage: job-flush.ts <scratch database url> [jobs] [rounds]');
  const jobs = Number(jobsArg ?? 500);
  const rounds = Number(roundsArg ?? 3);
  const pool = createPgPool(url, { max: 1 });
  const store = new EventStore(pool);
  const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const pid = (rows[0] as { pid: number }).pid;
  const event = (sessionId: string, seq: number, t: number): NewEvent => ({
    sessionId,
    seq,
    kind: seq % 2 ? 'request' : 'response',
    direction: 'internal',
    channel: 'http',
    recordedAtUs: t + seq * 1000,
    offsetUs: seq * 1000,
    format: 'json',
    body: body(seq),
    msgType: 'reward-handoff',
    requestId: null,
    meta: seq % 2 ? '{"method":"POST"}' : '{"status":200}',
  });
  const run = async (): Promise<{ node: number; pg: number }> => {
    const c0 = process.cpuUsage();
    const p0 = backendCpuUs(pid);
    for (let j = 0; j < jobs; j++) {
      const id = randomUUID();
      const t = Date.now() * 1000;
      await store.writeBatch({
        opens: [{ id, platform: 'moltstation', game: 'g', platformSessionId: 'p', agent: 'a', source: 'agent_api', startedAt: new Date(t / 1000), metadata: { stream: 'pipeline', jobId: id } }],
        events: seqs(1).map((q) => event(id, q, t)),
      });
      await store.writeBatch({ events: seqs(perFlush + 1).map((q) => event(id, q, t)), ends: [{ sessionId: id, endedAt: new Date(), outcome: { status: 'handed-off' } }] });
    }
    const c = process.cpuUsage(c0);
    return { node: (c.user + c.system) / (2 * jobs), pg: (backendCpuUs(pid) - p0) / (2 * jobs) };
  };
  await run();
  const results: { node: number; pg: number }[] = [];
  for (let r = 0; r < rounds; r++) results.push(await run());
  const med = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  console.log(
    `${jobs} jobs × 2 flushes of ${perFlush} events per round, ${rounds} rounds: µs of CPU per flush (median) — node ${med(results.map((r) => r.node)).toFixed(1)}, postgres backend ${med(results.map((r) => r.pg)).toFixed(1)}`,
  );
  console.log(`  rounds: ${results.map((r) => `node ${r.node.toFixed(0)} / pg ${r.pg.toFixed(0)}`).join(', ')}`);

  await pool.end();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
