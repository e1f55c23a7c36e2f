import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '@rewind/config';
import { argsOf, ParsedArgs, UsageError } from './args';
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

type Run = (args: ParsedArgs) => Promise<number>;

/** The exit code of the command that ran (commander's actions return nothing). */
let exitCode = 0;
/** The command whose help follows a usage error. */
let current: Command | undefined;

/** Wires a commander command to a Rewind command function: its positionals (`sub` first when given) and options. */
function action(cmd: Command, run: Run, sub?: string): Command {
  return cmd.action(async (...params: unknown[]) => {
    const self = params.at(-1) as Command;
    current = self;
    const positionals = params.slice(0, -2).flatMap((p) => (Array.isArray(p) ? (p as string[]) : p === undefined ? [] : [p as string]));
    exitCode = await run(argsOf(self, sub ? [sub, ...positionals] : positionals));
  });
}

const int = (flags: string, what: string, fallback?: number): [string, string] => [flags, fallback === undefined ? what : `${what} (default ${fallback})`];

export function buildProgram(): Command {
  const program = new Command('rewind')
    .description('records, stores and replays game sessions played by AI agents')
    .usage('<command> [options]')
    .addHelpText('after', '\nAlso: ./rewind test [jest args]   type-check and run the whole test suite (real Postgres and Redis)\nConfiguration: environment variables, listed in .env.example.\n')
    .helpCommand('help [command]', 'this text, or the help of a command')
    .showSuggestionAfterError(true)
    .exitOverride();
  program.configureOutput({ outputError: (text, write) => write(`rewind: ${text.replace(/^error: /, '')}`) });

  action(program.command('up').description('start the services, the API and the recorder (proxy on 8081) on the embedded local defaults'), upCommand);
  action(
    program
      .command('demo')
      .description('everything of `up`, plus the platform simulator and bots playing all four platforms')
      .option(...int('--seconds <n>', 'stop after this many seconds (default: until Ctrl-C)'))
      .option('--verbose', 'one line per proxied exchange'),
    demoCommand,
  );
  action(
    program
      .command('recorder')
      .description('one more recorder process (proxy + a share of the live captures), to scale out')
      .option('--port <n>', 'its proxy port (default REWIND_PROXY_PORT)')
      .option('--instance <name>', 'its instance name (journal directory, capture holder)')
      .option('--verbose', 'one line per proxied exchange'),
    recorderCommand,
  );
  action(
    program
      .command('verify')
      .description('recompute hash chains and audit the runs; exit 1 on a broken link or a mismatch')
      .argument('[sessionId]', 'the session to verify')
      .option('--all', 'every session')
      .option('--json', 'one JSON object a line')
      .option('--chains-only', 'hash chains only, no audit')
      .allowExcessArguments(),
    verifyCommand,
  );
  action(
    program
      .command('replay')
      .description('replay a stored session in real time, printing each event, then a summary')
      .argument('[sessionId]', 'the session to replay')
      .option('--speed <n>', 'playback speed, 0.25–32 (default 1)')
      .option('--from-seq <n>', 'start at this event')
      .option('--skip-idle <ms>', 'shorten gaps longer than this')
      .option('--json', 'one JSON object per event')
      .allowExcessArguments(),
    replayCommand,
  );
  action(
    program
      .command('export')
      .description('write a session as portable NDJSON (rewind-export/1); stdout without -o')
      .argument('[sessionId]', 'the session to export')
      .option('-o, --output <file>', 'the file to write')
      .allowExcessArguments(),
    exportCommand,
  );
  action(
    program.command('import').description('read a rewind-export/1 file into the database (checks every line and the hash chain)').argument('[file]', 'the file to read').allowExcessArguments(),
    importCommand,
  );

  const pipeline = program.command('pipeline').description('the outcome pipeline’s dead letters').argument('[subcommand]').option('--json').option('--all').allowExcessArguments();
  action(pipeline, pipelineCommand);
  action(pipeline.command('dead-letters').description('outcome-pipeline jobs that used up their attempts').option('--json', 'as JSON'), pipelineCommand, 'dead-letters');
  action(pipeline.command('retry').description('move dead letters back to their queue').argument('[jobId]', 'the dead letter to retry').option('--all', 'every dead letter'), pipelineCommand, 'retry');

  const bench = program.command('bench').description('benchmarks (docs/benchmarks.md)').argument('[benchmark]').allowExcessArguments();
  action(bench, benchCommand);
  action(
    bench
      .command('ingest')
      .description('the append path against raw COPY of the same rows')
      .option(...int('--events <n>', 'events', 200_000))
      .option(...int('--sessions <n>', 'sessions', 100))
      .option(...int('--body-bytes <n>', 'bytes per body', 800))
      .option(...int('--batch <n>', 'events per append batch', 2000))
      .option(...int('--runs <n>', 'runs', 3))
      .option(...int('--writers <n>', 'concurrent writers', 1)),
    benchCommand,
    'ingest',
  );
  action(
    bench
      .command('proxy')
      .description('the recording proxy’s added latency against direct connections')
      .option(...int('--sessions <n>', 'sessions', 200))
      .option(...int('--frames-per-sec <n>', 'frames per second per session', 20))
      .option(...int('--seconds <n>', 'seconds per run', 20))
      .option(...int('--frame-bytes <n>', 'bytes per frame', 800))
      .option(...int('--runs <n>', 'runs', 3))
      .option('--profile', 'CPU-profile the recorder and print its CPU per relayed message by stage'),
    benchCommand,
    'proxy',
  );
  action(
    bench
      .command('replay')
      .description('the replay gateway: lateness of concurrent 20 Hz streams (and the floor: a bare ws server), seek in a one-hour session')
      .option('--sessions <n>', 'concurrent streams')
      .option('--seconds <n>', 'seconds per run')
      .option('--seeks <n>', 'seeks')
      .option('--runs <n>', 'runs')
      .option('--workers <n>', 'API processes sharing its port (default: the cores)')
      .option('--client <ws|raw>', "the streams' clients: ws (default) or a lighter raw-socket reader")
      .option(
        '--skip-floor',
        'skip the floor line (the same clients against a bare Node server on raw sockets holding every event as a pre-built frame, one timer: what any Node server achieves here)',
      ),
    benchCommand,
    'replay',
  );
  action(
    bench
      .command('soak')
      .description('everything under mixed load with scripted faults, then a reconciliation (exit 1 if lost)')
      .option('--sessions <n>', 'agent sessions')
      .option('--seconds <s>', 'duration')
      .option('--replays <n>', 'concurrent replays')
      .option('--faults <list>', 'all | postgres-restart,redis-restart,recorder-kill,pipeline-kill,upstream-restart,network-stall'),
    benchCommand,
    'soak',
  );
  action(
    bench
      .command('wal')
      .description('the recorder’s write-ahead log: cost per event (no services needed)')
      .option('--events <n>', 'events')
      .option('--body-bytes <n>', 'bytes per body')
      .option('--runs <n>', 'runs'),
    benchCommand,
    'wal',
  );

  action(
    program
      .command('simulator')
      .description('the four platforms’ simulator (MoltStation, SpaceMolt, cloud-play, RGS)')
      .option(...int('--port <n>', 'its port', 4100))
      .option('--seed <s>', 'everything random derives from it'),
    simulatorCommand,
  );
  const services = program.command('services').description('the local Postgres and Redis under .rewind/').argument('[action]').allowExcessArguments();
  action(services, servicesCommand);
  for (const [sub, what] of [
    ['start', 'start them (installed from Debian packages when missing)'],
    ['stop', 'stop them'],
    ['status', 'where they run'],
  ] as const) {
    action(services.command(sub).description(what), servicesCommand, sub);
  }
  program
    .command('migrate')
    .description('apply prisma/migrations to the database')
    .action(async () => {
      const { startRuntime } = await import('./runtime');
      const runtime = await startRuntime({ redis: false });
      await runtime.services.stop();
      exitCode = 0;
    });
  // Every command answers a bad line with its help and exit code 2 (commander's own errors included).
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program))
    c.exitOverride()
      .configureOutput({ outputError: (text, write) => write(`rewind: ${text.replace(/^error: /, '')}`) })
      .showHelpAfterError(true);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length === 0) {
    process.stdout.write(program.helpInformation());
    return 0;
  }
  current = program;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    // --help and `help` end here too, with exit code 0.
    return e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version' ? 0 : 2;
  }
  return exitCode;
}

if (require.main === module) {
  // A reader that stops early (`./rewind help | head`) closes stdout: that ends the command quietly, not with a stack.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof UsageError) process.stderr.write(`rewind: ${e.message}\n\n${(current ?? buildProgram()).helpInformation()}`);
      else if (e instanceof ConfigError) process.stderr.write(`rewind: ${e.message}\n`);
      else process.stderr.write(`rewind: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(2);
    },
  );
}
