/**
 * Runs the SpaceMolt miners once and prints their summaries:
 *   node -r ./scripts/register.js libs/agents/src/spacemolt/run-spacemolt-bots.ts [baseUrl] [--cycles N] [--seed S] [--only ws|http]
 * Without a base URL it starts an in-process simulator (seed "demo", 500 ms tick) and stops it
 * afterwards. Point baseUrl at the recording proxy (http://127.0.0.1:8081/spacemolt) to record the sessions.
 */
import { startSimulator } from '@rewind/simulator';
import { TrafficLog } from '../traffic-log';
import { runSpaceMoltHttpMiner } from './http-miner';
import { runSpaceMoltWsMiner } from './ws-miner';

async function main(argv: string[]): Promise<void> {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const positional = argv.find((a, i) => !a.startsWith('--') && !(i > 0 && (argv[i - 1] as string).startsWith('--')));
  const sim = positional ? undefined : await startSimulator({ port: 0, seed: 'demo', platformOptions: { spacemolt: { tickMs: 500 } } });
  const baseUrl = positional ?? sim!.baseUrl('spacemolt');
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const cycles = Number(flag('--cycles') ?? 1);
  const seed = flag('--seed') ?? 'demo-bot';
  const only = flag('--only');
  try {
    for (const [name, run] of [
      ['ws', runSpaceMoltWsMiner],
      ['http', runSpaceMoltHttpMiner],
    ] as const) {
      if (only && only !== name) continue;
      const traffic = new TrafficLog();
      const result = await run({ baseUrl, seed: `${seed}/${name}`, cycles, traffic, signal: controller.signal, log: (l) => console.log(l) });
      console.log(JSON.stringify({ bot: name, ...result, password: '(redacted)', trafficEntries: traffic.entries.length }, null, 2));
    }
  } finally {
    await sim?.close();
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
