import WebSocket from 'ws';

/** A tiny WebSocket test client: records raw frames, splits NDJSON, waits for messages. (Test support only.) */
export interface WsMsg {
  type: string;
  payload?: Record<string, any>;
  request_id?: string;
  [k: string]: unknown;
}

export class TestWs {
  readonly frames: string[] = [];
  readonly messages: WsMsg[] = [];
  closed?: { code: number; reason: string };
  private waiters: (() => void)[] = [];
  private readonly consumed = new Set<number>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      this.frames.push(text);
      for (const line of text.split('\n')) if (line.trim()) this.messages.push(JSON.parse(line) as WsMsg);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', () => undefined);
  }

  static open(url: string): Promise<TestWs> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const c = new TestWs(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The next message (after the ones already consumed) matching `pred`. */
  async next(pred: (m: WsMsg) => boolean = () => true, timeoutMs = 5000): Promise<WsMsg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = 0; i < this.messages.length; i++) {
        const m = this.messages[i]!;
        if (!this.consumed.has(i) && pred(m)) {
          this.consumed.add(i);
          return m;
        }
      }
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting; got ${JSON.stringify(this.messages.filter((_, i) => !this.consumed.has(i)))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting; got ${JSON.stringify(this.messages.filter((_, i) => !this.consumed.has(i)))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async request(type: string, payload?: Record<string, unknown>, requestId?: string): Promise<WsMsg> {
    const msg: Record<string, unknown> = { type };
    if (payload) msg['payload'] = payload;
    if (requestId) msg['request_id'] = requestId;
    this.send(msg);
    return requestId ? this.next((m) => m.request_id === requestId) : this.next((m) => ['ok', 'error', 'registered', 'logged_in', 'version_info'].includes(m.type));
  }

  async waitClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('timeout waiting for close');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closed;
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}
