/** ShellRunners agent: steers away from obstacles ahead and toward starfish, one `input` per frame (like Cerberus). */
import { MoltBotOptions, MoltBotSummary, runMoltBot } from './game-bot';

export type Dir = 'left' | 'right' | 'none';

export interface SteererOptions extends MoltBotOptions {
  /** Send an input on every frame (Cerberus) instead of only on change (browser). Default true. */
  everyFrame?: boolean;
  /** Quit the run (`{t:"cmd",cmd:"exit"}`, closed 1000 EXIT) once this tick is reached. */
  exitAfterTick?: number;
}

export function chooseDir(frame: any): Dir {
  const px: number = frame?.pawn?.x ?? 960;
  const py: number = frame?.pawn?.y ?? 972;
  const entities: any[] = Array.isArray(frame?.entities) ? frame.entities : [];
  const threats = entities.filter((e) => e.k === 'obstacle' && e.y < py + 60 && e.y > py - 520 && Math.abs(e.x - px) < (e.w ?? 120) / 2 + 60);
  if (threats.length > 0) {
    const nearest = threats.reduce((a, b) => (b.y > a.y ? b : a));
    if (px < 300) return 'right';
    if (px > 1620) return 'left';
    return nearest.x >= px ? 'left' : 'right';
  }
  const food = entities.filter((e) => e.k === 'collectible' && e.y < py && e.y > py - 700).sort((a, b) => b.y - a.y)[0];
  if (food && Math.abs(food.x - px) > 30) return food.x > px ? 'right' : 'left';
  return 'none';
}

export function runShellRunnersSteerer(options: SteererOptions): Promise<MoltBotSummary> {
  let last: Dir | undefined;
  let exited = false;
  return runMoltBot('shellrunners', options, (f) => {
    if (options.exitAfterTick !== undefined && f.tick >= options.exitAfterTick) {
      if (exited) return undefined;
      exited = true;
      return { t: 'cmd', cmd: 'exit' };
    }
    const dir = chooseDir(f);
    if (options.everyFrame === false && dir === last) return undefined;
    last = dir;
    return { t: 'input', dir };
  });
}
