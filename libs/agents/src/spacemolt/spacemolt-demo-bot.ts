import type { DemoBot } from '../demo-bots';
import { runSpaceMoltHttpMiner } from './http-miner';
import { runSpaceMoltWsMiner } from './ws-miner';

const line = (r: { cyclesCompleted: number; unitsMined: number; creditsEarned: number; creditsEnd: number }): string =>
  `${r.cyclesCompleted} cycle(s), ${r.unitsMined} ore mined, +${r.creditsEarned} credits (now ${r.creditsEnd})`;

/** SpaceMolt miners for `rewind demo`: one run = one mining cycle (about 20 ticks: ~3 min at the real 10 s tick). */
export const spacemoltWsDemoBot: DemoBot = {
  name: 'spacemolt-ws-miner',
  platform: 'spacemolt',
  run: async (options) => line(await runSpaceMoltWsMiner({ ...options, cycles: 1 })),
};

export const spacemoltHttpDemoBot: DemoBot = {
  name: 'spacemolt-http-miner',
  platform: 'spacemolt',
  run: async (options) => line(await runSpaceMoltHttpMiner({ ...options, cycles: 1 })),
};
