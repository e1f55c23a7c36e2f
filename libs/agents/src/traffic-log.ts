/**
 * What a bot sent and received, exactly, in order — so tests of the recorder (issue 4) can compare the
 * stored events with the bot's own view byte for byte.
 */
export type TrafficChannel = 'ws' | 'http';
export type TrafficDirection = 'sent' | 'received';

export interface TrafficEntry {
  /** Which connection or request (e.g. "play-ws#1", "POST /api/games/shellrunners/sessions/start"). */
  stream: string;
  channel: TrafficChannel;
  direction: TrafficDirection;
  /** WebSocket: one message's payload (text as sent on the wire, or bytes). HTTP: the body ('' when empty). */
  data: string | Buffer;
  /** HTTP only: method + path (requests) or status (responses); WebSocket close: code and reason. */
  meta?: Record<string, unknown>;
  atMs: number;
}

export class TrafficLog {
  readonly entries: TrafficEntry[] = [];
  record(entry: Omit<TrafficEntry, 'atMs'>): void {
    this.entries.push({ ...entry, atMs: Date.now() });
  }
  of(stream: string): TrafficEntry[] {
    return this.entries.filter((e) => e.stream === stream);
  }
}

/** Options every bot takes. */
export interface BotOptions {
  /** The platform's base URL: the simulator's (http://127.0.0.1:4100/moltstation) or the recording proxy's. */
  baseUrl: string;
  /** Seed for the bot's own choices. */
  seed?: string;
  traffic?: TrafficLog;
  log?: (line: string) => void;
  /** Stop early (e.g. Ctrl-C in the demo). */
  signal?: AbortSignal;
}
