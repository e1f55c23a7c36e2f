import type { ChildProcess } from 'node:child_process';

/**
 * The next IPC message of a benchmark's child process that `pred` accepts; rejects, naming `label` and
 * `what`, when the child has exited or exits first, or when nothing matching comes within `timeoutMs`.
 */
export function nextMessage<R, T extends R>(child: ChildProcess, label: string, pred: (m: R) => m is T, timeoutMs: number, what: string): Promise<T> {
  const exitedAs = (): string => `exited (${child.signalCode ?? child.exitCode})`;
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`${label} ${exitedAs()} before ${what}`));
    const done = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: R): void => {
      if (!pred(m)) return;
      done();
      resolve(m);
    };
    const onExit = (): void => {
      done();
      reject(new Error(`${label} ${exitedAs()} before ${what}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${label}: no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Whether a child's name is in a comma-separated list of name prefixes (`all`: every child); for diagnosis switches. */
export function namedIn(name: string, setting: string): boolean {
  const wanted = setting
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return wanted.some((w) => w === 'all' || name.startsWith(w));
}
