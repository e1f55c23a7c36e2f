import { RecordingCtx } from './recording-ctx.js';
import { drawShellRunners, SHELL_COLORS } from './shellrunners.js';

const frame = (over: Record<string, unknown> = {}) => ({
  v: 1,
  tick: 100,
  tMs: 5000,
  phase: 'running',
  pawn: { x: 960, y: 972, ghost: false, invincible: false },
  score: { current: 120, high: 150 },
  lives: 2,
  livesMax: 3,
  hunger: 50,
  hungerMax: 100,
  entities: [
    { id: 'o-1', k: 'obstacle', t: 'Log', tex: 'log_1', x: 600, y: 300, w: 240, h: 80 },
    { id: 'o-2', k: 'obstacle', t: 'Rock', tex: 'rock_1', x: 1200, y: 500, w: 120, h: 120 },
    { id: 'c-1', k: 'collectible', t: 'StarFish', x: 800, y: 700 },
    { id: 'p-1', k: 'powerup', t: 'InvincibilityPowerUp', x: 1000, y: 200 },
  ],
  events: [],
  ...over,
});

describe('drawShellRunners', () => {
  it('given obstacles, when drawn on a half-size canvas, then each is a rectangle centred on its x/y, scaled', () => {
    const ctx = new RecordingCtx();
    drawShellRunners(ctx, frame(), { width: 960, height: 540 });
    const log = ctx.ops('fillRect').find((c) => c.fillStyle === SHELL_COLORS.log);
    const rock = ctx.ops('fillRect').find((c) => c.fillStyle === SHELL_COLORS.rock);
    expect(log?.args).toEqual([240, 130, 120, 40]);
    expect(rock?.args).toEqual([570, 220, 60, 60]);
  });

  it('given a powerup and the pawn, when drawn, then circles sit at their scaled centres', () => {
    const ctx = new RecordingCtx();
    drawShellRunners(ctx, frame(), { width: 960, height: 540 });
    const power = ctx.ops('arc').find((c) => c.fillStyle === SHELL_COLORS.powerup['InvincibilityPowerUp']);
    expect(power?.args.slice(0, 2)).toEqual([500, 100]);
    const pawn = ctx.ops('arc').find((c) => c.fillStyle === SHELL_COLORS.pawnShell);
    expect(pawn?.args.slice(0, 2)).toEqual([480, 486]);
  });

  it('given hunger 50 of 100, when drawn, then the hunger bar is half full', () => {
    const ctx = new RecordingCtx();
    drawShellRunners(ctx, frame(), { width: 1920, height: 1080 });
    const back = ctx.ops('fillRect').find((c) => c.fillStyle === SHELL_COLORS.hungerBack);
    const bar = ctx.ops('fillRect').find((c) => c.fillStyle === SHELL_COLORS.hunger);
    expect(back?.args[2]).toBe(500);
    expect(bar?.args[2]).toBe(250);
    expect(ctx.text()).toContain('hunger 50/100');
  });

  it('given 2 of 3 lives, when drawn, then two live and one lost life are drawn and the HUD has the score', () => {
    const ctx = new RecordingCtx();
    drawShellRunners(ctx, frame(), { width: 1920, height: 1080 });
    expect(ctx.ops('arc').filter((c) => c.fillStyle === SHELL_COLORS.life)).toHaveLength(2);
    expect(ctx.ops('arc').filter((c) => c.fillStyle === SHELL_COLORS.lifeLost)).toHaveLength(1);
    expect(ctx.text()).toContain('Score 120');
    expect(ctx.text()).toContain('lives 2/3');
  });

  it('given a death and then game over, when drawn, then the texts say so', () => {
    const ctx = new RecordingCtx();
    drawShellRunners(
      ctx,
      frame({
        events: [
          { t: 'death', reason: 'starvation', lives: 0 },
          { t: 'game_over', score: 120, reason: 'no_lives' },
        ],
        phase: 'ended',
        lives: 0,
      }),
      { width: 1920, height: 1080 },
    );
    expect(ctx.text()).toContain('DEATH (starvation)');
    expect(ctx.text()).toContain('GAME OVER');
    expect(ctx.text()).toContain('no lives');
  });
});
