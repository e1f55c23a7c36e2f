/** A fake Ctx2D that records every call with the fill style in force (for renderer tests). */
import type { Ctx2D } from './ctx.js';

export interface Call {
  op: string;
  args: unknown[];
  fillStyle: string;
  strokeStyle: string;
  font: string;
}

export class RecordingCtx implements Ctx2D {
  fillStyle: string | CanvasGradient | CanvasPattern = '#000';
  strokeStyle: string | CanvasGradient | CanvasPattern = '#000';
  lineWidth = 1;
  font = '10px sans-serif';
  textAlign: CanvasTextAlign = 'start';
  textBaseline: CanvasTextBaseline = 'alphabetic';
  globalAlpha = 1;
  readonly calls: Call[] = [];

  private rec(op: string, args: unknown[]): void {
    this.calls.push({ op, args, fillStyle: String(this.fillStyle), strokeStyle: String(this.strokeStyle), font: this.font });
  }
  save(): void {
    this.rec('save', []);
  }
  restore(): void {
    this.rec('restore', []);
  }
  translate(x: number, y: number): void {
    this.rec('translate', [x, y]);
  }
  rotate(a: number): void {
    this.rec('rotate', [a]);
  }
  fillRect(x: number, y: number, w: number, h: number): void {
    this.rec('fillRect', [x, y, w, h]);
  }
  strokeRect(x: number, y: number, w: number, h: number): void {
    this.rec('strokeRect', [x, y, w, h]);
  }
  clearRect(x: number, y: number, w: number, h: number): void {
    this.rec('clearRect', [x, y, w, h]);
  }
  beginPath(): void {
    this.rec('beginPath', []);
  }
  closePath(): void {
    this.rec('closePath', []);
  }
  moveTo(x: number, y: number): void {
    this.rec('moveTo', [x, y]);
  }
  lineTo(x: number, y: number): void {
    this.rec('lineTo', [x, y]);
  }
  arc(x: number, y: number, r: number, s: number, e: number): void {
    this.rec('arc', [x, y, r, s, e]);
  }
  fill(): void {
    this.rec('fill', []);
  }
  stroke(): void {
    this.rec('stroke', []);
  }
  fillText(t: string, x: number, y: number): void {
    this.rec('fillText', [t, x, y]);
  }

  /** Calls of one operation. */
  ops(op: string): Call[] {
    return this.calls.filter((c) => c.op === op);
  }
  /** All text drawn, joined by newlines. */
  text(): string {
    return this.ops('fillText')
      .map((c) => String(c.args[0]))
      .join('\n');
  }
}
