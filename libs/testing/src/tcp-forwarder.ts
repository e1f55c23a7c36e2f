import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

/**
 * A TCP forwarder for tests: clients connect to `port`, bytes are piped to the real server. `pause()`
 * simulates an outage (every open connection is destroyed and new ones are refused until `resume()`);
 * `delayMs` slows every chunk towards the server (a slow, not dead, database).
 */
export class TcpForwarder {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private paused = false;
  delayMs = 0;

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

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The database URL with its host and port replaced by this forwarder's. */
  urlFor(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  pause(): void {
    this.paused = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  resume(): void {
    this.paused = false;
  }

  async close(): Promise<void> {
    this.pause();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.paused) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    this.sockets.add(client);
    this.sockets.add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      if (this.delayMs > 0) {
        client.pause();
        setTimeout(() => {
          if (!upstream.destroyed) upstream.write(chunk);
          client.resume();
        }, this.delayMs);
      } else if (!upstream.destroyed) upstream.write(chunk);
    });
  }
}
