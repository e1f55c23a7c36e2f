/** The replay gateway's WebSocket: its envelope parsed, controls sent (queued until the socket opens). */

export interface HelloMessage {
  type: 'hello';
  session: { id: string; platform: string; game: string | null; events: number; status: string };
  speed: number;
}
export interface EventMessage {
  type: 'event';
  seq: number;
  offsetUs: number;
  kind: string;
  direction: string | null;
  channel: string | null;
  msgType: string | null;
  tick: number | null;
  format: string | null;
  encoding: 'utf8' | 'base64';
  data: string | null;
}
export interface MarkerMessage {
  type: 'marker';
  name: string;
  seq: number;
  offsetUs: number;
  kind?: string;
}
export interface StateMessage {
  type: 'state';
  state: string;
  speed: number;
}
export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
}
export interface EndMessage {
  type: 'end';
  emitted: number;
  lastSeq: number | null;
  stopped?: boolean;
}
export type ServerMessage = HelloMessage | EventMessage | MarkerMessage | StateMessage | ErrorMessage | EndMessage;

export type Control = { type: 'pause' } | { type: 'resume' } | { type: 'speed'; speed: number } | { type: 'seek'; seq: number } | { type: 'seek'; offsetUs: number };

export const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16, 32] as const;

/** A server message, or null for anything that is not one of the documented types. */
export function parseServerMessage(text: string): ServerMessage | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const t = (v as { type?: unknown }).type;
  if (t === 'event') return typeof (v as { seq?: unknown }).seq === 'number' ? (v as EventMessage) : null;
  if (t === 'hello' || t === 'marker' || t === 'state' || t === 'error' || t === 'end') return v as ServerMessage;
  return null;
}

/**
 * `ws(s)://host/replay/{id}?apiKey=&speed=&fromSeq=` for a page served over http(s); `follow` adds
 * `follow=1` (the gateway plays on as a live session records, until it ends).
 */
export function replayUrl(loc: { protocol: string; host: string }, id: string, apiKey: string, speed: number, fromSeq?: number, follow = false): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const p = new URLSearchParams({ apiKey, speed: String(clampSpeed(speed)) });
  if (fromSeq !== undefined && fromSeq > 0) p.set('fromSeq', String(Math.floor(fromSeq)));
  if (follow) p.set('follow', '1');
  return `${scheme}//${loc.host}/replay/${encodeURIComponent(id)}?${p.toString()}`;
}

export function clampSpeed(speed: number): number {
  if (!Number.isFinite(speed)) return 1;
  return Math.min(32, Math.max(0.25, speed));
}

/** What a close code means for the user. */
export function describeClose(code: number, reason: string): string | null {
  if (code === 1000) return null;
  if (code === 4401) return 'The API key was rejected (4401). Enter the key printed by ./rewind demo.';
  if (code === 4404) return `Session not found (4404)${reason ? `: ${reason}` : ''}`;
  if (code === 4400) return `Bad replay request (4400)${reason ? `: ${reason}` : ''}`;
  return `Replay connection closed (${code})${reason ? `: ${reason}` : ''}`;
}

export interface ReplayHandlers {
  onMessage(m: ServerMessage): void;
  onClose(code: number, reason: string): void;
}

export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

const OPEN = 1;

export class ReplayClient {
  private readonly ws: SocketLike;
  private readonly queue: Control[] = [];
  private closedByUs = false;

  constructor(
    url: string,
    private readonly handlers: ReplayHandlers,
    factory: (url: string) => SocketLike = (u) => new WebSocket(u) as unknown as SocketLike,
  ) {
    this.ws = factory(url);
    this.ws.onopen = () => {
      for (const c of this.queue.splice(0)) this.ws.send(JSON.stringify(c));
    };
    this.ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      const m = parseServerMessage(ev.data);
      if (m) this.handlers.onMessage(m);
    };
    this.ws.onclose = (ev) => {
      if (!this.closedByUs) this.handlers.onClose(ev.code, ev.reason);
    };
    this.ws.onerror = () => undefined;
  }

  get open(): boolean {
    return this.ws.readyState === OPEN;
  }

  send(c: Control): void {
    if (this.ws.readyState === OPEN) this.ws.send(JSON.stringify(c));
    else if (this.ws.readyState === 0) this.queue.push(c);
  }

  pause(): void {
    this.send({ type: 'pause' });
  }
  resume(): void {
    this.send({ type: 'resume' });
  }
  setSpeed(speed: number): void {
    this.send({ type: 'speed', speed: clampSpeed(speed) });
  }
  seek(target: { seq: number } | { offsetUs: number }): void {
    this.send({ type: 'seek', ...target } as Control);
  }

  /** Closes without reporting the close to the handlers. */
  close(): void {
    this.closedByUs = true;
    try {
      this.ws.close(1000, 'viewer closed');
    } catch {
      // already closed
    }
  }
}
