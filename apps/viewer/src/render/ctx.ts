/** The part of CanvasRenderingContext2D the renderers use, so tests can pass a recording fake. */
export interface Ctx2D {
  fillStyle: string | CanvasGradient | CanvasPattern;
  strokeStyle: string | CanvasGradient | CanvasPattern;
  lineWidth: number;
  font: string;
  textAlign: CanvasTextAlign;
  textBaseline: CanvasTextBaseline;
  globalAlpha: number;
  save(): void;
  restore(): void;
  translate(x: number, y: number): void;
  rotate(angle: number): void;
  fillRect(x: number, y: number, w: number, h: number): void;
  strokeRect(x: number, y: number, w: number, h: number): void;
  clearRect(x: number, y: number, w: number, h: number): void;
  beginPath(): void;
  closePath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  arc(x: number, y: number, r: number, start: number, end: number): void;
  fill(): void;
  stroke(): void;
  fillText(text: string, x: number, y: number): void;
}

export interface Size {
  width: number;
  height: number;
}

/** Scales design coordinates (a fixed world size) to the canvas. */
export function scaler(world: Size, size: Size): { sx: number; sy: number; x(v: number): number; y(v: number): number } {
  const sx = size.width / world.width;
  const sy = size.height / world.height;
  return { sx, sy, x: (v) => v * sx, y: (v) => v * sy };
}

export const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
export const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
