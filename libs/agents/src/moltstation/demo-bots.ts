import { createRng } from '@rewind/simulator';
import type { DemoBot } from '../demo-bots';
import { runFlappyBotsFlapper } from './flappybots-flapper';
import type { MoltBotSummary } from './game-bot';
import { runShellRunnersSteerer } from './shellrunners-steerer';

const line = (s: MoltBotSummary): string =>
  `${s.slug} ${s.sessionId}: ${s.phase ?? '?'} at tick ${s.ticks}, score ${s.score ?? '?'}, ${s.inputsSent} inputs, ` +
  `closed ${s.closeCode} ${s.closeReason}${s.gameOverReason ? ` (${s.gameOverReason})` : ''}${s.snapshot ? ', snapshot submitted' : ''}`;

/** A seeded run length in ticks (50 ms each), so demo runs vary but replay the same for a seed. */
const ticks = (seed: string | undefined, min: number, max: number): number => createRng(`${seed ?? 'demo'}/length`).int(min, max);

/**
 * Flappy Bots for `rewind demo`. A good flapper never dies, so a demo run flaps for 5–15 s of game time
 * and then lets the bot fall: every run ends in a real collision, GAME_OVER and a rewards snapshot.
 */
export const flappyBotsDemoBot: DemoBot = {
  name: 'flappybots-flapper',
  platform: 'moltstation',
  run: async (options) => line(await runFlappyBotsFlapper({ ...options, stopAfterTick: ticks(options.seed, 100, 300) })),
};

/** ShellRunners for `rewind demo`: steers for 5–15 s of game time, then quits the run (`cmd exit`). */
export const shellRunnersDemoBot: DemoBot = {
  name: 'shellrunners-steerer',
  platform: 'moltstation',
  run: async (options) => line(await runShellRunnersSteerer({ ...options, exitAfterTick: ticks(options.seed, 100, 300) })),
};
