import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';

export interface RunResult {
  /** The exit code; 127 when the program could not be started at all. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs a program with an argument array (never through a shell); resolves with its exit code and output. */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, [...args], { env: options.env ?? process.env, cwd: options.cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      let code = 0;
      let extra = '';
      if (error) {
        const c = (error as { code?: unknown }).code;
        code = typeof c === 'number' ? c : c === 'ENOENT' ? 127 : 1;
        if (typeof c !== 'number') extra = error.message;
      }
      resolve({ code, stdout: String(stdout), stderr: [String(stderr), extra].filter(Boolean).join('\n') });
    });
  });
}

/** Runs a long program (apt-get) whose progress the user should see: its output goes to our stderr. */
export function runVisible(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(file, [...args], { env, stdio: ['ignore', 2, 2] });
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Whether a process exists (a zombie, dead but not yet reaped, does not count). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT' || !fs.existsSync('/proc/self/stat'); // gone, or no /proc at all
  }
}

/** The kernel's start time of a process (Linux /proc), to tell a live owner from a recycled pid; null if unknown. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); fields are counted after the parenthesised command name, which may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** The command line of a process (Linux /proc), or null when it cannot be read. */
export function processCommandLine(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return null;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 20): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd();
    return text ? text.split('\n').slice(-lines).join('\n') : '(the log is empty)';
  } catch (e) {
    return `(cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
}

/** Error text with a log file's name and its last lines. */
export function withLogTail(message: string, logfile: string): string {
  return `${message}\nSee ${logfile}; its last lines:\n${tail(logfile)
    .split('\n')
    .map((l) => `  | ${l}`)
    .join('\n')}`;
}
