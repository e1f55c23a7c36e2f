/** Flappy Bots agent: flaps to stay around the next gap's centre (or follows a tick script). */
import { MoltBotOptions, MoltBotSummary, runMoltBot } from './game-bot';

export interface FlapperOptions extends MoltBotOptions {
  /** Stop flapping from this tick on (the bot then falls: a quick, certain GAME_OVER for tests). */
  stopAfterTick?: number;
  /** Deterministic script: FLAP exactly on receiving these ticks, nothing else (replaces the policy). */
  flapTicks?: number[];
}

/** The policy: FLAP when below the gap centre and not already rising fast. */
export function chooseFlap(frame: any, offset = 12): 'FLAP' | undefined {
  const y = frame?.bot?.y;
  const vy = frame?.bot?.velocityY ?? 0;
  const target = frame?.observation?.nextGapCenterY ?? 248;
  if (typeof y !== 'number') return undefined;
  return y > target + offset && vy > -60 ? 'FLAP' : undefined;
}

export function runFlappyBotsFlapper(options: FlapperOptions): Promise<MoltBotSummary> {
  const script = options.flapTicks ? new Set(options.flapTicks) : undefined;
  return runMoltBot('flappybots', options, (f) => {
    if (script) return script.has(f.tick) ? { t: 'action', action: 'FLAP' } : undefined;
    if (options.stopAfterTick !== undefined && f.tick >= options.stopAfterTick) return undefined;
    return chooseFlap(f) ? { t: 'action', action: 'FLAP' } : undefined;
  });
}
