/**
 * A child process of the multi-process gateway's spec (`cluster.int-spec.ts`): the API as `workers` processes
 * sharing one port (`runApiProcesses`, as apps/api with REWIND_API_WORKERS). The primary answers the spec over IPC:
 * `ready` with the port and the workers' pids, `gateways` with each worker's open replay sockets, and closes
 * everything on `exit`.
 *
 * argv: databaseUrl redisUrl apiKey secretHex queuePrefix workers
 */
import type { Worker } from 'node:cluster';
import { runApiProcesses } from '../../cluster';
import { startApi } from '../../api';
import { ReplayGateway } from '../gateway';

/** Spec → primary, and primary → each worker. */
export type ClusterCommand = { type: 'gateways' } | { type: 'exit' };
/** Primary → spec (and a worker → the primary: its gateway). */
export type ClusterReport =
  | { type: 'ready'; port: number; pids: number[] }
  | { type: 'gateway'; pid: number; connections: number; replays: number }
  | { type: 'gateways'; workers: { pid: number; connections: number; replays: number }[] };

async function main(): Promise<void> {
  const [databaseUrl, redisUrl, apiKey, secretHex, queuePrefix, workers] = process.argv.slice(2) as [string, string, string, string, string, string];
  const api = await runApiProcesses({
    workers: Number(workers),
    start: () => startApi({ databaseUrl, redisUrl, queuePrefix, port: 0, logger: false, shutdownHooks: false, replay: { apiKeys: [apiKey], secret: Buffer.from(secretHex, 'hex') } }),
    signals: false,
  });
  const send = (m: ClusterReport): void => void (process.connected && process.send?.(m));
  if (api.role !== 'primary') {
    // A worker: its gateway's sockets, when the primary asks.
    const gateway = api.app.get(ReplayGateway);
    process.on('message', (m: ClusterCommand) => {
      if (m?.type === 'gateways') send({ type: 'gateway', pid: process.pid, ...gateway.stats() });
    });
    return;
  }
  const ask = (w: Worker): Promise<Extract<ClusterReport, { type: 'gateway' }>> =>
    new Promise((resolve) => {
      const on = (m: ClusterReport): void => {
        if (m?.type !== 'gateway') return;
        w.off('message', on);
        resolve(m);
      };
      w.on('message', on);
      w.send({ type: 'gateways' } satisfies ClusterCommand);
    });
  process.on('message', (m: ClusterCommand) => {
    if (m?.type === 'exit') void api.stop().then(() => process.exit(0));
    if (m?.type === 'gateways')
      void Promise.all(api.workers().map(ask)).then((all) => send({ type: 'gateways', workers: all.map(({ pid, connections, replays }) => ({ pid, connections, replays })) }));
  });
  process.on('disconnect', () => void api.stop().then(() => process.exit(0)));
  send({ type: 'ready', port: api.port, pids: api.workers().map((w) => w.process.pid ?? 0) });
}

main().catch((e: unknown) => {
  process.stderr.write(`cluster-api: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
