import type { BotOptions } from './traffic-log';

/** One bot of the demo: plays one run against a platform base URL and says how it went. */
export interface DemoBot {
  name: string;
  platform: 'moltstation' | 'spacemolt' | 'cloudplay' | 'rgs';
  /** Plays one run; resolves with a one-line summary. */
  run(options: BotOptions): Promise<string>;
}

/**
 * Runs each bot again and again (a pause between runs) until the signal aborts; a failed run is logged
 * and retried after the pause, never fatal. Resolves with the number of runs per bot.
 */
export async function runDemoBots(
  bots: DemoBot[],
  baseUrl: (platform: DemoBot['platform']) => string,
  options: { signal: AbortSignal; log: (line: string) => void; pauseMs?: number; seed?: string; verbose?: boolean },
): Promise<Record<string, { ok: number; failed: number }>> {
  const counts: Record<string, { ok: number; failed: number }> = {};
  await Promise.all(
    bots.map(async (bot) => {
      const c = (counts[bot.name] = { ok: 0, failed: 0 });
      while (!options.signal.aborted) {
        const run = c.ok + c.failed + 1;
        try {
          const summary = await bot.run({
            baseUrl: baseUrl(bot.platform),
            seed: `${options.seed ?? 'demo'}/${bot.name}/${run}`,
            signal: options.signal,
            // Each run's summary is always logged; the bots' step-by-step lines only when verbose.
            log: options.verbose ? (line) => options.log(`[${bot.name}] ${line}`) : () => undefined,
          });
          if (options.signal.aborted) {
            options.log(`[${bot.name}] run ${run} stopped early: ${summary}`);
            break;
          }
          c.ok++;
          options.log(`[${bot.name}] run ${run}: ${summary}`);
        } catch (e) {
          if (options.signal.aborted) break;
          c.failed++;
          options.log(`[${bot.name}] run ${run} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
        await sleep(options.pauseMs ?? 1000, options.signal);
      }
    }),
  );
  return counts;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}
