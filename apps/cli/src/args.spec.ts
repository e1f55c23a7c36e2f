import { Command } from 'commander';
import { argsOf, intOption, rejectUnknown, UsageError } from './args';
import { buildProgram } from './main';

/** Runs the CLI's commander program on `argv` without exiting: what it printed and how it ended. */
async function parse(argv: string[]): Promise<{ out: string; err: string; code: string | null }> {
  const program = buildProgram();
  let out = '';
  let err = '';
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s), outputError: (s, write) => write(`rewind: ${s.replace(/^error: /, '')}`) });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return { out, err, code: null };
  } catch (e) {
    return { out, err, code: (e as { code: string }).code };
  }
}

describe('the CLI command line (commander)', () => {
  it('answers --help on every command and subcommand, naming its options', async () => {
    const sut = await parse(['replay', '--help']);
    expect(sut.code).toBe('commander.helpDisplayed');
    expect(sut.out).toContain('Usage: rewind replay [options] [sessionId]');
    for (const o of ['--speed <n>', '--from-seq <n>', '--skip-idle <ms>', '--json']) expect(sut.out).toContain(o);
    expect((await parse(['bench', 'ingest', '--help'])).out).toMatch(/--writers <n>\s+concurrent writers \(default 1\)/);
    expect((await parse(['pipeline', 'retry', '--help'])).out).toContain('Usage: rewind pipeline retry [options] [jobId]');
    expect((await parse(['export', '--help'])).out).toContain('-o, --output <file>');
    const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
    for (const c of all(buildProgram())) expect(c.helpInformation()).toMatch(/^Usage: /);
  });

  it('lists every command in `help`', async () => {
    const sut = await parse(['help']);
    expect(sut.code).toBe('commander.help');
    for (const c of ['up', 'demo', 'recorder', 'verify', 'replay', 'export', 'import', 'pipeline', 'bench', 'simulator', 'services', 'migrate', 'help'])
      expect(sut.out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it('refuses an unknown option or command with a usage error naming it', async () => {
    expect(await parse(['replay', 'x', '--bogus'])).toMatchObject({ code: 'commander.unknownOption', err: expect.stringContaining("rewind: unknown option '--bogus'") });
    expect(await parse(['frobnicate'])).toMatchObject({ code: 'commander.unknownCommand', err: expect.stringContaining("rewind: unknown command 'frobnicate'") });
    expect(await parse(['replay', 'x', '--speed'])).toMatchObject({ code: 'commander.optionMissingArgument' });
  });
});

describe('argsOf', () => {
  it('hands a command its options by long name, flags as true, values as given, and its positionals', () => {
    const cmd = new Command('x').option('--from-seq <n>').option('--json').option('-o, --output <file>').option('--unused <v>').argument('[id]').exitOverride();
    cmd.parse(['abc', '--from-seq', '3', '--json', '-o', 'f.ndjson'], { from: 'user' });
    const sut = argsOf(cmd, cmd.args);
    expect(sut.positionals).toEqual(['abc']);
    expect([...sut.options]).toEqual([
      ['from-seq', '3'],
      ['json', true],
      ['output', 'f.ndjson'],
    ]);
  });

  it('validates integers with the message naming the option and the range', () => {
    const args = {
      positionals: [],
      options: new Map<string, string | true>([
        ['runs', '0'],
        ['port', '8080'],
      ]),
    };
    expect(() => intOption(args, 'runs', 3, 1, 20)).toThrow(new UsageError('--runs must be an integer from 1 to 20'));
    expect(intOption(args, 'port', 1)).toBe(8080);
    expect(intOption(args, 'seconds', 20)).toBe(20);
    expect(() => rejectUnknown(args, ['runs'])).toThrow('unknown option --port');
  });
});

describe('argsOf with subcommands', () => {
  it('gives a subcommand the options commander parsed on its parent', () => {
    const parent = new Command('pipeline').option('--json').exitOverride();
    let seen: ReturnType<typeof argsOf> | undefined;
    parent
      .command('dead-letters')
      .option('--json')
      .action((_o, cmd: Command) => void (seen = argsOf(cmd, ['dead-letters'])));
    parent.parse(['dead-letters', '--json'], { from: 'user' });
    expect(seen).toEqual({ positionals: ['dead-letters'], options: new Map([['json', true]]) });
  });
});
