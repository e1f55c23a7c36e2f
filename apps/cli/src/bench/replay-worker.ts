/**
 * Child process of `rewind bench replay` (forked by ./replay.ts with the repo's register hook): the Rewind API
 * with its replay gateway (`startApi`) on the bench's scratch database, alone in its process as in production,
 * so the replay clients (the parent) do not share its event loop. With `workers` > 1 it is the primary of that many
 * API workers sharing the port (`runApiProcesses`, as apps/api with REWIND_API_WORKERS): it answers the parent's
 * questions with the sum over all the API's processes (CPU, GC) and the worst event loop. Talks to the parent over
 * IPC; exits when told to or when the parent disappears.
 *
 * argv: databaseUrl redisUrl apiKey secretHex [workers]
 */
import type { Worker } from 'node:cluster';
import { loopProbe, type LoopStats } from './stats';
import { installSendProbe, mergeSentLogs, takeSentLog, type SentLog } from './replay-probe';

/** Parent → API child (and the primary → each worker). */
export type ApiCommand = { type: 'stats'; /** Start a new measuring window. */ reset?: boolean } | { type: 'sends' } | { type: 'exit' };
/** API child → parent (and a worker → the primary: its stats, its send log). */
export type ApiReport = { type: 'ready'; port: number; workers: number; pids: number[] } | { type: 'stats'; cpuUs: number; loop: LoopStats } | { type: 'sends'; log: SentLog };
type StatsReport = Extract<ApiReport, { type: 'stats' }>;
type SendsReport = Extract<ApiReport, { type: 'sends' }>;

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** Sums CPU and GC over processes; the event-loop figures are the worst process's. */
export function mergeStats(all: StatsReport[]): StatsReport {
  const loop: LoopStats = { delayP99: 0, delayMax: 0, gcCount: 0, gcTotalMs: 0, gcMaxMs: 0 };
  let cpu = 0;
  for (const s of all) {
    cpu += s.cpuUs;
    loop.delayP99 = Math.max(loop.delayP99, s.loop.delayP99);
    loop.delayMax = Math.max(loop.delayMax, s.loop.delayMax);
    loop.gcCount += s.loop.gcCount;
    loop.gcTotalMs += s.loop.gcTotalMs;
    loop.gcMaxMs = Math.max(loop.gcMaxMs, s.loop.gcMaxMs);
  }
  return { type: 'stats', cpuUs: cpu, loop };
}

async function main(): Promise<void> {
  const [databaseUrl, redisUrl, apiKey, secretHex, workersArg] = process.argv.slice(2);
  if (!databaseUrl || redisUrl === undefined || !apiKey || !secretHex) throw new Error('replay-worker: usage: databaseUrl redisUrl apiKey secretHex [workers]');
  const workers = Math.max(1, Number(workersArg ?? '1') || 1);
  const { startApi, runApiProcesses } = await import('@rewind/api');
  // The primary's start-up line would land in the bench's table (the application itself runs with logger: false).
  const { configureLogging } = await import('@rewind/observability');
  configureLogging({ level: 'warn' });
  const probe = loopProbe();
  // When each event left the gateway (replay-probe.ts): the bench splits its lateness into the gateway's and the delivery's.
  installSendProbe();
  const api = await runApiProcesses({
    workers,
    start: () => startApi({ databaseUrl, redisUrl, port: 0, logger: false, shutdownHooks: false, replay: { apiKeys: [apiKey], secret: Buffer.from(secretHex, 'hex') } }),
    signals: false,
  });
  const send = (m: ApiReport): void => void (process.connected && process.send?.(m));

  if (api.role === 'primary') {
    let closing = false;
    const exit = async (): Promise<void> => {
      if (closing) return;
      closing = true;
      const t = setTimeout(() => process.exit(0), 20_000);
      await api.stop().catch(() => undefined);
      clearTimeout(t);
      process.exit(0);
    };
    const ask = <T extends ApiReport['type']>(w: Worker, command: ApiCommand & { type: T }): Promise<Extract<ApiReport, { type: T }>> =>
      new Promise((resolve) => {
        const onMessage = (m: ApiReport): void => {
          if (m?.type !== command.type) return;
          w.off('message', onMessage);
          resolve(m as Extract<ApiReport, { type: T }>);
        };
        w.on('message', onMessage);
        w.send(command);
      });
    process.on('message', (msg: ApiCommand) => {
      if (msg.type === 'exit') return void exit();
      if (msg.type === 'sends') {
        void Promise.all(api.workers().map((w) => ask(w, { type: 'sends' }))).then((all: SendsReport[]) => send({ type: 'sends', log: mergeSentLogs(all.map((r) => r.log)) }));
        return;
      }
      if (msg.type === 'stats') {
        const reset = msg.reset === true;
        const own: StatsReport = { type: 'stats', cpuUs: cpuUs(), loop: probe.read(reset) };
        // The primary's own CPU counts (it accepts the connections); its event loop is not on the send path.
        void Promise.all(api.workers().map((w) => ask(w, { type: 'stats', reset }))).then((all) => send(mergeStats([...all, { ...own, loop: { ...own.loop, delayP99: 0, delayMax: 0 } }])));
      }
    });
    process.on('disconnect', () => void exit());
    send({ type: 'ready', port: api.port, workers, pids: api.workers().map((w) => w.process.pid ?? 0) });
    return;
  }

  const app = api.app;
  let closing = false;
  const exit = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    const t = setTimeout(() => process.exit(0), 5_000);
    await app.close().catch(() => undefined);
    clearTimeout(t);
    process.exit(0);
  };
  process.on('message', (msg: ApiCommand) => {
    if (msg.type === 'exit') return void exit();
    if (msg.type === 'stats') send({ type: 'stats', cpuUs: cpuUs(), loop: probe.read(msg.reset === true) });
    if (msg.type === 'sends') send({ type: 'sends', log: takeSentLog() });
  });
  // A worker's primary closes it (runApiProcesses); a single child goes when the parent does.
  if (api.role === 'single') {
    process.on('disconnect', () => void exit());
    send({ type: 'ready', port: api.port, workers: 1, pids: [process.pid] });
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`rewind bench replay (api child): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
