/** Flappy Bots frame renderer (world 960×540, gates centred on x, 74 wide; floor at y 492). */
import { num, scaler, str, type Ctx2D, type Size } from './ctx.js';

export const FLAPPY = { WIDTH: 960, HEIGHT: 540, FLOOR_Y: 492, OBSTACLE_WIDTH: 74, BOT_RADIUS: 18 } as const;

export const FLAPPY_COLORS = {
  sky: '#1b2a4a',
  skyLow: '#27406b',
  ground: '#3d2f1f',
  grass: '#4caf50',
  gate: '#2e9e5b',
  gatePassed: '#24704a',
  gateEdge: '#7be3a3',
  bot: '#ffcc33',
  botEye: '#1b1b1b',
  hud: '#ffffff',
  banner: '#ff6b6b',
} as const;

interface Obstacle {
  id: string;
  x: number;
  gapTopY: number;
  gapBottomY: number;
  passed: boolean;
}

function obstacles(frame: Record<string, unknown>): Obstacle[] {
  const list = frame['obstacles'];
  if (!Array.isArray(list)) return [];
  return list.flatMap((o) => {
    if (!o || typeof o !== 'object') return [];
    const r = o as Record<string, unknown>;
    return [{ id: str(r['id']), x: num(r['x']), gapTopY: num(r['gapTopY']), gapBottomY: num(r['gapBottomY'], FLAPPY.FLOOR_Y), passed: r['passed'] === true }];
  });
}

/** Draws one Flappy Bots frame (the `frame` object of a `{"t":"frame"}` message) onto a canvas of `size`. */
export function drawFlappy(ctx: Ctx2D, frame: Record<string, unknown>, size: Size): void {
  const s = scaler({ width: FLAPPY.WIDTH, height: FLAPPY.HEIGHT }, size);
  // Sky (two bands) and ground.
  ctx.fillStyle = FLAPPY_COLORS.sky;
  ctx.fillRect(0, 0, size.width, s.y(FLAPPY.FLOOR_Y / 2));
  ctx.fillStyle = FLAPPY_COLORS.skyLow;
  ctx.fillRect(0, s.y(FLAPPY.FLOOR_Y / 2), size.width, s.y(FLAPPY.FLOOR_Y / 2));

  // Gates: a top pipe from 0 to the gap's top, a bottom pipe from the gap's bottom to the floor.
  const half = FLAPPY.OBSTACLE_WIDTH / 2;
  for (const g of obstacles(frame)) {
    const left = s.x(g.x - half);
    const w = s.x(FLAPPY.OBSTACLE_WIDTH);
    ctx.fillStyle = g.passed ? FLAPPY_COLORS.gatePassed : FLAPPY_COLORS.gate;
    ctx.fillRect(left, 0, w, s.y(g.gapTopY));
    ctx.fillRect(left, s.y(g.gapBottomY), w, s.y(FLAPPY.FLOOR_Y - g.gapBottomY));
    ctx.strokeStyle = FLAPPY_COLORS.gateEdge;
    ctx.lineWidth = 2;
    ctx.strokeRect(left, 0, w, s.y(g.gapTopY));
    ctx.strokeRect(left, s.y(g.gapBottomY), w, s.y(FLAPPY.FLOOR_Y - g.gapBottomY));
  }

  ctx.fillStyle = FLAPPY_COLORS.ground;
  ctx.fillRect(0, s.y(FLAPPY.FLOOR_Y), size.width, s.y(FLAPPY.HEIGHT - FLAPPY.FLOOR_Y));
  ctx.fillStyle = FLAPPY_COLORS.grass;
  ctx.fillRect(0, s.y(FLAPPY.FLOOR_Y), size.width, Math.max(2, s.y(6)));

  // The bot: a circle turned by its rotation, with an eye and a beak.
  const bot = (frame['bot'] ?? {}) as Record<string, unknown>;
  const bx = s.x(num(bot['x'], 178));
  const by = s.y(num(bot['y'], FLAPPY.HEIGHT / 2));
  const r = FLAPPY.BOT_RADIUS * Math.min(s.sx, s.sy);
  ctx.save();
  ctx.translate(bx, by);
  ctx.rotate(num(bot['rotation']));
  ctx.fillStyle = FLAPPY_COLORS.bot;
  ctx.beginPath();
  ctx.arc(0, 0, r, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = FLAPPY_COLORS.botEye;
  ctx.beginPath();
  ctx.arc(r * 0.35, -r * 0.3, r * 0.18, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = '#ff8c1a';
  ctx.beginPath();
  ctx.moveTo(r * 0.8, -r * 0.15);
  ctx.lineTo(r * 1.35, 0);
  ctx.lineTo(r * 0.8, r * 0.2);
  ctx.closePath();
  ctx.fill();
  ctx.restore();

  // HUD: score, best, tick; phase banner.
  const score = (frame['score'] ?? {}) as Record<string, unknown>;
  const fontPx = Math.max(10, Math.round(28 * s.sy));
  ctx.fillStyle = FLAPPY_COLORS.hud;
  ctx.font = `bold ${fontPx}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillText(`Score ${num(score['current'])}`, size.width / 2, s.y(14));
  ctx.font = `${Math.round(fontPx * 0.55)}px system-ui, sans-serif`;
  ctx.textAlign = 'left';
  ctx.fillText(`Best ${num(score['high'])}`, s.x(14), s.y(14));
  ctx.textAlign = 'right';
  ctx.fillText(`tick ${num(frame['tick'])}${frame['latestAction'] ? ` · ${str(frame['latestAction'])}` : ''}`, size.width - s.x(14), s.y(14));

  const phase = str(frame['phase']);
  if (phase === 'ready' || phase === 'ended') {
    ctx.fillStyle = 'rgba(0,0,0,0.45)';
    ctx.fillRect(0, s.y(FLAPPY.HEIGHT / 2 - 50), size.width, s.y(100));
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = phase === 'ended' ? FLAPPY_COLORS.banner : FLAPPY_COLORS.hud;
    ctx.font = `bold ${Math.round(fontPx * 1.3)}px system-ui, sans-serif`;
    ctx.fillText(phase === 'ended' ? 'GAME OVER' : 'READY', size.width / 2, s.y(FLAPPY.HEIGHT / 2 - 14));
    ctx.font = `${Math.round(fontPx * 0.6)}px system-ui, sans-serif`;
    ctx.fillStyle = FLAPPY_COLORS.hud;
    const sub = phase === 'ended' ? `${str(frame['gameOverReason'], 'ended').replace(/_/g, ' ').toLowerCase()} · score ${num(score['current'])}` : 'waiting for the first flap';
    ctx.fillText(sub, size.width / 2, s.y(FLAPPY.HEIGHT / 2 + 24));
  }
}
