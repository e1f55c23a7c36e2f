/**
 * Child process of `rewind bench replay` (forked by ./replay.ts with the repo's register hook): the Rewind API
 * with its replay gateway (`startApi`) on the bench's scratch database, alone in its process as in production,
 * so the replay clients (the parent) do not share its event loop. Talks to the parent over IPC; exits when told
 * to or when the parent disappears.
 *
 * argv: databaseUrl redisUrl apiKey secretHex
 */
import { loopProbe, type LoopStats } from './stats';

/** Parent → API child. */
export type ApiCommand = { type: 'stats'; /** Start a new measuring window. */ reset?: boolean } | { type: 'exit' };
/** API child → parent. */
export type ApiReport = { type: 'ready'; port: number } | { type: 'stats'; cpuUs: number; loop: LoopStats };

async function main(): Promise<void> {
  const [databaseUrl, redisUrl, apiKey, secretHex] = process.argv.slice(2);
  if (!databaseUrl || redisUrl === undefined || !apiKey || !secretHex) throw new Error('replay-worker: usage: databaseUrl redisUrl apiKey secretHex');
  const { startApi } = await import('@rewind/api');
  const app = await startApi({ databaseUrl, redisUrl, port: 0, logger: false, shutdownHooks: false, replay: { apiKeys: [apiKey], secret: Buffer.from(secretHex, 'hex') } });
  const address = (app.getHttpServer() as import('node:http').Server).address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const probe = loopProbe();
  const cpuUs = (): number => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const send = (m: ApiReport): void => void (process.connected && process.send?.(m));

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
    if (msg.type === 'stats') {
      send({ type: 'stats', cpuUs: cpuUs(), loop: probe.read(msg.reset === true) });
    }
  });
  process.on('disconnect', () => void exit());
  send({ type: 'ready', port });
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`rewind bench replay (api child): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
