/** ShellRunners frame renderer (world 1920×1080, entities centred on x/y, pawn at y 972). */
import { num, scaler, str, type Ctx2D, type Size } from './ctx.js';

export const SHELL = { WIDTH: 1920, HEIGHT: 1080, PAWN_R: 20, MIN_X: 152, MAX_X: 1768, PAWN_Y: 972 } as const;

export const SHELL_COLORS = {
  water: '#0f3550',
  sand: '#c9a86a',
  lane: '#17496b',
  log: '#8b5a2b',
  rock: '#7d8590',
  collectible: '#ff8a3d',
  powerup: { MovementSpeedPowerUp: '#39d0ff', InvincibilityPowerUp: '#ffd700', ScrollSpeedSlowPowerUp: '#b48cff' } as Record<string, string>,
  pawn: '#f4e3c1',
  pawnShell: '#e07a5f',
  hud: '#ffffff',
  hungerBack: '#2a2a2a',
  hunger: '#e9b949',
  hungerHigh: '#e5534b',
  life: '#e5534b',
  lifeLost: '#555b63',
  banner: '#ff6b6b',
} as const;

interface Entity {
  id: string;
  k: string;
  t: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

function entities(frame: Record<string, unknown>): Entity[] {
  const list = frame['entities'];
  if (!Array.isArray(list)) return [];
  return list.flatMap((o) => {
    if (!o || typeof o !== 'object') return [];
    const r = o as Record<string, unknown>;
    const k = str(r['k']);
    const def = k === 'obstacle' ? 120 : k === 'powerup' ? 90 : 60;
    return [{ id: str(r['id']), k, t: str(r['t']), x: num(r['x']), y: num(r['y']), w: num(r['w'], def), h: num(r['h'], def) }];
  });
}

const POWERUP_LETTER: Record<string, string> = { MovementSpeedPowerUp: 'S', InvincibilityPowerUp: 'I', ScrollSpeedSlowPowerUp: 'T' };

/** Draws one ShellRunners frame (`SrFrame`) onto a canvas of `size`. */
export function drawShellRunners(ctx: Ctx2D, frame: Record<string, unknown>, size: Size): void {
  const s = scaler({ width: SHELL.WIDTH, height: SHELL.HEIGHT }, size);
  const k = Math.min(s.sx, s.sy);
  // Beach: sand edges, water lane between the pawn's bounds.
  ctx.fillStyle = SHELL_COLORS.sand;
  ctx.fillRect(0, 0, size.width, size.height);
  ctx.fillStyle = SHELL_COLORS.water;
  ctx.fillRect(s.x(SHELL.MIN_X - 40), 0, s.x(SHELL.MAX_X - SHELL.MIN_X + 80), size.height);
  ctx.fillStyle = SHELL_COLORS.lane;
  for (let x = SHELL.MIN_X + 200; x < SHELL.MAX_X; x += 400) ctx.fillRect(s.x(x), 0, Math.max(1, s.x(2)), size.height);

  for (const e of entities(frame)) {
    const cx = s.x(e.x);
    const cy = s.y(e.y);
    if (e.k === 'obstacle') {
      ctx.fillStyle = e.t === 'Log' ? SHELL_COLORS.log : SHELL_COLORS.rock;
      ctx.fillRect(s.x(e.x - e.w / 2), s.y(e.y - e.h / 2), s.x(e.w), s.y(e.h));
    } else if (e.k === 'collectible') {
      const r = 26 * k;
      ctx.fillStyle = SHELL_COLORS.collectible;
      ctx.beginPath();
      for (let i = 0; i < 10; i++) {
        const a = -Math.PI / 2 + (i * Math.PI) / 5;
        const rr = i % 2 === 0 ? r : r * 0.45;
        if (i === 0) ctx.moveTo(cx + rr * Math.cos(a), cy + rr * Math.sin(a));
        else ctx.lineTo(cx + rr * Math.cos(a), cy + rr * Math.sin(a));
      }
      ctx.closePath();
      ctx.fill();
    } else if (e.k === 'powerup') {
      ctx.fillStyle = SHELL_COLORS.powerup[e.t] ?? '#ffffff';
      ctx.beginPath();
      ctx.arc(cx, cy, 34 * k, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillStyle = '#10202c';
      ctx.font = `bold ${Math.max(8, Math.round(34 * k))}px system-ui, sans-serif`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(POWERUP_LETTER[e.t] ?? '?', cx, cy);
    }
  }

  // The pawn: a hermit crab's shell; translucent while a ghost, ringed while invincible.
  const pawn = (frame['pawn'] ?? {}) as Record<string, unknown>;
  const px = s.x(num(pawn['x'], SHELL.WIDTH / 2));
  const py = s.y(num(pawn['y'], SHELL.PAWN_Y));
  const pr = Math.max(4, SHELL.PAWN_R * 1.6 * k);
  ctx.save();
  ctx.globalAlpha = pawn['ghost'] === true ? 0.45 : 1;
  ctx.fillStyle = SHELL_COLORS.pawnShell;
  ctx.beginPath();
  ctx.arc(px, py, pr, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = SHELL_COLORS.pawn;
  ctx.beginPath();
  ctx.arc(px, py, pr * 0.5, 0, Math.PI * 2);
  ctx.fill();
  if (pawn['invincible'] === true) {
    ctx.strokeStyle = SHELL_COLORS.powerup['InvincibilityPowerUp'] ?? '#ffd700';
    ctx.lineWidth = Math.max(2, 6 * k);
    ctx.beginPath();
    ctx.arc(px, py, pr * 1.4, 0, Math.PI * 2);
    ctx.stroke();
  }
  ctx.restore();

  // HUD: score, lives, hunger bar.
  const score = frame['score'];
  const current = typeof score === 'number' ? score : num((score as Record<string, unknown> | undefined)?.['current']);
  const high = typeof score === 'object' && score ? num((score as Record<string, unknown>)['high']) : undefined;
  const fontPx = Math.max(10, Math.round(48 * k));
  ctx.fillStyle = 'rgba(0,0,0,0.45)';
  ctx.fillRect(0, 0, size.width, s.y(96));
  ctx.fillStyle = SHELL_COLORS.hud;
  ctx.font = `bold ${fontPx}px system-ui, sans-serif`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  ctx.fillText(`Score ${current}${high !== undefined ? `  (best ${high})` : ''}`, s.x(40), s.y(48));

  const lives = num(frame['lives']);
  const livesMax = Math.max(lives, num(frame['livesMax'], lives));
  for (let i = 0; i < livesMax; i++) {
    ctx.fillStyle = i < lives ? SHELL_COLORS.life : SHELL_COLORS.lifeLost;
    ctx.beginPath();
    ctx.arc(s.x(760 + i * 56), s.y(48), 20 * k, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.fillStyle = SHELL_COLORS.hud;
  ctx.font = `${Math.round(fontPx * 0.6)}px system-ui, sans-serif`;
  ctx.fillText(`lives ${lives}/${livesMax}`, s.x(760 + livesMax * 56), s.y(48));

  const hunger = num(frame['hunger']);
  const hungerMax = Math.max(1, num(frame['hungerMax'], 100));
  const ratio = Math.min(1, Math.max(0, hunger / hungerMax));
  const barX = s.x(1380);
  const barW = s.x(500);
  ctx.fillStyle = SHELL_COLORS.hungerBack;
  ctx.fillRect(barX, s.y(30), barW, s.y(36));
  ctx.fillStyle = ratio >= 0.75 ? SHELL_COLORS.hungerHigh : SHELL_COLORS.hunger;
  ctx.fillRect(barX, s.y(30), barW * ratio, s.y(36));
  ctx.fillStyle = SHELL_COLORS.hud;
  ctx.textAlign = 'right';
  ctx.fillText(`hunger ${Math.round(hunger)}/${hungerMax}`, barX - s.x(16), s.y(48));

  // This frame's events (death, powerup, …) and the phase.
  const evs = Array.isArray(frame['events']) ? (frame['events'] as unknown[]) : [];
  const notes = evs.flatMap((e) => {
    const r = (e ?? {}) as Record<string, unknown>;
    if (r['t'] === 'death') return [`DEATH (${str(r['reason'])})`];
    if (r['t'] === 'powerup') return [`POWERUP ${str(r['kind']).replace(/PowerUp$/, '')}`];
    return [];
  });
  ctx.textAlign = 'center';
  ctx.font = `bold ${Math.round(fontPx * 0.8)}px system-ui, sans-serif`;
  notes.forEach((n, i) => {
    ctx.fillStyle = n.startsWith('DEATH') ? SHELL_COLORS.banner : SHELL_COLORS.hud;
    ctx.fillText(n, size.width / 2, s.y(170 + i * 60));
  });

  const phase = str(frame['phase']);
  if (phase === 'ended' || phase === 'paused') {
    ctx.fillStyle = 'rgba(0,0,0,0.5)';
    ctx.fillRect(0, s.y(440), size.width, s.y(200));
    ctx.fillStyle = phase === 'ended' ? SHELL_COLORS.banner : SHELL_COLORS.hud;
    ctx.font = `bold ${Math.round(fontPx * 1.6)}px system-ui, sans-serif`;
    ctx.fillText(phase === 'ended' ? 'GAME OVER' : 'PAUSED', size.width / 2, s.y(520));
    const over = evs.map((e) => (e ?? {}) as Record<string, unknown>).find((e) => e['t'] === 'game_over');
    ctx.font = `${Math.round(fontPx * 0.7)}px system-ui, sans-serif`;
    ctx.fillStyle = SHELL_COLORS.hud;
    ctx.fillText(`score ${current}${over ? ` · ${str(over['reason']).replace(/_/g, ' ')}` : ''}`, size.width / 2, s.y(590));
  }
}
