import { createRng } from '../core/rng';
import { DEFAULT_SHELLRUNNERS_PARAMS, ShellRunnersParams } from './options';
import { SR, ShellRunnersEngine, SrFrame } from './shellrunners-engine';

const make = (p: Partial<ShellRunnersParams> = {}, seed = 'sr'): ShellRunnersEngine => new ShellRunnersEngine(createRng(seed), { ...DEFAULT_SHELLRUNNERS_PARAMS, ...p }, 's1');
const run = (e: ShellRunnersEngine, ticks: number, each?: (f: SrFrame) => void): SrFrame => {
  let f = e.getFrame();
  for (let i = 0; i < ticks && f.phase !== 'ended'; i++) {
    e.step(50);
    f = e.getFrame();
    each?.(f);
  }
  return f;
};

describe('ShellRunners engine', () => {
  it('starts with the documented frame shape and defaults', () => {
    const f = make().getFrame({ current: 2, max: 25 });
    expect(f).toMatchObject({
      v: 1,
      sessionId: 's1',
      tick: 0,
      tMs: 0,
      phase: 'running',
      pawn: { x: 960, y: 972, ghost: false, invincible: false },
      score: { current: 0, high: 0 },
      lives: 3,
      livesMax: 3,
      hunger: 0,
      hungerMax: 100,
      events: [],
      spectators: { current: 2, max: 25 },
    });
    expect(f.entities.length).toBeGreaterThan(0);
    for (const e of f.entities) {
      expect(e.id).toMatch(/^[ocp]-\d+$/);
      if (e.k === 'obstacle') expect(e.tex).toMatch(/^(rock_[1-6]|log_[1-3])$/);
      if (e.k === 'powerup') expect(['MovementSpeedPowerUp', 'InvincibilityPowerUp', 'ScrollSpeedSlowPowerUp']).toContain(e.t);
    }
  });

  it('is deterministic per seed and differs across seeds', () => {
    const trace = (seed: string): string => {
      const e = make({}, seed);
      const out: string[] = [];
      run(e, 200, (f) => {
        e.setDir(f.tick % 40 < 20 ? 'left' : 'right');
        out.push(JSON.stringify(f));
      });
      return out.join('\n');
    };
    expect(trace('a')).toBe(trace('a'));
    expect(trace('a')).not.toBe(trace('b'));
  });

  it('moves the pawn at moveSpeed while dir is held, clamped to the banks', () => {
    const e = make({ hungerMax: 1e9 });
    e.setDir('right');
    e.step(50);
    expect(e.getFrame().pawn.x).toBeCloseTo(960 + 0.42 * 50, 5);
    e.setDir('none');
    e.step(50);
    expect(e.getFrame().pawn.x).toBeCloseTo(960 + 0.42 * 50, 5);
    e.setDir('left');
    for (let i = 0; i < 200; i++) e.step(50);
    expect(e.getFrame().pawn.x).toBe(SR.PAWN_MIN_X);
  });

  it('scrolls entities down by scrollSpeed·dt and scores scrollSpeed per 60 fps frame', () => {
    const e = make({ hungerMax: 1e9 });
    const f0 = e.getFrame();
    e.step(50);
    const f1 = e.getFrame();
    const first = f0.entities[0]!;
    const moved = f1.entities.find((x) => x.id === first.id)!;
    expect(moved.y - first.y).toBeCloseTo(0.12 * 50, 1);
    for (let i = 0; i < 19; i++) e.step(50);
    expect(e.getFrame().score.current).toBe(Math.floor(0.12 * 1000 * 0.06)); // 7.2 per second at the initial speed
  });

  it('hunger rises +hungerStep every hungerStepMs; reaching hungerMax costs a life, revives as ghost; lives 0 → ended + game_over', () => {
    const e = make({ hungerMax: 10, ghostMs: 200, initScrollSpeed: 0 });
    const events: string[] = [];
    let sawGhost = false;
    const f = run(e, 400, (fr) => {
      events.push(...fr.events.map((x) => x.t));
      if (fr.pawn.ghost) sawGhost = true;
      if (fr.tick === 10) expect(fr.hunger).toBe(5);
    });
    expect(f.phase).toBe('ended');
    expect(f.lives).toBe(0);
    expect(events.filter((t) => t === 'death')).toHaveLength(3);
    expect(events[events.length - 1]).toBe('game_over');
    expect(sawGhost).toBe(true);
    // 3 lives × 1 s of hunger, plus two ghost graces (no hunger while ghost; 150 ms of 50 ms steps each).
    expect(f.tMs).toBe(3 * 1000 + 2 * 150);
    // Ended: stepping changes nothing.
    e.step(50);
    expect(e.getFrame().tick).toBe(f.tick);
  });

  it('pause freezes everything, resume continues; end() emits game_over', () => {
    const e = make();
    e.step(50);
    e.pause();
    const p = e.getFrame();
    e.step(50);
    expect(e.getFrame()).toEqual({ ...p, events: [] });
    expect(e.getFrame().phase).toBe('paused');
    e.resume();
    e.step(50);
    expect(e.getFrame().tick).toBe(p.tick + 1);
    e.end('exit');
    expect(e.getFrame().phase).toBe('ended');
    expect(e.getFrame().events).toEqual([{ t: 'game_over', score: expect.any(Number), reason: 'exit' }]);
  });

  it('collisions with obstacles cost lives (no hunger involved)', () => {
    // Stand still for a long time: obstacles in the middle lane eventually hit the pawn.
    const e = make({ hungerMax: 1e9, ghostMs: 100, initScrollSpeed: 0.6, maxScrollSpeed: 0.6 }, 'collide');
    const reasons: string[] = [];
    run(e, 4000, (f) => f.events.forEach((x) => x.t === 'death' && reasons.push(x.reason)));
    expect(reasons).toContain('collision');
  });
});
