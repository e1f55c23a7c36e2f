import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';
import { TcpForwarder } from './tcp-forwarder';

/** An echo server: what a client sends comes back. */
async function echoServer(): Promise<Server> {
  const server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

function connect(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = createConnection({ host: '127.0.0.1', port }, () => resolve({ socket, received: () => data, closed }));
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('data', (c) => (data += c.toString()));
    socket.on('error', reject);
  });
}

const until = async (f: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('TcpForwarder (scriptable link for fault tests and the soak)', () => {
  let server: Server;
  let fwd: TcpForwarder;
  beforeEach(async () => {
    server = await echoServer();
    fwd = await TcpForwarder.start('127.0.0.1', (server.address() as AddressInfo).port);
  });
  afterEach(async () => {
    await fwd.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('forwards both ways; a stall holds every byte then delivers them in order; pause drops and refuses until resume', async () => {
    const a = await connect(fwd.port);
    a.socket.write('one ');
    await until(() => a.received() === 'one ');
    fwd.stall(300);
    expect(fwd.stalled).toBe(true);
    a.socket.write('two ');
    a.socket.write('three');
    await new Promise((r) => setTimeout(r, 150));
    expect(a.received()).toBe('one '); // nothing moves while stalled
    await until(() => a.received() === 'one two three', 2000);
    fwd.pause();
    await a.closed; // dropped
    const refused = await connect(fwd.port);
    await refused.closed; // refused while paused
    fwd.resume();
    const b = await connect(fwd.port);
    b.socket.write('back');
    await until(() => b.received() === 'back');
    expect(fwd.counts).toEqual({ accepted: 2, refused: 1, dropped: 1 });
    b.socket.destroy();
  });

  it('delays each chunk towards the server by delayMs, and builds URLs to itself', async () => {
    expect(fwd.urlFor('postgresql://u:p@db.example:5432/x?sslmode=disable')).toBe(`postgresql://u:p@127.0.0.1:${fwd.port}/x?sslmode=disable`);
    const a = await connect(fwd.port);
    fwd.delayMs = 200;
    const sent = Date.now();
    a.socket.write('slow');
    await until(() => a.received() === 'slow');
    expect(Date.now() - sent).toBeGreaterThanOrEqual(190);
    a.socket.destroy();
  });
});
