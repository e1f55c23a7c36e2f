import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CaptureTaskLogger } from '@rewind/capture-facts';

export type KeeperCommand = { type: 'beat' } | { type: 'track'; jobId: string; token: string } | { type: 'untrack'; jobId: string; token: string } | { type: 'close' };
export type KeeperReport = { type: 'renewed'; count: number } | { type: 'lost'; locks: { jobId: string; token: string }[] } | { type: 'error'; message: string } | { type: 'silent'; ms: number };

export interface LockKeeperOptions {
  redisUrl: string;
  prefix: string;
  queueName: string;
  lockDurationMs: number;
  /** Default lockDuration / 4. */
  renewEveryMs?: number;
  /**
   * The main thread sends a heartbeat every second; silent longer than this, it is taken as hung (not busy) and its
   * locks are no longer renewed, so another process takes its captures over. Default 60 s.
   */
  maxLoopSilenceMs?: number;
  /** Locks found gone or someone else's (each with the token of the run that held it). */
  onLost: (locks: { jobId: string; token: string }[]) => void;
  log: CaptureTaskLogger;
}

/**
 * Renews the capture jobs' locks on a thread of its own, with its own Redis connection (BullMQ's own renewal is off:
 * `skipLockRenewal`). BullMQ renews from the worker's event loop, on a timer: a recorder whose loop is late by more
 * than the lock's slack — seconds, on a machine at its limit — lost its locks although it was alive and recording,
 * and the capture was re-run next to the one still writing (622 locks lost in one 200-session soak; the stream of a
 * capture written by two holders). A thread is scheduled by the OS, not behind the loop's queue of work: a busy
 * recorder keeps its captures, a dead one loses them after `lockDuration`, and a hung one (no heartbeat for
 * `maxLoopSilenceMs`) too.
 */
export class LockKeeper {
  private readonly worker: Worker;
  private readonly beat: NodeJS.Timeout;
  private closed = false;
  private errorLogged = false;
  private readonly counters = { renewals: 0, lost: 0, errors: 0 };

  constructor(private readonly o: LockKeeperOptions) {
    this.worker = new Worker(bootstrap(), {
      eval: true,
      workerData: {
        entry: path.join(__dirname, 'lock-keeper-main'),
        redisUrl: o.redisUrl,
        lockKeyPrefix: `${o.prefix}:${o.queueName}:`,
        stalledKey: `${o.prefix}:${o.queueName}:stalled`,
        lockDurationMs: o.lockDurationMs,
        renewEveryMs: o.renewEveryMs ?? Math.max(250, Math.floor(o.lockDurationMs / 4)),
        maxLoopSilenceMs: o.maxLoopSilenceMs ?? 60_000,
      },
      stdout: false,
      stderr: false,
    });
    this.worker.unref();
    this.worker.on('message', (r: KeeperReport) => this.report(r));
    this.worker.on('error', (e: Error) => o.log.error(`capture lock keeper failed: ${e.message}`));
    this.beat = setInterval(() => this.send({ type: 'beat' }), 1000);
    this.beat.unref();
  }

  track(jobId: string, token: string): void {
    this.send({ type: 'track', jobId, token });
  }

  untrack(jobId: string, token: string): void {
    this.send({ type: 'untrack', jobId, token });
  }

  stats(): { renewals: number; lost: number; errors: number } {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.beat);
    const gone = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'close' } satisfies KeeperCommand);
    const timer = setTimeout(() => void this.worker.terminate(), 2000);
    await gone;
    clearTimeout(timer);
  }

  private send(c: KeeperCommand): void {
    if (!this.closed) this.worker.postMessage(c);
  }

  private report(r: KeeperReport): void {
    switch (r.type) {
      case 'renewed':
        this.counters.renewals++;
        this.errorLogged = false;
        return;
      case 'lost':
        this.counters.lost += r.locks.length;
        this.o.onLost(r.locks);
        return;
      case 'error':
        this.counters.errors++;
        if (!this.errorLogged) this.o.log.warn(`capture lock keeper: could not renew (${r.message}); retrying`);
        this.errorLogged = true;
        return;
      case 'silent':
        this.o.log.error(`capture lock keeper: the event loop sent no heartbeat for ${r.ms} ms (hung): its capture locks are no longer renewed`);
        return;
    }
  }
}

/** The thread's source: the TypeScript register hook when the sources run untranspiled (`./rewind`, Jest), then its main module. */
function bootstrap(): string {
  const register = path.resolve(__dirname, '../../../scripts/register.js');
  const ts = path.join(__dirname, 'lock-keeper-main.ts');
  const hook = existsSync(ts) && existsSync(register) ? `require(${JSON.stringify(register)});` : '';
  return `${hook}require(require('node:worker_threads').workerData.entry);`;
}
