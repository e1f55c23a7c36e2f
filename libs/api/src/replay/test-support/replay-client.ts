import WebSocket from 'ws';
import { waitFor } from '@rewind/testing';

/** A WebSocket client of the replay gateway in tests: every message as received (bytes, text, arrival time) and the close. */
export interface ReplayClient {
  ws: WebSocket;
  /** Each message's bytes, as received. */
  raw: Buffer[];
  /** Each message as text. */
  texts: string[];
  /** Each message's arrival (performance.now()). */
  at: number[];
  close: { code: number; reason: string } | null;
  /** When the close arrived (performance.now()). */
  closedAt: number | null;
}

/** Opens a replay socket; rejects when the upgrade is refused (`refused <status>`) or fails before opening. */
export function connectReplay(url: string | URL, headers: Record<string, string> = {}): Promise<ReplayClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const c: ReplayClient = { ws, raw: [], texts: [], at: [], close: null, closedAt: null };
    ws.on('message', (d: Buffer) => {
      const bytes = Buffer.from(d);
      c.raw.push(bytes);
      c.texts.push(bytes.toString('utf8'));
      c.at.push(performance.now());
    });
    ws.on('close', (code, reason) => {
      c.close = { code, reason: reason.toString() };
      c.closedAt = performance.now();
    });
    ws.on('error', (e) => reject(e));
    ws.once('open', () => resolve(c));
    ws.once('unexpected-response', (_q, res) => reject(new Error(`refused ${res.statusCode}`)));
  });
}

/** Waits for the socket's close and returns its code and reason. */
export const replayClosed = (c: ReplayClient, timeoutMs = 30_000) =>
  waitFor(`close (got ${c.texts.length} messages: ${c.texts.slice(0, 2).join(' | ').slice(0, 300)})`, () => c.close ?? undefined, timeoutMs);
