/**
 * Parser fuzz (seeded, repeatable): the Flappy Bots frame check runs on every recorded frame and on whatever a
 * spectator is sent. Given random values, random text, mutations of a valid frame and 100k-deep JSON, when
 * checked, then it returns a boolean (and a list of problem strings) — never throws — and valid frames pass.
 */
import { deepJsonArray, deepJsonObject, fuzz } from '@rewind/fuzz';
import { flappyFrameProblems, isFlappyFrame, isFlappyFrameMessage } from './flappybots-frame-validator';

const SEED = 'flappy-frame-fuzz-1';
const CASES = 5000;
const FRAME = {
  v: 1,
  phase: 'running',
  tick: 12,
  tMs: 600,
  bot: { x: 40, y: 120.5, rotation: -0.2 },
  score: { current: 3, high: 9 },
  observation: { botY: 120.5, botVelocityY: -2 },
  obstacles: [{ x: 200, gapY: 90 }],
  events: [],
};
const MESSAGE = JSON.stringify({ t: 'frame', frame: FRAME });

describe(`Flappy Bots frame validator fuzz (seed ${SEED})`, () => {
  it('given a valid frame, then it passes with no problems', () => {
    expect(flappyFrameProblems(FRAME)).toEqual([]);
    expect(isFlappyFrameMessage(MESSAGE)).toBe(true);
  });

  it(`given ${CASES} mutated messages, random JSON values and random text, when checked, then a boolean and string problems, never a throw`, () => {
    const f = fuzz(SEED);
    const started = Date.now();
    let valid = 0;
    for (let i = 0; i < CASES; i++) {
      const c = f.fork(i);
      let input: unknown;
      switch (c.int(0, 3)) {
        case 0:
          input = c.mutate(Buffer.from(MESSAGE), 6).toString(c.bool() ? 'utf8' : 'latin1');
          break;
        case 1: {
          const frame = structuredClone(FRAME) as Record<string, unknown>;
          const key = c.pick([...Object.keys(frame), 'bot', 'score', 'observation']);
          frame[key] = c.json(3);
          input = c.bool() ? { t: 'frame', frame } : JSON.stringify({ t: 'frame', frame });
          break;
        }
        case 2:
          input = c.json(4);
          break;
        default:
          input = c.pick([undefined, Symbol('x'), () => 1, 1n, new Map(), Object.create(null), c.unicode(c.int(0, 100))]);
      }
      let ok: boolean;
      try {
        ok = isFlappyFrameMessage(input);
        const problems = flappyFrameProblems(typeof input === 'object' && input !== null ? (input as { frame?: unknown }).frame : input);
        expect(problems.every((p) => typeof p === 'string')).toBe(true);
      } catch (e) {
        throw new Error(`case ${i} (seed ${SEED}) threw ${(e as Error).name}: ${(e as Error).message}`, { cause: e });
      }
      expect(typeof ok).toBe('boolean');
      if (ok) valid++;
    }
    expect(valid).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('given 100k-deep JSON as a message or as fields, then false (no stack overflow)', () => {
    for (const deep of [deepJsonArray(100_000), deepJsonObject(100_000)]) {
      expect(isFlappyFrameMessage(deep)).toBe(false);
      expect(isFlappyFrameMessage(`{"t":"frame","frame":${deep}}`)).toBe(false);
      expect(isFlappyFrame({ ...FRAME, bot: JSON.parse(deep) })).toBe(false);
    }
    // a sparse 1M-slot obstacles array is only checked for being an array (no per-element walk)
    expect(isFlappyFrame({ ...FRAME, obstacles: new Array(1_000_000) })).toBe(true);
  });
});
