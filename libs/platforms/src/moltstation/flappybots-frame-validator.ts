/**
 * The Flappy Bots spectate client's `isFlappyFrame` check (reference §4.5): the real spectate page drops
 * any frame that fails it, so every frame the simulator emits must pass. Pure, no dependencies.
 */
export const FLAPPY_FRAME_PHASES = ['ready', 'running', 'ended'] as const;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);

/** Every reason a value is not a valid Flappy frame (empty = valid). Takes the inner `frame` object. */
export function flappyFrameProblems(value: unknown): string[] {
  if (!isObj(value)) return ['frame is not an object'];
  const problems: string[] = [];
  if (value.v !== 1) problems.push('v must be 1');
  if (!(FLAPPY_FRAME_PHASES as readonly unknown[]).includes(value.phase)) problems.push('phase must be ready, running or ended');
  if (!finite(value.tick)) problems.push('tick must be a finite number');
  if (!finite(value.tMs)) problems.push('tMs must be a finite number');
  const bot = value.bot;
  if (!isObj(bot)) problems.push('bot must be an object');
  else for (const k of ['x', 'y', 'rotation']) if (!finite(bot[k])) problems.push(`bot.${k} must be a finite number`);
  const score = value.score;
  if (!isObj(score)) problems.push('score must be an object');
  else for (const k of ['current', 'high']) if (!finite(score[k])) problems.push(`score.${k} must be a finite number`);
  const obs = value.observation;
  if (!isObj(obs)) problems.push('observation must be an object');
  else for (const k of ['botY', 'botVelocityY']) if (!finite(obs[k])) problems.push(`observation.${k} must be a finite number`);
  if (!Array.isArray(value.obstacles)) problems.push('obstacles must be an array');
  if (!Array.isArray(value.events)) problems.push('events must be an array');
  return problems;
}

export function isFlappyFrame(value: unknown): boolean {
  return flappyFrameProblems(value).length === 0;
}

/** Checks a whole wire message `{"t":"frame","frame":{…}}` (object or JSON text). */
export function isFlappyFrameMessage(message: unknown): boolean {
  let m = message;
  if (typeof m === 'string') {
    try {
      m = JSON.parse(m);
    } catch {
      return false;
    }
  }
  return isObj(m) && m.t === 'frame' && isFlappyFrame(m.frame);
}
