import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WriteAheadLog } from '@rewind/ingest';

export interface WalBenchOptions {
  events: number;
  bodyBytes: number;
  runs: number;
  /** Where the log is written (default: a fresh folder under the OS temp dir, removed after). */
  dir?: string;
  out: (line: string) => void;
}

export interface WalBenchResult {
  /** µs per appended event, per run. */
  usPerEvent: number[];
  median: number;
  /** Log files left once everything was released (must be 0). */
  leftOver: number;
}

/**
 * `rewind bench wal`: the cost the recorder's write-ahead log adds per event — `WriteAheadLog.append` of a
 * frame event (JSON line encoding; the synchronous writes, no fsync, of 64 KiB each: the whole loop is one
 * event-loop turn, so this is the log's best case, where a recorder's turn holds fewer items) with rotation, and
 * release every 5,000 events as a busy ingest would. No Postgres, no Redis.
 */
export function runWalBench(o: WalBenchOptions): WalBenchResult {
  const root = o.dir ?? mkdtempSync(join(tmpdir(), 'rewind-bench-wal-'));
  const quiet = { info: () => undefined, warn: () => undefined, error: (m: string) => o.out(`error: ${m}`) };
  const entity = (i: number) => ({ id: i, x: i * 3.5, y: i * 2.25, kind: 'rock' });
  let n = 0;
  const frame = (tick: number): string => {
    let body = JSON.stringify({ t: 'frame', frame: { v: 1, tick, entities: [] as unknown[] } });
    const entities: unknown[] = [];
    while (body.length < o.bodyBytes) body = JSON.stringify({ t: 'frame', frame: { v: 1, tick, entities: (entities.push(entity(n++)), entities) } });
    return body;
  };
  const body = frame(1);
  o.out(`rewind bench wal: ${o.events.toLocaleString('en-US')} events of ${body.length} bytes, ${o.runs} run(s); ${cpus().length} cores, Node ${process.versions.node}`);
  const usPerEvent: number[] = [];
  let leftOver = 0;
  try {
    for (let r = 1; r <= o.runs; r++) {
      const dir = join(root, `run-${r}`);
      const wal = new WriteAheadLog(dir, quiet);
      const t0 = process.hrtime.bigint();
      for (let i = 1; i <= o.events; i++) {
        wal.append({
          ordinal: i,
          type: 'event',
          event: {
            sessionId: '00000000-0000-4000-8000-000000000001',
            seq: i,
            kind: 'frame',
            direction: 'platform_to_client',
            channel: 'play_ws',
            recordedAtUs: Date.now() * 1000,
            offsetUs: i * 50_000,
            format: 'json',
            body,
            msgType: 'frame',
            tick: i,
            requestId: null,
            meta: null,
          },
        });
        if (i % 5000 === 0) wal.release(i - 1000);
      }
      // The log writes a turn's items at the turn's end; this loop is one turn: its last write counts too.
      wal.flush();
      const us = Number(process.hrtime.bigint() - t0) / 1000 / o.events;
      wal.release(o.events + 1);
      wal.close(true);
      leftOver += readdirSync(dir).filter((f) => f.endsWith('.ndjson')).length;
      usPerEvent.push(us);
      o.out(`  run ${r}: ${us.toFixed(2)} µs per event (${((o.events * us) / 1e6).toFixed(2)} s)`);
    }
  } finally {
    if (!o.dir) rmSync(root, { recursive: true, force: true });
  }
  const sorted = [...usPerEvent].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  o.out(`median ${median.toFixed(2)} µs per event: ${((3000 * median) / 1e4).toFixed(1)} % of a core at 3,000 events/s; ${leftOver} log files left after release (must be 0)`);
  return { usPerEvent, median, leftOver };
}
