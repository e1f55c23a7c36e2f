import cluster, { Worker } from 'node:cluster';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { createLogger, serveClusterMetrics } from '@rewind/observability';

/** What a worker tells its primary (IPC), and what the primary asks of a worker. Kept apart from an embedder's own messages by `rewindApi`. */
type WorkerReport = { rewindApi: 'ready'; port: number } | { rewindApi: 'failed'; message: string };
type PrimaryCommand = { rewindApi: 'shutdown' };

export interface ApiProcessesOptions {
  /** Processes: 1 runs the application here; more makes this process the primary of that many workers (node `cluster`). */
  workers: number;
  /** Starts the application in this process (the only one, or a worker); it listens on the API's port (and the replay ports). */
  start: () => Promise<INestApplication>;
  /** The script the workers run (default: this process's own, with its arguments and node flags), for an embedder that is not its own entry point (a test). */
  exec?: { file: string; args?: string[]; execArgv?: string[] };
  /** A worker that dies after the start is replaced after this delay (ms; default 1,000). */
  restartDelayMs?: number;
  /** The primary closes its workers on SIGTERM/SIGINT and exits (default true; an embedder that closes it itself passes false). */
  signals?: boolean;
}

/** This process's part: the application (alone or as a worker), or the primary of the workers. */
export type ApiProcess =
  | { role: 'single' | 'worker'; app: INestApplication; port: number }
  | {
      role: 'primary';
      /** The API's port, which every worker listens on (one port chosen by the first listener when the API's port is 0). */
      port: number;
      /** The live workers. */
      workers(): Worker[];
      /** Closes every worker (each closes its application: its replays stop, its sockets are cut) and waits for them. */
      stop(): Promise<void>;
    };

function portOf(app: INestApplication): number {
  const a = (app.getHttpServer() as Server).address();
  return typeof a === 'object' && a ? a.port : 0;
}

/**
 * The API as one process or as several sharing its ports (REWIND_API_WORKERS, docs/replay.md "Several processes").
 *
 * With more than one worker this process becomes node `cluster`'s primary: it forks the workers, each of which runs
 * the whole Nest application (`start`) and listens on the API's port and the replay gateway's per-platform ports;
 * the primary holds the listening sockets and hands the connections out round-robin, so each WebSocket lives in one
 * worker from its upgrade to its close. The primary itself opens no connection to Postgres or Redis.
 *
 * Why several copies of the application are safe: the API keeps no state a request or a socket of another worker
 * needs. Replay tokens are HMACs checked with the installation's secret (the same in every worker: it comes from the
 * configuration, never generated per process), a replay's state (position, speed, pause, flow control) belongs to its
 * socket and so to one worker, a reconnect opens a new stream from the position the client names (`fromSeq`/`from`),
 * the pipeline's queues are only written to (BullMQ in Redis), and the gauges read Postgres and Redis when scraped.
 * `/metrics` answers for the whole cluster: the worker a scrape reaches asks the primary, which aggregates every
 * worker's registries (prom-client's `AggregatorRegistry`: counters and histograms summed, the gauges that read shared
 * state taken once). What is per worker: the logs (one line per worker at start).
 *
 * A worker that fails before it is ready fails the start (the others are closed, the promise rejects with its
 * reason); one that dies later is replaced.
 */
export async function runApiProcesses(o: ApiProcessesOptions): Promise<ApiProcess> {
  if (cluster.isWorker) return startWorker(o);
  if (o.workers <= 1) {
    const app = await o.start();
    return { role: 'single', app, port: portOf(app) };
  }
  return startPrimary(o);
}

async function startWorker(o: ApiProcessesOptions): Promise<ApiProcess> {
  const send = (m: WorkerReport): void => void (process.connected && process.send?.(m));
  let app: INestApplication;
  try {
    app = await o.start();
  } catch (e) {
    send({ rewindApi: 'failed', message: e instanceof Error ? e.message : String(e) });
    throw e;
  }
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const t = setTimeout(() => process.exit(0), 10_000);
      await app.close().catch(() => undefined);
      clearTimeout(t);
      process.exit(0);
    })());
  process.on('message', (m: PrimaryCommand) => {
    if (m && m.rewindApi === 'shutdown') void close();
  });
  // The primary went away (killed): nothing would hand this worker connections any more.
  process.on('disconnect', () => void close());
  const port = portOf(app);
  send({ rewindApi: 'ready', port });
  return { role: 'worker', app, port };
}

async function startPrimary(o: ApiProcessesOptions): Promise<ApiProcess> {
  // The process's pino root (the primary runs no Nest application): the same stream and format as the workers'.
  const logger = createLogger('RewindApi');
  if (o.exec) cluster.setupPrimary({ exec: o.exec.file, args: o.exec.args ?? [], ...(o.exec.execArgv ? { execArgv: o.exec.execArgv } : {}) });
  const restartDelayMs = o.restartDelayMs ?? 1_000;
  const live = new Set<Worker>();
  let stopping = false;
  let signalled = false;
  let started = false;

  const fork = (): Promise<number> => {
    const worker = cluster.fork();
    live.add(worker);
    return new Promise<number>((resolve, reject) => {
      worker.on('message', (m: WorkerReport) => {
        if (m?.rewindApi === 'ready') resolve(m.port);
        else if (m?.rewindApi === 'failed') reject(new Error(m.message));
      });
      worker.once('exit', (code, signal) => {
        live.delete(worker);
        reject(new Error(`API worker ${worker.process.pid ?? '?'} exited (${signal ?? `code ${code}`}) before it was ready`));
        if (started && !stopping) {
          logger.warn(`API worker ${worker.process.pid ?? '?'} exited (${signal ?? `code ${code}`}); starting another`);
          setTimeout(() => {
            if (!stopping) fork().catch((e: unknown) => logger.error(`API worker did not start: ${e instanceof Error ? e.message : String(e)}`));
          }, restartDelayMs).unref();
        }
      });
    });
  };

  // A scrape of /metrics reaching any worker answers for all of them (the primary aggregates).
  const stopMetrics = serveClusterMetrics();
  const stop = async (): Promise<void> => {
    stopping = true;
    stopMetrics();
    const workers = [...live];
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            const t = setTimeout(() => w.process.kill('SIGKILL'), 15_000);
            w.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            if (w.isConnected()) w.send({ rewindApi: 'shutdown' } satisfies PrimaryCommand);
            else w.process.kill('SIGTERM');
          }),
      ),
    );
  };

  // From the first fork: a signal while the workers start closes those already there.
  if (o.signals ?? true) {
    const onSignal = (): void => {
      signalled = true;
      void stop().then(() => process.exit(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  let ports: number[];
  try {
    // The first alone: with the API's port 0, its listener picks the port the others then share.
    ports = [await fork()];
    ports.push(...(await Promise.all(Array.from({ length: o.workers - 1 }, () => fork()))));
  } catch (e) {
    await stop();
    if (signalled) await new Promise<never>(() => undefined); // the signal's handler exits
    throw e;
  }
  started = true;
  const port = ports[0] as number;
  if (ports.some((p) => p !== port)) {
    await stop();
    throw new Error(`API workers listen on different ports (${ports.join(', ')})`);
  }
  logger.info(`${o.workers} API workers (pids ${[...live].map((w) => w.process.pid).join(', ')}) on port ${port}`);
  return { role: 'primary', port, workers: () => [...live], stop };
}
