/**
 * Runs the RGS bot once and prints what it played:
 *   node -r ./scripts/register.js libs/agents/src/rgs/run-rgs-bot.ts [baseUrl] [--dice N] [--mines M] [--seed S]
 * Without a base URL it starts an in-process simulator (seed "demo") on a free port and stops it afterwards.
 * Point baseUrl at the recording proxy (http://127.0.0.1:8081/rgs) to record the session.
 */
import { startSimulator } from '@rewind/simulator';
import { TrafficLog } from '../traffic-log';
import { runRgsBot } from './rgs-bot';

async function main(argv: string[]): Promise<void> {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const positional = argv.find((a, i) => !a.startsWith('--') && !(i > 0 && (argv[i - 1] as string).startsWith('--')));
  const sim = positional ? undefined : await startSimulator({ port: 0, seed: 'demo' });
  const baseUrl = positional ?? sim!.baseUrl('rgs');
  const traffic = new TrafficLog();
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  try {
    const result = await runRgsBot({
      baseUrl,
      seed: flag('--seed') ?? 'demo-bot',
      diceRounds: Number(flag('--dice') ?? 6),
      minesRounds: Number(flag('--mines') ?? 3),
      traffic,
      signal: controller.signal,
      log: (line) => console.log(`[rgs-bot] ${line}`),
    });
    console.log(JSON.stringify({ ...result, httpExchanges: traffic.entries.length / 2 }, null, 2));
  } finally {
    await sim?.close();
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
