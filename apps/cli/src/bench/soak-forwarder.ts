/**
 * `rewind bench soak`: the TCP link between Rewind's processes and a shared server (Postgres, Redis), so the
 * soak can script that server's "restart" or a network stall without touching the server itself:
 *   - pause(): every open connection is dropped and new ones are refused (a server restart, as clients see it);
 *   - resume(): connections are accepted and forwarded again;
 *   - stall(ms): connections stay open and new ones are accepted, but no byte moves either way for `ms`
 *     (held, then delivered in order): a network partition that heals.
 * (@rewind/testing's TcpForwarder has pause/resume but no stall, and is test support.)
 */
import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

export class SoakForwarder {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<Pair>();
  private paused = false;
  private stalledUntil = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  /** Connections accepted / refused while paused / dropped by pause(). */
  readonly counts = { accepted: 0, refused: 0, dropped: 0 };

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(targetUrl: string): Promise<SoakForwarder> {
    const u = new URL(targetUrl);
    const f = new SoakForwarder(u.hostname, Number(u.port || (u.protocol.startsWith('redis') ? 6379 : 5432)));
    await new Promise<void>((resolve) => f.server.listen(0, '127.0.0.1', resolve));
    return f;
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
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.pairs.clear();
  }

  resume(): void {
    this.paused = false;
  }

  /** No byte moves on any connection (open or new) for `ms`; then everything held flows again, in order. */
  stall(ms: number): void {
    this.stalledUntil = Date.now() + ms;
    for (const p of this.pairs) hold(p);
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => {
      for (const p of this.pairs) flow(p);
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
    const pair = { client, upstream };
    this.sockets.add(client);
    this.sockets.add(upstream);
    this.pairs.add(pair);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      this.pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    // A held connection is unpiped and paused: its bytes wait in the kernel and the readable, nothing is lost.
    if (this.stalled) hold(pair);
    else flow(pair);
  }
}

type Pair = { client: Socket; upstream: Socket };
function hold(p: Pair): void {
  p.upstream.unpipe(p.client);
  p.client.unpipe(p.upstream);
  p.client.pause();
  p.upstream.pause();
}
function flow(p: Pair): void {
  if (p.client.destroyed || p.upstream.destroyed) return;
  p.upstream.pipe(p.client);
  p.client.pipe(p.upstream);
}
