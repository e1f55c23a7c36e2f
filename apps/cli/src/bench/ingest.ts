import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { Client, Pool } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createPgPool, migrate, MIGRATIONS_DIR, withDatabase } from '@rewind/db';
import { EventStore, NewEvent } from '@rewind/event-store';
import { fmt, median } from './stats';
import { progress } from '../progress';

/**
 * rewind bench ingest: the store's append path (validation, hash chain, session-head locking, COPY into
 * the indexed, append-only `events` table) next to a raw COPY of the same rows' bodies into a minimal
 * table (session, seq, body text, primary key), in the same run, on the same server.
 */
export interface IngestBenchOptions {
  serverUrl: string;
  events: number;
  sessions: number;
  bodyBytes: number;
  batchSize: number;
  runs: number;
  writers: number;
  out: (line: string) => void;
}

export interface IngestBenchResult {
  rawCopy: { eventsPerSec: number; mbPerSec: number };
  appendPath: { eventsPerSec: number; mbPerSec: number };
  ratio: number;
  /** Bytes per stored event of the last append run: the events table with indexes and TOAST, and the WAL written. */
  storage?: { tableBytes: number; walBytes: number };
}

const BENCH_DB = 'rewind_bench';

/** Deterministic ~N-byte MoltStation-like frames, round-robin across sessions like live traffic. */
export function makeEvents(sessions: number, total: number, bodyBytes: number): { events: NewEvent[]; bytes: number } {
  const ids = Array.from({ length: sessions }, () => randomUUID());
  const t0 = Date.now() * 1000;
  const events: NewEvent[] = [];
  let bytes = 0;
  for (let i = 0; i < total; i++) {
    const s = i % sessions;
    const seq = Math.floor(i / sessions) + 1;
    const frame: Record<string, unknown> = {
      type: 'frame',
      tick: seq,
      phase: 'running',
      score: seq * 3,
      lives: 3,
      hunger: 100 - (seq % 100),
      pawn: { x: seq % 17, y: (seq * 7) % 11, dir: ['n', 'e', 's', 'w'][seq % 4] },
      entities: [] as unknown[],
    };
    let body = JSON.stringify(frame);
    let k = 0;
    while (body.length < bodyBytes - 40) {
      (frame.entities as unknown[]).push({ id: k, kind: k % 3 ? 'crab' : 'kelp', x: (seq + k * 5) % 23, y: (k * 3) % 13 });
      k++;
      body = JSON.stringify(frame);
    }
    bytes += Buffer.byteLength(body);
    events.push({
      sessionId: ids[s] as string,
      seq,
      kind: 'frame',
      direction: 'platform_to_client',
      channel: 'play_ws',
      recordedAtUs: t0 + seq * 50_000,
      offsetUs: seq * 50_000,
      format: 'json',
      body,
      msgType: 'frame',
      tick: seq,
    });
  }
  return { events, bytes };
}

async function freshDatabase(serverUrl: string): Promise<Pool> {
  const admin = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${BENCH_DB}`);
  } finally {
    await admin.end();
  }
  const pool = createPgPool(withDatabase(serverUrl, BENCH_DB), { max: 8 });
  await migrate(pool, MIGRATIONS_DIR);
  await pool.query('CREATE TABLE bench_raw (session_id uuid NOT NULL, seq int NOT NULL, body text NOT NULL, PRIMARY KEY (session_id, seq))');
  return pool;
}

async function rawCopy(pool: Pool, events: NewEvent[], batchSize: number, writers: number): Promise<number> {
  const started = process.hrtime.bigint();
  await Promise.all(
    shard(events, writers).map(async (share) => {
      const client = await pool.connect();
      try {
        for (let i = 0; i < share.length; i += batchSize) {
          let chunk = '';
          for (const e of share.slice(i, i + batchSize)) {
            chunk += `${e.sessionId}\t${e.seq}\t${(e.body as string).replace(/\\/g, '\\\\')}\n`;
          }
          const stream = client.query(copyFrom('COPY bench_raw (session_id, seq, body) FROM STDIN'));
          await new Promise<void>((resolve, reject) => {
            stream.on('error', reject).on('finish', resolve);
            stream.end(chunk);
          });
        }
      } finally {
        client.release();
      }
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function walLsn(pool: Pool): Promise<string> {
  const { rows } = await pool.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  return (rows[0] as { lsn: string }).lsn;
}

/** Bytes per stored event: the events table (indexes and TOAST included) and the WAL written since `walBefore`. */
async function storagePerEvent(pool: Pool, walBefore: string, events: number): Promise<{ tableBytes: number; walBytes: number }> {
  const { rows } = await pool.query<{ table: string; wal: string }>("SELECT pg_total_relation_size('events')::text AS table, pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS wal", [
    walBefore,
  ]);
  const r = rows[0] as { table: string; wal: string };
  return { tableBytes: Number(r.table) / events, walBytes: Number(r.wal) / events };
}

/** Splits the events by session into `writers` shares, as recorder instances own their sessions. */
function shard(events: NewEvent[], writers: number): NewEvent[][] {
  const index = new Map<string, number>();
  for (const e of events) if (!index.has(e.sessionId)) index.set(e.sessionId, index.size);
  return Array.from({ length: writers }, (_, w) => events.filter((e) => (index.get(e.sessionId) as number) % writers === w));
}

async function appendPath(pool: Pool, events: NewEvent[], batchSize: number, writers: number): Promise<number> {
  const store = new EventStore(pool);
  const ids = [...new Set(events.map((e) => e.sessionId))];
  // Opened the way the recorder's writer opens them (one batch, through the append path's own connection), so
  // nothing but the append path is in the process while it is timed.
  await store.writeBatch({ opens: ids.map((id) => ({ id, platform: 'moltstation' as const, game: 'shellrunners', startedAt: new Date() })) });
  const shares = shard(events, writers);
  const started = process.hrtime.bigint();
  await Promise.all(
    shares.map(async (share) => {
      for (let i = 0; i < share.length; i += batchSize) await store.append(share.slice(i, i + batchSize));
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export async function runIngestBench(o: IngestBenchOptions): Promise<IngestBenchResult> {
  o.out(
    `rewind bench ingest: ${fmt(o.events)} events of ~${o.bodyBytes} bytes across ${o.sessions} sessions, batches of ${o.batchSize}, ` +
      `${o.writers} writer(s) on each side, ${o.runs} run(s); ${os.cpus().length} cores, Node ${process.versions.node}`,
  );
  const raw: number[] = [];
  const append: number[] = [];
  let bytes = 0;
  let storage: { tableBytes: number; walBytes: number } | undefined;
  // The long phase (runs × both paths) behind a cli-progress bar on stderr, drawn only on a terminal; cleared
  // around each result line so the two never share a line.
  const bar = progress('[{bar}] {value}/{total} measurements', 1);
  bar.update(0, o.runs * 2);
  for (let run = 1; run <= o.runs; run++) {
    const generated = makeEvents(o.sessions, o.events, o.bodyBytes);
    bytes = generated.bytes;
    for (const path of ['raw', 'append'] as const) {
      const pool = await freshDatabase(o.serverUrl);
      try {
        const walBefore = path === 'append' ? await walLsn(pool) : '';
        const seconds = path === 'raw' ? await rawCopy(pool, generated.events, o.batchSize, o.writers) : await appendPath(pool, generated.events, o.batchSize, o.writers);
        if (path === 'append') storage = await storagePerEvent(pool, walBefore, o.events);
        (path === 'raw' ? raw : append).push(seconds);
        const { rows } = await pool.query(path === 'raw' ? 'SELECT count(*)::int AS n FROM bench_raw' : 'SELECT count(*)::int AS n FROM events');
        if (rows[0].n !== o.events) throw new Error(`${path}: stored ${rows[0].n} rows, expected ${o.events}`);
        bar.clear();
        o.out(
          `  run ${run} ${path === 'raw' ? 'raw COPY   ' : 'append path'} ${fmt(o.events / seconds).padStart(9)} events/s  ${fmt(bytes / 1e6 / seconds, 1).padStart(6)} MB/s  (${fmt(seconds, 2)} s)`,
        );
      } finally {
        await pool.end();
      }
      bar.update(raw.length + append.length, o.runs * 2);
    }
  }
  bar.clear();
  const rawS = median(raw);
  const appendS = median(append);
  const result: IngestBenchResult = {
    rawCopy: { eventsPerSec: o.events / rawS, mbPerSec: bytes / 1e6 / rawS },
    appendPath: { eventsPerSec: o.events / appendS, mbPerSec: bytes / 1e6 / appendS },
    ratio: rawS / appendS,
  };
  o.out('');
  o.out(`| path | events/s | MB/s (bodies) |`);
  o.out(`|---|---|---|`);
  o.out(`| raw COPY (session, seq, body text, PK), ${o.writers} stream(s) | ${fmt(result.rawCopy.eventsPerSec)} | ${fmt(result.rawCopy.mbPerSec, 1)} |`);
  o.out(`| Rewind append path, ${o.writers} writer(s) | ${fmt(result.appendPath.eventsPerSec)} | ${fmt(result.appendPath.mbPerSec, 1)} |`);
  o.out('');
  o.out(`append path / raw COPY = ${fmt(result.ratio, 2)} (medians of ${o.runs}); goal ≥ 0.50: ${result.ratio >= 0.5 ? 'met' : 'NOT met'}`);
  if (storage) {
    result.storage = storage;
    o.out(
      `storage per event (last run's append path, bodies ~${fmt(bytes / o.events)} B): ${fmt(storage.tableBytes)} B in the events table with its indexes and TOAST, ` +
        `${fmt(storage.walBytes)} B of Postgres WAL written (the server's whole WAL over the append: other databases' writes would count too) — for the capacity model (docs/benchmarks.md)`,
    );
  }
  // Leave nothing behind.
  const admin = new Client({ connectionString: withDatabase(o.serverUrl, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`).finally(() => admin.end());
  return result;
}
