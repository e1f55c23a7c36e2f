import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';

/**
 * CPU accounting of a benchmark: how much CPU each kind of process spent over a window, and what that costs per
 * stored event. The processes come and go during a window (a killed recorder, its replacement, Postgres backends
 * of pools that reconnect), so the ledger is fed repeated readings of (kind, pid, CPU seconds so far) and keeps,
 * per kind, the CPU spent since the window began. The arithmetic is pure (cpu-account.spec.ts); reading /proc and
 * pg_stat_activity is done by the helpers at the end.
 */

/** One reading: a process of `kind` (pid) had used `seconds` of CPU (user + system, all its threads) so far. */
export interface CpuReading {
  kind: string;
  pid: number;
  seconds: number;
}

export class CpuLedger {
  /** Per pid: its kind, the CPU it had when the window began (0 if it started later) and the latest reading. */
  private readonly procs = new Map<number, { kind: string; base: number; last: number }>();
  /** CPU of processes whose pid was taken over by a later process, per kind. */
  private readonly retired = new Map<string, { seconds: number; processes: number }>();

  /** The window begins: the processes read now count from these readings on. */
  constructor(initial: readonly CpuReading[] = []) {
    for (const r of initial) if (Number.isFinite(r.seconds)) this.procs.set(r.pid, { kind: r.kind, base: r.seconds, last: r.seconds });
  }

  /**
   * Later readings. A process not seen at the start counts whole (it started during the window: its start-up is
   * part of the window's cost). A pid whose CPU went down, or whose kind changed, is a new process that reused
   * the pid: the old one keeps what it had at its last reading. A process gone between two readings loses what
   * it spent since the last one (read often, and just before killing a process).
   */
  observe(readings: readonly CpuReading[]): void {
    for (const r of readings) {
      if (!Number.isFinite(r.seconds)) continue;
      const p = this.procs.get(r.pid);
      if (p && p.kind === r.kind && r.seconds >= p.last) {
        p.last = r.seconds;
        continue;
      }
      if (p) {
        const r0 = this.retired.get(p.kind) ?? { seconds: 0, processes: 0 };
        this.retired.set(p.kind, { seconds: r0.seconds + (p.last - p.base), processes: r0.processes + 1 });
      }
      this.procs.set(r.pid, { kind: r.kind, base: 0, last: r.seconds });
    }
  }

  /** CPU seconds spent since the window began, per kind, and how many processes of each kind were seen. */
  totals(): Record<string, { seconds: number; processes: number }> {
    const out: Record<string, { seconds: number; processes: number }> = {};
    const at = (kind: string): { seconds: number; processes: number } => (out[kind] ??= { seconds: 0, processes: 0 });
    for (const [kind, r] of this.retired) {
      at(kind).seconds += r.seconds;
      at(kind).processes += r.processes;
    }
    for (const p of this.procs.values()) {
      const k = at(p.kind);
      k.seconds += p.last - p.base;
      k.processes++;
    }
    return out;
  }
}

/** Rewind's own process kinds (what a deployment runs); everything else in a benchmark stands for agents, platforms or the harness. */
export const REWIND_CPU_KINDS: readonly string[] = ['recorder', 'pipeline', 'api', 'postgres backends', 'postgres server'];

export interface CpuPerEventRow {
  kind: string;
  processes: number;
  seconds: number;
  /** µs of CPU per stored event. */
  usPerEvent: number;
  /** Share of Rewind's total (NaN for kinds outside Rewind). */
  shareOfRewind: number;
  rewind: boolean;
}

export interface CpuPerEvent {
  events: number;
  /** All Rewind kinds, µs per stored event; and without the Postgres server's background processes (shared by every database of that server). */
  rewindUsPerEvent: number;
  rewindUsPerEventWithoutServer: number;
  rewindSeconds: number;
  /** Rewind's kinds first (in REWIND_CPU_KINDS order, present or not), then the others by name. */
  rows: CpuPerEventRow[];
}

/** CPU per stored event, by kind and for Rewind as a whole (pure). */
export function cpuPerEvent(totals: Record<string, { seconds: number; processes: number }>, events: number, rewindKinds: readonly string[] = REWIND_CPU_KINDS): CpuPerEvent {
  const per = (s: number): number => (events > 0 ? (s * 1e6) / events : NaN);
  const rewindSeconds = rewindKinds.reduce((a, k) => a + (totals[k]?.seconds ?? 0), 0);
  const server = totals['postgres server']?.seconds ?? 0;
  const row = (kind: string, rewind: boolean): CpuPerEventRow => {
    const t = totals[kind] ?? { seconds: 0, processes: 0 };
    return { kind, processes: t.processes, seconds: t.seconds, usPerEvent: per(t.seconds), shareOfRewind: rewind && rewindSeconds > 0 ? t.seconds / rewindSeconds : NaN, rewind };
  };
  const others = Object.keys(totals)
    .filter((k) => !rewindKinds.includes(k))
    .sort();
  return {
    events,
    rewindUsPerEvent: per(rewindSeconds),
    rewindUsPerEventWithoutServer: per(rewindSeconds - (rewindKinds.includes('postgres server') ? server : 0)),
    rewindSeconds,
    rows: [...rewindKinds.map((k) => row(k, true)), ...others.map((k) => row(k, false))],
  };
}

// ---- readings (Linux) --------------------------------------------------------------------------------------

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** user + system CPU time of a process (all its threads) in seconds (Linux /proc; NaN elsewhere or when gone). */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** Server-wide background processes of Postgres (they work for every database of the server). */
const PG_SERVER_TYPES = ['checkpointer', 'background writer', 'walwriter', 'autovacuum launcher', 'logical replication launcher', 'walsender', 'archiver'];

/**
 * Readings of the Postgres processes that work for the database `pool` is connected to: its backends (client
 * backends and autovacuum workers of that database: `postgres backends`) and the server's background processes
 * (WAL writer, checkpointer, background writer…: `postgres server`). Backends of other databases are left out.
 * The pids come from pg_stat_activity, the CPU from /proc: the server must run on this machine.
 */
export async function postgresReadings(pool: Pool): Promise<CpuReading[]> {
  const { rows } = await pool.query<{ pid: number; backend_type: string | null; ours: boolean | null }>(`SELECT pid, backend_type, datname = current_database() AS ours FROM pg_stat_activity`);
  const out: CpuReading[] = [];
  for (const r of rows) {
    const kind = r.ours ? 'postgres backends' : r.backend_type && PG_SERVER_TYPES.includes(r.backend_type) ? 'postgres server' : undefined;
    if (!kind) continue;
    const seconds = cpuSeconds(r.pid);
    if (Number.isFinite(seconds)) out.push({ kind, pid: r.pid, seconds });
  }
  return out;
}
