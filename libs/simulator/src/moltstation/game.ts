/** One running game behind a uniform interface, whatever the slug. */
import type { Rng } from '../core/rng';
import { FlappyBotsEngine } from './flappybots-engine';
import type { ShellRunnersParams } from './options';
import type { ClientMessage, ProtocolError, Slug } from './protocol';
import { ShellRunnersEngine } from './shellrunners-engine';

export interface GameRun {
  readonly slug: Slug;
  readonly ended: boolean;
  readonly phase: string;
  readonly tick: number;
  readonly score: { current: number; high: number };
  readonly gameOverReason: string | undefined;
  step(dtMs: number): void;
  frame(spectators: { current: number; max: number }): unknown;
  /** Applies a play-socket message; returns an error for messages this game does not take. */
  apply(msg: ClientMessage): ProtocolError | undefined;
  /** Ends the run server-side (cmd exit, POST …/end). */
  end(kind: 'exit' | 'session_ended'): void;
}

export function createGame(slug: Slug, opts: { seed: string; rng: Rng; sr: ShellRunnersParams; sessionId: string }): GameRun {
  return slug === 'flappybots' ? new FlappyRun(opts.seed) : new ShellRun(opts.rng, opts.sr, opts.sessionId);
}

class FlappyRun implements GameRun {
  readonly slug = 'flappybots' as const;
  private readonly engine: FlappyBotsEngine;
  constructor(seed: string) {
    this.engine = new FlappyBotsEngine(seed);
  }
  get ended(): boolean {
    return !this.engine.isAlive;
  }
  get phase(): string {
    return this.engine.getFrame().phase;
  }
  get tick(): number {
    return this.engine.currentTick;
  }
  get score(): { current: number; high: number } {
    return this.engine.getFrame().score;
  }
  get gameOverReason(): string | undefined {
    return this.engine.getFrame().gameOverReason;
  }
  step(dtMs: number): void {
    this.engine.step(dtMs);
  }
  frame(): unknown {
    // Serialise what the engine has now (includes events pushed by actions since the last step).
    return this.engine.getFrame();
  }
  apply(msg: ClientMessage): ProtocolError | undefined {
    if (msg.t === 'action') {
      this.engine.applyAction(msg.action);
      return undefined;
    }
    if (msg.t === 'cmd') return undefined; // pause/resume: not in the engine (FB must never emit "paused"); exit handled by the session
    return { code: 'UNSUPPORTED_MESSAGE', message: `flappybots does not take "${msg.t}" messages` };
  }
  end(): void {
    this.engine.endRun('SESSION_ENDED');
  }
}

class ShellRun implements GameRun {
  readonly slug = 'shellrunners' as const;
  private readonly engine: ShellRunnersEngine;
  private reason: string | undefined;
  constructor(rng: Rng, params: ShellRunnersParams, sessionId: string) {
    this.engine = new ShellRunnersEngine(rng, params, sessionId);
  }
  get ended(): boolean {
    return this.engine.isEnded;
  }
  get phase(): string {
    return this.engine.currentPhase;
  }
  get tick(): number {
    return this.engine.currentTick;
  }
  get score(): { current: number; high: number } {
    return this.engine.currentScore;
  }
  get gameOverReason(): string | undefined {
    return this.reason ?? (this.engine.isEnded ? 'NO_LIVES' : undefined);
  }
  step(dtMs: number): void {
    this.engine.step(dtMs);
  }
  frame(spectators: { current: number; max: number }): unknown {
    return this.engine.getFrame(spectators);
  }
  apply(msg: ClientMessage): ProtocolError | undefined {
    if (msg.t === 'input') {
      this.engine.setDir(msg.dir);
      return undefined;
    }
    if (msg.t === 'cmd') {
      if (msg.cmd === 'pause') this.engine.pause();
      if (msg.cmd === 'resume') this.engine.resume();
      return undefined;
    }
    return { code: 'UNSUPPORTED_MESSAGE', message: `shellrunners does not take "${msg.t}" messages` };
  }
  end(kind: 'exit' | 'session_ended'): void {
    if (this.engine.isEnded) return;
    this.reason = kind === 'exit' ? 'EXIT' : 'SESSION_ENDED';
    this.engine.end(kind);
  }
}
