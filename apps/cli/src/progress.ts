import { Options, SingleBar } from 'cli-progress';

/** Where a progress bar draws: a terminal stream (stderr by default). */
export interface ProgressOutput {
  isTTY?: boolean;
  write(chunk: string): boolean;
}

/**
 * A one-line cli-progress bar redrawn in place, drawn only when `out` is a terminal (a pipe, a log file or CI gets
 * nothing) and the work is long enough to need one (`minTotal`). `clear` removes the line.
 */
export function progress(format: string, minTotal: number, out: ProgressOutput = process.stderr): { update: (value: number, total: number) => void; clear: () => void } {
  const tty = out.isTTY === true;
  let bar: SingleBar | null = null;
  const options: Options = {
    stream: out as unknown as NodeJS.WritableStream,
    format,
    barsize: 30,
    barCompleteChar: '#',
    barIncompleteChar: '.',
    hideCursor: false,
    clearOnComplete: true,
    stopOnComplete: false,
    linewrap: false,
    // Redrawn at most 5 times a second (its timer stops with the bar); an update after a quiet spell draws at once.
    fps: 5,
    synchronousUpdate: true,
    noTTYOutput: false,
  };
  return {
    update(value, total) {
      if (!tty || total < minTotal) return;
      if (!bar) {
        bar = new SingleBar(options);
        bar.start(total, value);
      } else {
        bar.setTotal(total);
        bar.update(value);
      }
    },
    clear() {
      bar?.stop();
      bar = null;
    },
  };
}
