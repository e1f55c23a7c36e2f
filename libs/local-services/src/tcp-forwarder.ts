import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

type Pair = { client: Socket; upstream: Socket; onData: ((chunk: Buffer) => void) | null };

/**
 * A TCP link in front of a server (Postgres, Redis), so that tests and `rewind bench soak` can script what
 * that server's clients see without touching the server itself:
 *   - `pause()`: every open connection is dropped and new ones are refused (a server restart, as clients see it);
 *     `resume()` accepts and forwards again;
 *   - `stall(ms)`: connections stay open and new ones are accepted, but no byte moves either way for `ms`
 *     (held, then delivered in order): a network partition that heals;
 *   - `delayMs`: each chunk towards the server waits this long (a slow, not dead, server).
 * `counts` says how many connections were accepted, refused while paused, and dropped by `pause()`.
 */
export class TcpForwarder {
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private paused = false;
  private stalledUntil = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  /** Each chunk from a client waits this long before it goes to the server (0: none). */
  delayMs = 0;
  readonly counts = { accepted: 0, refused: 0, dropped: 0 };

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpForwarder> {
    const f = new TcpForwarder(targetHost, targetPort);
    await new Promise<void>((resolve) => f.server.listen(0, '127.0.0.1', resolve));
    return f;
  }

  /** A forwarder to the host and port of a `postgresql://` or `redis://` URL (default ports 5432 / 6379). */
  static startFor(targetUrl: string): Promise<TcpForwarder> {
    const u = new URL(targetUrl);
    return TcpForwarder.start(u.hostname, Number(u.port || (u.protocol.startsWith('redis') ? 6379 : 5432)));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The URL with its host and port replaced by this forwarder's. */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  get stalled(): boolean {
    return Date.now() < this.stalledUntil;
  }

  pause(): void {
    this.paused = true;
    this.counts.dropped += this.pairs.size;
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
  }

  resume(): void {
    this.paused = false;
  }

  /** No byte moves on any connection (open or new) for `ms`; then everything held flows again, in order. */
  stall(ms: number): void {
    this.stalledUntil = Date.now() + ms;
    for (const p of this.pairs) this.hold(p);
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => {
      for (const p of this.pairs) this.flow(p);
    }, ms);
  }

  async close(): Promise<void> {
    clearTimeout(this.stallTimer);
    this.pause();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.paused) {
      this.counts.refused++;
      client.destroy();
      return;
    }
    this.counts.accepted++;
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    const pair: Pair = { client, upstream, onData: null };
    this.pairs.add(pair);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    if (this.stalled) this.hold(pair);
    else this.flow(pair);
  }

  /** A held connection is unpiped and paused: its bytes wait in the kernel and the readable, nothing is lost. */
  private hold(p: Pair): void {
    p.upstream.unpipe(p.client);
    if (p.onData) p.client.off('data', p.onData);
    p.onData = null;
    p.client.pause();
    p.upstream.pause();
  }

  private flow(p: Pair): void {
    if (p.client.destroyed || p.upstream.destroyed || p.onData) return;
    p.upstream.pipe(p.client);
    const { client, upstream } = p;
    p.onData = (chunk: Buffer): void => {
      if (this.delayMs > 0) {
        client.pause();
        setTimeout(() => {
          if (!upstream.destroyed) upstream.write(chunk);
          if (!this.stalled && p.onData) client.resume();
        }, this.delayMs);
      } else if (!upstream.write(chunk)) {
        client.pause();
        upstream.once('drain', () => !this.stalled && p.onData && client.resume());
      }
    };
    client.on('data', p.onData);
    client.resume();
  }
}
