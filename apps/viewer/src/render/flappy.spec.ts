import { drawFlappy, FLAPPY, FLAPPY_COLORS } from './flappy.js';
import { RecordingCtx } from './recording-ctx.js';

const frame = (over: Record<string, unknown> = {}) => ({
  v: 1,
  tick: 40,
  phase: 'running',
  bot: { x: 178, y: 157.8, velocityY: -192, rotation: -0.3 },
  score: { current: 22, high: 30 },
  latestAction: 'NOOP',
  obstacles: [
    { id: 'gate-1', x: 150, gapCenterY: 169.1, gapTopY: 81.1, gapBottomY: 257.1, passed: false },
    { id: 'gate-2', x: 426, gapCenterY: 317.5, gapTopY: 229.5, gapBottomY: 405.5, passed: true },
  ],
  events: [],
  ...over,
});

describe('drawFlappy', () => {
  it('given a frame at world size, when drawn, then each gate is a top and a bottom pipe 74 wide around its x', () => {
    const ctx = new RecordingCtx();
    drawFlappy(ctx, frame(), { width: 960, height: 540 });
    const pipes = ctx.ops('fillRect').filter((c) => c.fillStyle === FLAPPY_COLORS.gate);
    expect(pipes.map((c) => c.args)).toEqual([
      [113, 0, 74, 81.1],
      [113, 257.1, 74, FLAPPY.FLOOR_Y - 257.1],
    ]);
    const passed = ctx.ops('fillRect').filter((c) => c.fillStyle === FLAPPY_COLORS.gatePassed);
    expect(passed[0]?.args).toEqual([389, 0, 74, 229.5]);
  });

  it('given a half-size canvas, when drawn, then gates and the bot are scaled', () => {
    const ctx = new RecordingCtx();
    drawFlappy(ctx, frame(), { width: 480, height: 270 });
    const first = ctx.ops('fillRect').find((c) => c.fillStyle === FLAPPY_COLORS.gate);
    expect(first?.args[0]).toBeCloseTo(56.5);
    expect(first?.args[2]).toBeCloseTo(37);
    expect(first?.args[3]).toBeCloseTo(40.55);
    expect(ctx.ops('translate')[0]?.args).toEqual([89, 78.9]);
    const body = ctx.ops('arc').find((c) => c.fillStyle === FLAPPY_COLORS.bot);
    expect(body?.args[2]).toBeCloseTo(9);
  });

  it('given a running frame, when drawn, then the HUD shows the score and best and no banner', () => {
    const ctx = new RecordingCtx();
    drawFlappy(ctx, frame(), { width: 960, height: 540 });
    expect(ctx.text()).toContain('Score 22');
    expect(ctx.text()).toContain('Best 30');
    expect(ctx.text()).not.toContain('GAME OVER');
  });

  it('given an ended frame, when drawn, then a game-over banner with the reason is drawn', () => {
    const ctx = new RecordingCtx();
    drawFlappy(ctx, frame({ phase: 'ended', gameOverReason: 'OBSTACLE_COLLISION', score: { current: 33, high: 33 } }), { width: 960, height: 540 });
    expect(ctx.text()).toContain('GAME OVER');
    expect(ctx.text()).toContain('obstacle collision');
    expect(ctx.text()).toContain('Score 33');
  });

  it('given a ready frame, when drawn, then READY is shown', () => {
    const ctx = new RecordingCtx();
    drawFlappy(ctx, frame({ phase: 'ready' }), { width: 960, height: 540 });
    expect(ctx.text()).toContain('READY');
  });
});
