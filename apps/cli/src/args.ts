import type { Command } from 'commander';

/**
 * What a command gets from the command line: its positionals and its options by their long name (`--from-seq 3`
 * → `from-seq` → `'3'`, a flag → `true`). Commander parses the line and answers `--help`; the values stay strings
 * here so that each command validates its own (`intOption`) with the messages it always had.
 */
export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string | true>;
}

/** A bad command line: the CLI prints the message and the command's help, and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The `ParsedArgs` of a commander command once parsed: its declared options by long name (and those of its parent
 * commands, which commander gives to the parent: `pipeline dead-letters --json`), and `positionals`.
 */
export function argsOf(command: Command, positionals: readonly string[]): ParsedArgs {
  const options = new Map<string, string | true>();
  for (let c: Command | null = command; c; c = c.parent) {
    const values = c.opts<Record<string, unknown>>();
    for (const o of c.options) {
      const v = values[o.attributeName()];
      const name = (o.long ?? o.short ?? '').replace(/^--?/, '');
      if (v === undefined || v === false || options.has(name)) continue;
      options.set(name, v === true ? true : String(v));
    }
  }
  return { positionals: positionals.filter((p): p is string => typeof p === 'string'), options };
}

export function intOption(args: ParsedArgs, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const raw = args.options.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw === true || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** A command's own guard against options it does not take (commander refuses undeclared ones before this). */
export function rejectUnknown(args: ParsedArgs, known: readonly string[]): void {
  for (const name of args.options.keys()) {
    if (!known.includes(name)) throw new UsageError(`unknown option --${name}`);
  }
}
