import { asNumber, asString } from '../evidence/json';
import { framesOf, frameScore, outcomeOf, type Platformed } from '../evidence/read';
import type { EvidenceStream, RunEvidence } from '../evidence/types';

/** MoltStation's figures of a run summary: the final score, lives lost, ticks, the game. */
export function summarizeMoltStation(run: RunEvidence, recorder: readonly EvidenceStream[]): Platformed {
  const outcome = outcomeOf(run, recorder);
  const sources = [framesOf(recorder, 'proxy'), framesOf(recorder, 'spectator')];
  let score: number | null = null;
  let ticks: number | null = null;
  for (const frames of sources) {
    const last = [...frames].reverse().find((f) => frameScore(f.frame) !== undefined);
    if (last) {
      score = frameScore(last.frame) as number;
      break;
    }
  }
  score ??= asNumber(outcome?.['score']) ?? null;
  for (const frames of sources) {
    const tick = [...frames]
      .reverse()
      .map((f) => asNumber(f.frame['tick']) ?? asNumber(f.e.tick))
      .find((t) => t !== undefined);
    if (tick !== undefined) {
      ticks = tick;
      break;
    }
  }
  ticks ??= asNumber(outcome?.['tick']) ?? null;
  let livesLost: number | null = null;
  for (const frames of sources) {
    const lives = frames.map((f) => asNumber(f.frame['lives'])).filter((l): l is number => l !== undefined);
    if (lives.length > 0) {
      livesLost = (lives[0] as number) - (lives[lives.length - 1] as number);
      break;
    }
  }
  return { score, livesLost, extra: { ticks, game: run.game ?? asString(outcome?.['game']) ?? null } };
}
