/**
 * Flappy Bots engine, a faithful port of the public `lib/game/FlappyBotsEngine.ts` as described in the
 * reference §6.1 (constants, reset, applyAction, step, end conditions, score) and §4.5 (frame shape).
 * Deterministic: RNG = mulberry32(FNV-1a32(seed)), used only for gap centres.
 */
export const FB = {
  WIDTH: 960,
  HEIGHT: 540,
  BOT_X: 178,
  BOT_RADIUS: 18,
  GROUND_HEIGHT: 48,
  FLOOR_Y: 492,
  CEILING_Y: 0,
  GRAVITY: 720,
  FLAP_VELOCITY: -300,
  MAX_FALL_SPEED: 520,
  SCROLL_SPEED: 185,
  SCORE_BASE_FPS: 60,
  OBSTACLE_WIDTH: 74,
  OBSTACLE_SPACING: 276,
  OBSTACLE_START_X: 520,
  GAP_HEIGHT: 176,
  GAP_MARGIN: 78,
  TICK_HZ: 20,
  DEFAULT_SEED: 'flappybots-local-seed',
  INITIAL_GATES: 5,
} as const;

export type FlappyAction = 'FLAP' | 'NOOP';
export type FlappyPhase = 'ready' | 'running' | 'ended';
export type FlappyGameOverReason = 'GROUND_COLLISION' | 'CEILING_COLLISION' | 'OBSTACLE_COLLISION' | 'INVALID_POSITION' | 'INVALID_VELOCITY' | 'SESSION_ENDED' | 'INPUT_BUBBLE_RESTART' | 'UNKNOWN';

export type FlappyEvent = { t: 'reset' } | { t: 'flap' } | { t: 'gate_passed'; score: number; gateId: string } | { t: 'game_over'; score: number; reason: FlappyGameOverReason; obstacleId?: string };

export interface FlappyObstacle {
  id: string;
  x: number;
  gapCenterY: number;
  gapTopY: number;
  gapBottomY: number;
  passed: boolean;
}

export interface FlappyObservation {
  tick: number;
  botY: number;
  botVelocityY: number;
  nextObstacleX: number | null;
  nextGapCenterY: number | null;
  nextGapTopY: number | null;
  nextGapBottomY: number | null;
  distanceToNextObstacle: number | null;
  score: number;
  alive: boolean;
}

export interface FlappyFrame {
  v: 1;
  tick: number;
  tMs: number;
  phase: FlappyPhase;
  bot: { x: number; y: number; velocityY: number; rotation: number };
  score: { current: number; high: number };
  latestAction: FlappyAction;
  gameOverReason?: FlappyGameOverReason;
  observation: FlappyObservation;
  obstacles: FlappyObstacle[];
  events: FlappyEvent[];
}

/** FNV-1a 32-bit over UTF-16 code units. */
export function hashSeed(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Anything other than FLAP is NOOP (engine `normalizeAction`). */
export function normalizeAction(a: unknown): FlappyAction {
  return a === 'FLAP' ? 'FLAP' : 'NOOP';
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
const round3 = (v: number): number => Math.round(v * 1000) / 1000;

export class FlappyBotsEngine {
  private rng: () => number = () => 0;
  private y = 0;
  private velY = 0;
  private score = 0;
  private high = 0;
  private tick = 0;
  private tMs = 0;
  private alive = true;
  private latestAction: FlappyAction = 'NOOP';
  private gameOverReason: FlappyGameOverReason | undefined;
  private gates: FlappyObstacle[] = [];
  private nextGateId = 1;
  private events: FlappyEvent[] = [];

  constructor(private readonly seed: string = FB.DEFAULT_SEED) {
    this.reset();
  }

  get isAlive(): boolean {
    return this.alive;
  }

  get currentTick(): number {
    return this.tick;
  }

  reset(): void {
    this.rng = mulberry32(hashSeed(this.seed));
    this.y = 0.46 * FB.HEIGHT;
    this.velY = 0;
    this.score = 0;
    this.tick = 0;
    this.tMs = 0;
    this.alive = true;
    this.latestAction = 'NOOP';
    this.gameOverReason = undefined;
    this.gates = [];
    this.nextGateId = 1;
    for (let i = 0; i < FB.INITIAL_GATES; i++) this.gates.push(this.makeGate(FB.OBSTACLE_START_X + i * FB.OBSTACLE_SPACING));
    this.events = [{ t: 'reset' }];
  }

  applyAction(action: unknown): void {
    const a = normalizeAction(action);
    this.latestAction = a;
    if (this.alive && a === 'FLAP') {
      this.velY = FB.FLAP_VELOCITY;
      this.events.push({ t: 'flap' });
    }
  }

  step(dtMs: number): FlappyFrame {
    this.events = [];
    if (!this.alive) return this.getFrame();
    const dt = clamp(dtMs, 0, 100) / 1000;
    this.tMs += dtMs;
    this.tick++;
    this.velY = Math.min(this.velY + FB.GRAVITY * dt, FB.MAX_FALL_SPEED);
    this.y += this.velY * dt;
    const half = FB.OBSTACLE_WIDTH / 2;
    for (const g of this.gates) {
      g.x -= FB.SCROLL_SPEED * dt;
      if (!g.passed && g.x + half < FB.BOT_X - FB.BOT_RADIUS) {
        g.passed = true;
        this.events.push({ t: 'gate_passed', score: Math.floor(this.score), gateId: g.id });
      }
    }
    this.gates = this.gates.filter((g) => g.x > -FB.OBSTACLE_WIDTH);
    while (this.gates.length === 0 || (this.gates[this.gates.length - 1] as FlappyObstacle).x < FB.WIDTH + FB.OBSTACLE_SPACING * 2) {
      const last = this.gates[this.gates.length - 1];
      this.gates.push(this.makeGate(last ? last.x + FB.OBSTACLE_SPACING : FB.OBSTACLE_START_X));
    }
    this.checkEnd();
    if (this.alive) {
      this.score += (FB.SCROLL_SPEED / 1000) * FB.SCORE_BASE_FPS * dt;
      this.high = Math.max(this.high, Math.floor(this.score));
    }
    return this.getFrame();
  }

  /** Idempotent. Also used by the server for SESSION_ENDED (exit, /end). */
  endRun(reason: FlappyGameOverReason, obstacleId?: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.gameOverReason = reason;
    const ev: FlappyEvent = { t: 'game_over', score: Math.floor(this.score), reason };
    if (obstacleId !== undefined) ev.obstacleId = obstacleId;
    this.events.push(ev);
  }

  /** A deep copy: safe to serialise later (the public engine returns `events` by reference). */
  getFrame(): FlappyFrame {
    const next = this.gates.find((g) => g.x + FB.OBSTACLE_WIDTH / 2 >= FB.BOT_X - FB.BOT_RADIUS);
    const frame: FlappyFrame = {
      v: 1,
      tick: this.tick,
      tMs: this.tMs,
      phase: !this.alive ? 'ended' : this.tick === 0 ? 'ready' : 'running',
      bot: { x: FB.BOT_X, y: this.y, velocityY: this.velY, rotation: clamp(this.velY / 640, -0.55, 0.9) },
      score: { current: Math.floor(this.score), high: this.high },
      latestAction: this.latestAction,
      observation: {
        tick: this.tick,
        botY: round3(this.y),
        botVelocityY: round3(this.velY),
        nextObstacleX: next ? round3(next.x) : null,
        nextGapCenterY: next ? round3(next.gapCenterY) : null,
        nextGapTopY: next ? round3(next.gapTopY) : null,
        nextGapBottomY: next ? round3(next.gapBottomY) : null,
        distanceToNextObstacle: next ? round3(Math.max(0, next.x - FB.BOT_X)) : null,
        score: Math.floor(this.score),
        alive: this.alive,
      },
      obstacles: this.gates.map((g) => ({ ...g })),
      events: this.events.map((e) => ({ ...e })),
    };
    if (this.gameOverReason !== undefined) {
      // Keep the engine's key order: gameOverReason sits between latestAction and observation.
      const { observation, obstacles, events, ...head } = frame;
      return { ...head, gameOverReason: this.gameOverReason, observation, obstacles, events };
    }
    return frame;
  }

  private makeGate(x: number): FlappyObstacle {
    const lo = FB.GAP_MARGIN + FB.GAP_HEIGHT / 2;
    const hi = FB.FLOOR_Y - FB.GAP_MARGIN - FB.GAP_HEIGHT / 2;
    const gapCenterY = lo + (hi - lo) * this.rng();
    return { id: `gate-${this.nextGateId++}`, x, gapCenterY, gapTopY: gapCenterY - FB.GAP_HEIGHT / 2, gapBottomY: gapCenterY + FB.GAP_HEIGHT / 2, passed: false };
  }

  private checkEnd(): void {
    if (!Number.isFinite(this.y)) return this.endRun('INVALID_POSITION');
    if (!Number.isFinite(this.velY)) return this.endRun('INVALID_VELOCITY');
    if (this.y - FB.BOT_RADIUS <= FB.CEILING_Y) return this.endRun('CEILING_COLLISION');
    if (this.y + FB.BOT_RADIUS >= FB.FLOOR_Y) return this.endRun('GROUND_COLLISION');
    const half = FB.OBSTACLE_WIDTH / 2;
    const left = FB.BOT_X - FB.BOT_RADIUS;
    const right = FB.BOT_X + FB.BOT_RADIUS;
    for (const g of this.gates) {
      const overlapsX = g.x - half < right && g.x + half > left;
      if (!overlapsX) continue;
      const insideGap = this.y - FB.BOT_RADIUS > g.gapTopY && this.y + FB.BOT_RADIUS < g.gapBottomY;
      if (!insideGap) return this.endRun('OBSTACLE_COLLISION', g.id);
    }
  }
}
