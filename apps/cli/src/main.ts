import 'reflect-metadata';
import { ConfigError } from '@rewind/config';
import { parseArgs, UsageError } from './args';
import { benchCommand } from './commands/bench';
import { demoCommand } from './commands/demo';
import { servicesCommand } from './commands/services';
import { simulatorCommand } from './commands/simulator';
import { exportCommand } from './commands/export';
import { importCommand } from './commands/import';
import { pipelineCommand } from './commands/pipeline';
import { recorderCommand } from './commands/recorder';
import { replayCommand } from './commands/replay';
import { upCommand } from './commands/up';
import { verifyCommand } from './commands/verify';

const HELP = `rewind: records, stores and replays game sessions played by AI agents

Usage: ./rewind <command> [options]

  demo [--seconds N] [--verbose]  everything of \`up\`, plus the platform simulator and bots playing all four platforms
  up                        start the services, the API and the recorder (proxy on 8081) on the embedded local defaults
  recorder [--port N] [--instance NAME] [--verbose]
                            one more recorder process (proxy + a share of the live captures), to scale out
  test [jest args]          type-check and run the whole test suite (real Postgres and Redis)
  verify <id> | --all       recompute hash chains and audit the runs; exit 1 on a broken link or a mismatch
          [--json]
  replay <id> [--speed N] [--from-seq N] [--skip-idle MS] [--json]
                            replay a stored session in real time (speed 0.25–32), printing each event, then a summary
  export <id> [-o file]     write a session as portable NDJSON (rewind-export/1, docs/export-format.md); stdout without -o
  import <file>             read a rewind-export/1 file into the database (checks every line and the hash chain)
  bench ingest              the append path against raw COPY of the same rows
          [--events N] [--sessions N] [--body-bytes N] [--batch N] [--runs N] [--writers N]
  bench proxy               the recording proxy's added latency against direct connections
          [--sessions N] [--frames-per-sec N] [--seconds N] [--frame-bytes N] [--runs N]
  pipeline dead-letters [--json]   outcome-pipeline jobs that used up their attempts
  pipeline retry <jobId> | --all   move dead letters back to their queue
  bench replay              the replay gateway: lateness of 500 concurrent 20 Hz streams, seek in a one-hour session
          [--sessions N] [--seconds N] [--seeks N] [--runs N]
  bench soak                everything under mixed load with scripted faults, then a reconciliation (exit 1 if lost)
          [--sessions N] [--seconds S] [--replays N] [--faults all|postgres-restart,redis-restart,…]
  simulator [--port N] [--seed S]  the four platforms' simulator (MoltStation, SpaceMolt, cloud-play, RGS)
  services start|stop|status  the local Postgres and Redis under .rewind/
  migrate                   apply prisma/migrations to the database
  help                      this text

Configuration: environment variables, listed in .env.example.
`;

const VALUE_OPTIONS = ['events', 'sessions', 'body-bytes', 'batch', 'runs', 'writers', 'port', 'seed', 'seconds', 'frames-per-sec', 'frame-bytes', 'instance', 'o', 'output', 'speed', 'from-seq', 'skip-idle', 'seeks', 'replays', 'faults'];

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const args = parseArgs(rest, VALUE_OPTIONS);
  switch (command) {
    case 'up':
      return upCommand(args);
    case 'demo':
      return demoCommand(args);
    case 'recorder':
      return recorderCommand(args);
    case 'pipeline':
      return pipelineCommand(args);
    case 'replay':
      return replayCommand(args);
    case 'export':
      return exportCommand(args);
    case 'import':
      return importCommand(args);
    case 'verify':
      return verifyCommand(args);
    case 'bench':
      return benchCommand(args);
    case 'services':
      return servicesCommand(args);
    case 'simulator':
      return simulatorCommand(args);
    case 'migrate': {
      const { startRuntime } = await import('./runtime');
      const runtime = await startRuntime({ redis: false });
      await runtime.services.stop();
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) process.stderr.write(`rewind: ${e.message}\n\n${HELP}`);
    else if (e instanceof ConfigError) process.stderr.write(`rewind: ${e.message}\n`);
    else process.stderr.write(`rewind: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);
