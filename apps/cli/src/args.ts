/** A small, strict argument parser: positionals, `--flag`, `--key value` and `--key=value`. */
export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string | true>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseArgs(argv: string[], valueOptions: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (eq !== -1) options.set(name, arg.slice(eq + 1));
      else if (valueOptions.includes(name)) {
        const value = argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
        options.set(name, value);
      } else options.set(name, true);
    } else if (/^-[a-z]$/i.test(arg) && valueOptions.includes(arg.slice(1))) {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      options.set(arg.slice(1), value);
    } else positionals.push(arg);
  }
  return { positionals, options };
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

export function rejectUnknown(args: ParsedArgs, known: readonly string[]): void {
  for (const name of args.options.keys()) {
    if (!known.includes(name)) throw new UsageError(`unknown option --${name}`);
  }
}
