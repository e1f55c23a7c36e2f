import type { DemoBot } from '../demo-bots';
import { runRgsBot } from './rgs-bot';

/** The RGS player for `rewind demo`: one run = a short Dice + Mines session; resolves with a one-line summary. */
export const rgsDemoBot: DemoBot = {
  name: 'rgs-player',
  platform: 'rgs',
  run: async (options) => {
    const r = await runRgsBot({ ...options, diceRounds: 4, minesRounds: 2 });
    return `${r.roundsPlayed.dice} dice + ${r.roundsPlayed.mines} mines rounds, balance ${r.finalBalance}, ${r.revealedSeeds.length} seeds revealed${r.aborted ? ' (aborted)' : ''}`;
  },
};
