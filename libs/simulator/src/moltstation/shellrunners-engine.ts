/**
 * ShellRunners simulation. No authoritative server sim is public (reference §6.2), so this ports the
 * legacy client rules (§6.2.2) onto a fixed step with a seeded PRNG and configurable parameters:
 * vertical scroller on a 1920×1080 design canvas, pawn at y 972 steered by a level-triggered `dir`,
 * obstacles/collectibles/powerups scrolling down, hunger, lives, ghost grace after a revive.
 */
import type { Rng } from '../core/rng';
import type { ShellRunnersParams } from './options';

export type SrDir = 'left' | 'right' | 'none';
export type SrPhase = 'running' | 'paused' | 'ended';
export type SrPowerUp = 'MovementSpeedPowerUp' | 'InvincibilityPowerUp' | 'ScrollSpeedSlowPowerUp';

export interface SrEntity {
  id: string;
  k: 'obstacle' | 'collectible' | 'powerup';
  t?: string;
  tex?: string;
  x: number;
  y: number;
  w?: number;
  h?: number;
}

export type SrEvent =
  | { t: 'collect'; id: string }
  | { t: 'powerup'; id: string; kind: SrPowerUp }
  | { t: 'death'; reason: 'collision' | 'starvation'; lives: number }
  | { t: 'game_over'; score: number; reason: 'no_lives' | 'exit' | 'session_ended' };

export interface SrFrame {
  v: 1;
  sessionId?: string;
  tick: number;
  tMs: number;
  phase: SrPhase;
  pawn: { x: number; y: number; ghost: boolean; invincible: boolean };
  score: { current: number; high: number };
  lives: number;
  livesMax: number;
  hunger: number;
  hungerMax: number;
  entities: SrEntity[];
  events: SrEvent[];
  spectators?: { current: number; max: number };
}

export const SR = {
  WIDTH: 1920,
  HEIGHT: 1080,
  PAWN_Y: 972,
  PAWN_START_X: 960,
  PAWN_MIN_X: 152,
  PAWN_MAX_X: 1768,
  PAWN_R: 20,
  CONTAINER_GAP: 120,
  LOOKAHEAD: 2 * 1080,
  COLLECT_RANGE: 70,
  POWERUP_RANGE: 20 + 75,
  SPEED_TWEEN_MS: 4000,
} as const;

const POWERUPS: readonly SrPowerUp[] = ['MovementSpeedPowerUp', 'InvincibilityPowerUp', 'ScrollSpeedSlowPowerUp'];
const ROCKS = ['rock_1', 'rock_2', 'rock_3', 'rock_4', 'rock_5', 'rock_6'] as const;
const LOGS = ['log_1', 'log_2', 'log_3'] as const;
const STARFISH = ['orange_star_fish', 'yellow_star_fish', 'red_star_fish'] as const;

const r2 = (v: number): number => Math.round(v * 100) / 100;

export class ShellRunnersEngine {
  private tick = 0;
  private tMs = 0;
  private phase: SrPhase = 'running';
  private dir: SrDir = 'none';
  private pawnX: number = SR.PAWN_START_X;
  private score = 0;
  private high = 0;
  private lives: number;
  private hunger = 0;
  private hungerAcc = 0;
  private ghostUntil = -1;
  private invincibleUntil = -1;
  private boostUntil = -1;
  private scrollSpeed: number;
  private targetSpeed: number;
  private tween: { from: number; to: number; start: number; dur: number } | undefined;
  private speedTimer = 0;
  private nextPowerupAt: number;
  private frontierY = 0;
  private entities: SrEntity[] = [];
  private ids = { o: 1, c: 1, p: 1 };
  private events: SrEvent[] = [];

  constructor(
    private readonly rng: Rng,
    private readonly p: ShellRunnersParams,
    private readonly sessionId?: string,
  ) {
    this.lives = p.livesMax;
    this.scrollSpeed = p.initScrollSpeed;
    this.targetSpeed = p.initScrollSpeed;
    this.nextPowerupAt = this.rollPowerupDelay();
    this.generate();
  }

  get currentPhase(): SrPhase {
    return this.phase;
  }

  get currentTick(): number {
    return this.tick;
  }

  get isEnded(): boolean {
    return this.phase === 'ended';
  }

  get currentScore(): { current: number; high: number } {
    return { current: Math.floor(this.score), high: this.high };
  }

  /** Level-triggered: the direction stays until changed; repeats are idempotent. */
  setDir(dir: SrDir): void {
    this.dir = dir;
  }

  pause(): void {
    if (this.phase === 'running') this.phase = 'paused';
  }

  resume(): void {
    if (this.phase === 'paused') this.phase = 'running';
  }

  end(reason: 'exit' | 'session_ended'): void {
    if (this.phase === 'ended') return;
    this.events = [{ t: 'game_over', score: Math.floor(this.score), reason }];
    this.phase = 'ended';
  }

  step(dtMs: number): void {
    this.events = [];
    if (this.phase !== 'running') return;
    this.tick++;
    this.tMs += dtMs;
    const p = this.p;
    // Scroll speed: +step every scrollStepMs, tweened; powerup/death tweens override.
    this.speedTimer += dtMs;
    if (this.speedTimer >= p.scrollStepMs) {
      this.speedTimer -= p.scrollStepMs;
      this.setTarget(Math.min(this.targetSpeed + p.scrollStep, p.maxScrollSpeed), SR.SPEED_TWEEN_MS);
    }
    if (this.tween) {
      const k = Math.min(1, (this.tMs - this.tween.start) / this.tween.dur);
      this.scrollSpeed = this.tween.from + (this.tween.to - this.tween.from) * k;
      if (k >= 1) this.tween = undefined;
    }
    // Pawn movement.
    const speed = p.moveSpeed * (this.tMs < this.boostUntil ? p.speedBoostMult : 1);
    const sign = this.dir === 'left' ? -1 : this.dir === 'right' ? 1 : 0;
    this.pawnX = Math.min(SR.PAWN_MAX_X, Math.max(SR.PAWN_MIN_X, this.pawnX + sign * speed * dtMs));
    // Scroll the world down, drop what left the screen, generate ahead.
    const dy = this.scrollSpeed * dtMs;
    for (const e of this.entities) e.y += dy;
    this.frontierY += dy;
    this.entities = this.entities.filter((e) => e.y < SR.HEIGHT + 200);
    this.generate();
    // Score: legacy adds scrollSpeed per 60 fps frame.
    this.score += this.scrollSpeed * dtMs * (60 / 1000);
    const ghost = this.tMs < this.ghostUntil;
    const invincible = this.tMs < this.invincibleUntil;
    // Hunger.
    if (!ghost && !invincible) {
      this.hungerAcc += dtMs;
      while (this.hungerAcc >= p.hungerStepMs) {
        this.hungerAcc -= p.hungerStepMs;
        this.hunger += p.hungerStep;
      }
    }
    // Collisions.
    let died: 'collision' | 'starvation' | undefined;
    for (const e of [...this.entities]) {
      if (e.k === 'obstacle') {
        if (ghost || invincible || died) continue;
        const hw = (e.w ?? 120) / 2;
        const hh = (e.h ?? 120) / 2;
        const cx = Math.max(e.x - hw, Math.min(this.pawnX, e.x + hw));
        const cy = Math.max(e.y - hh, Math.min(SR.PAWN_Y, e.y + hh));
        if (Math.hypot(this.pawnX - cx, SR.PAWN_Y - cy) <= SR.PAWN_R) died = 'collision';
      } else if (e.k === 'collectible') {
        if (Math.abs(this.pawnX - e.x) < SR.COLLECT_RANGE && Math.abs(SR.PAWN_Y - e.y) < SR.COLLECT_RANGE) {
          this.entities = this.entities.filter((x) => x !== e);
          this.score += p.collectibleScore;
          this.hunger = Math.max(0, this.hunger - p.hungerPerCollect);
          this.events.push({ t: 'collect', id: e.id });
        }
      } else if (Math.hypot(this.pawnX - e.x, SR.PAWN_Y - e.y) < SR.POWERUP_RANGE) {
        this.entities = this.entities.filter((x) => x !== e);
        this.applyPowerup(e.t as SrPowerUp);
        this.events.push({ t: 'powerup', id: e.id, kind: e.t as SrPowerUp });
      }
    }
    if (!died && this.hunger >= p.hungerMax) died = 'starvation';
    if (died) this.die(died);
    this.high = Math.max(this.high, Math.floor(this.score));
  }

  getFrame(spectators?: { current: number; max: number }): SrFrame {
    const frame: SrFrame = {
      v: 1,
      ...(this.sessionId !== undefined ? { sessionId: this.sessionId } : {}),
      tick: this.tick,
      tMs: this.tMs,
      phase: this.phase,
      pawn: { x: r2(this.pawnX), y: SR.PAWN_Y, ghost: this.tMs < this.ghostUntil, invincible: this.tMs < this.invincibleUntil },
      score: { current: Math.floor(this.score), high: this.high },
      lives: this.lives,
      livesMax: this.p.livesMax,
      hunger: this.hunger,
      hungerMax: this.p.hungerMax,
      entities: this.entities.map((e) => ({ ...e, x: r2(e.x), y: r2(e.y) })),
      events: this.events.map((e) => ({ ...e })),
    };
    if (spectators) frame.spectators = { ...spectators };
    return frame;
  }

  private die(reason: 'collision' | 'starvation'): void {
    this.lives--;
    this.events.push({ t: 'death', reason, lives: this.lives });
    if (this.lives <= 0) {
      this.phase = 'ended';
      this.events.push({ t: 'game_over', score: Math.floor(this.score), reason: 'no_lives' });
      return;
    }
    this.hunger = 0;
    this.hungerAcc = 0;
    this.pawnX = SR.PAWN_START_X;
    this.ghostUntil = this.tMs + this.p.ghostMs;
    const previous = this.targetSpeed;
    this.scrollSpeed = this.p.initScrollSpeed;
    this.targetSpeed = Math.max(0.75 * previous, this.p.initScrollSpeed);
    this.tween = { from: this.scrollSpeed, to: this.targetSpeed, start: this.tMs + this.p.ghostMs, dur: SR.SPEED_TWEEN_MS };
  }

  private applyPowerup(kind: SrPowerUp): void {
    if (kind === 'InvincibilityPowerUp') this.invincibleUntil = this.tMs + this.p.invincibleMs;
    else if (kind === 'MovementSpeedPowerUp') this.boostUntil = this.tMs + this.p.speedBoostMs;
    else {
      this.speedTimer = 0;
      this.setTarget(Math.max(this.targetSpeed * this.p.scrollSlowMult, this.p.initScrollSpeed), 1000);
    }
  }

  private setTarget(to: number, dur: number): void {
    this.targetSpeed = to;
    this.tween = { from: this.scrollSpeed, to, start: this.tMs, dur };
  }

  private rollPowerupDelay(): number {
    return this.tMs + this.rng.int(this.p.powerupMinMs, Math.max(this.p.powerupMinMs, this.p.powerupMaxMs));
  }

  /** Stacks random obstacle groups above the screen up to two screen heights ahead. */
  private generate(): void {
    while (this.frontierY > -SR.LOOKAHEAD) {
      const contHeight = this.rng.int(3, 8) * 120;
      const bottom = this.frontierY - SR.CONTAINER_GAP;
      const top = bottom - contHeight;
      const obstacles = this.rng.int(1, 3);
      for (let i = 0; i < obstacles; i++) {
        const log = this.rng.next() < 0.35;
        const y = top + contHeight * (0.2 + 0.6 * this.rng.next());
        const x = this.rng.int(SR.PAWN_MIN_X + 60, SR.PAWN_MAX_X - 60);
        this.entities.push(
          log
            ? { id: `o-${this.ids.o++}`, k: 'obstacle', t: 'Log', tex: this.rng.pick(LOGS), x, y, w: 240, h: 80 }
            : { id: `o-${this.ids.o++}`, k: 'obstacle', t: 'Rock', tex: this.rng.pick(ROCKS), x, y, w: 120, h: 120 },
        );
      }
      const collectibles = this.rng.int(0, 2);
      for (let i = 0; i < collectibles; i++) {
        const y = top + contHeight * this.rng.next();
        this.entities.push({ id: `c-${this.ids.c++}`, k: 'collectible', t: 'StarFish', tex: this.rng.pick(STARFISH), x: this.rng.int(SR.PAWN_MIN_X + 50, SR.PAWN_MAX_X - 50), y });
      }
      if (this.tMs >= this.nextPowerupAt) {
        this.nextPowerupAt = this.rollPowerupDelay();
        this.entities.push({ id: `p-${this.ids.p++}`, k: 'powerup', t: this.rng.pick(POWERUPS), x: this.rng.int(SR.PAWN_MIN_X + 50, SR.PAWN_MAX_X - 50), y: top + contHeight / 2 });
      }
      this.frontierY = top;
    }
  }
}
