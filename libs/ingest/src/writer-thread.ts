import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AppendResult, StoreBatch } from '@rewind/event-store';
import { EventStoreError, EventStoreErrorCode } from '@rewind/event-store';
import { packEvents, WireBatch } from './packed-batch';

/** What the Ingest needs to write: one batch, one transaction (`EventStore.writeBatch` satisfies it). */
export interface BatchWriter {
  writeBatch(batch: StoreBatch): Promise<AppendResult>;
}

type Request = { id: number; batch: WireBatch };
type Reply = { id: number; ok: true; appended: number; duplicates: number } | { id: number; ok: false; error: { name: string; message: string; code?: string; details?: Record<string, unknown> } };

export interface WriterThreadOptions {
  databaseUrl: string;
  /** Connections of the thread's own pool (default 2: one writes, one spare for a reconnect). */
  poolSize?: number;
  /** How long the thread's pool waits for a new connection (default 10 s, as every pool here). */
  connectionTimeoutMs?: number;
  log?: (line: string) => void;
}

/**
 * The ingest's store writes on a thread of their own: hashing the chain, encoding the COPY rows and every
 * round trip of the batch transaction run on a worker thread with its own pg pool, so a recorder whose main
 * event loop is busy relaying frames does not stretch each round trip (under load that latency, multiplied by
 * a batch's round trips, was what held the ingest back — see docs/reliability.md). Failures come back as the
 * store's own typed errors (refusals) or plain errors (transient: the Ingest journals and retries). A thread
 * that dies fails what it held (transient) and is started again on the next write.
 */
export class WriterThread implements BatchWriter {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: AppendResult) => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(private readonly options: WriterThreadOptions) {}

  writeBatch(batch: StoreBatch): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('the ingest writer thread is closed'));
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    // The events as columns (packed-batch.ts): a third of a structured clone of them as objects.
    const { events, ...rest } = batch;
    const packed = events && events.length > 0 ? packEvents(events) : null;
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (packed) worker.postMessage({ id, batch: { ...rest, packed } } satisfies Request, [packed.refs.buffer as ArrayBuffer, packed.nums.buffer as ArrayBuffer]);
      else worker.postMessage({ id, batch } satisfies Request);
    });
  }

  /**
   * Starts the thread now, when the process boots, rather than on the first write: loading its modules takes a CPU
   * core for about a second (seconds on a busy machine), which otherwise fell on the first batches of the first
   * traffic — the ingest's lag at a soak's start was that load (issue 18). A thread already running is kept.
   */
  warm(): void {
    if (!this.closed && !this.worker) this.spawn();
  }

  /** Stops the thread (its pool ends); writes still pending fail. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    if (!w) return;
    const gone = new Promise<void>((r) => w.once('exit', () => r()));
    w.postMessage({ type: 'close' });
    const timer = setTimeout(() => void w.terminate(), 5000);
    timer.unref();
    await gone;
    clearTimeout(timer);
  }

  /** The thread's id while it runs (tests). */
  get threadId(): number | null {
    return this.worker?.threadId ?? null;
  }

  private spawn(): Worker {
    const worker = new Worker(bootstrap(), {
      eval: true,
      workerData: {
        databaseUrl: this.options.databaseUrl,
        poolSize: this.options.poolSize ?? 2,
        connectionTimeoutMs: this.options.connectionTimeoutMs ?? 10_000,
        entry: path.join(__dirname, 'writer-thread-main'),
      },
      // The pg pool logs nothing itself; the thread reports through replies only.
      stdout: false,
      stderr: false,
    });
    worker.unref();
    worker.on('message', (m: Reply) => this.settle(m));
    worker.on('error', (e: Error) => this.options.log?.(`ingest writer thread failed (${e.message}); restarting it on the next write`));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = null;
      const lost = [...this.pending.values()];
      this.pending.clear();
      for (const p of lost) p.reject(new Error('the ingest writer thread stopped before answering'));
    });
    this.worker = worker;
    return worker;
  }

  private settle(m: Reply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve({ appended: m.appended, duplicates: m.duplicates, heads: new Map() });
    else p.reject(reviveError(m.error));
  }
}

function reviveError(e: { name: string; message: string; code?: string; details?: Record<string, unknown> }): Error {
  if (e.name === 'EventStoreError' && e.code) return new EventStoreError(e.code as EventStoreErrorCode, e.message, e.details ?? {});
  const err = new Error(e.message);
  err.name = e.name;
  if (e.code) (err as Error & { code?: string }).code = e.code;
  return err;
}

/**
 * The worker's source: loads the TypeScript register hook when the sources run untranspiled (as `./rewind`
 * and Jest run them), then the thread's main module.
 */
function bootstrap(): string {
  const register = path.resolve(__dirname, '../../../scripts/register.js');
  const ts = path.join(__dirname, 'writer-thread-main.ts');
  const hook = existsSync(ts) && existsSync(register) ? `require(${JSON.stringify(register)});` : '';
  return `${hook}require(require('node:worker_threads').workerData.entry);`;
}
