import { loadConfig } from '@rewind/config';
import { localServicesStatus, maskUrl, stopLocalServices } from '@rewind/local-services';
import { ParsedArgs, rejectUnknown, UsageError } from '../args';
import { log, startRuntime } from '../runtime';

/** rewind services <start|stop|status>: the local Postgres and Redis under .rewind/. */
export async function servicesCommand(args: ParsedArgs): Promise<number> {
  rejectUnknown(args, []);
  const action = args.positionals[0] ?? 'status';
  const config = loadConfig();
  switch (action) {
    case 'start': {
      const runtime = await startRuntime();
      process.stdout.write(`postgres  ${maskUrl(runtime.databaseUrl)}\nredis     ${maskUrl(runtime.redisUrl)}\n`);
      return 0;
    }
    case 'stop':
      await stopLocalServices(config.dataDir);
      log('local services stopped');
      return 0;
    case 'status':
      process.stdout.write(JSON.stringify(await localServicesStatus(config.dataDir), null, 2) + '\n');
      return 0;
    default:
      throw new UsageError(`unknown services action "${action}" (start, stop or status)`);
  }
}
