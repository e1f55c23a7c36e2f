import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { rawReplaySocket } from './replay-raw-client';

describe('bench replay raw-socket client', () => {
  let server: http.Server;
  let wss: WebSocketServer;
  let port: number;
  const seenHeaders: (string | undefined)[] = [];

  beforeAll(async () => {
    server = http.createServer();
    wss = new WebSocketServer({ server });
    wss.on('connection', (ws, req) => {
      seenHeaders.push(req.headers['authorization']);
      // Small, 16-bit-length and 64-bit-length frames, sent back to back (several frames per read, frames across reads).
      ws.send('{"type":"hello"}');
      ws.send('x'.repeat(300));
      ws.send(Buffer.alloc(70_000, 7));
      for (let i = 0; i < 50; i++) ws.send(`{"type":"event","seq":${i + 1}}`);
      ws.close(4321, 'done here');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    wss.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('reads every frame whole, in order, answers the close and reports its code', async () => {
    const got: string[] = [];
    const sizes: number[] = [];
    const errors: string[] = [];
    const code = await new Promise<number>((resolve) =>
      rawReplaySocket(
        port,
        '/replay/x?speed=1',
        { authorization: 'Bearer k' },
        { message: (p) => (sizes.push(p.length), got.push(p.length < 100 ? p.toString() : '')), error: (e) => errors.push(e), close: resolve },
      ),
    );
    expect(errors).toEqual([]);
    expect(code).toBe(4321);
    expect(seenHeaders).toEqual(['Bearer k']);
    expect(sizes.slice(0, 3)).toEqual([16, 300, 70_000]);
    expect(got[0]).toBe('{"type":"hello"}');
    expect(got.slice(3)).toEqual(Array.from({ length: 50 }, (_, i) => `{"type":"event","seq":${i + 1}}`));
  });

  it('reports a refused upgrade', async () => {
    const errors: string[] = [];
    const refusing = http.createServer((_, res) => res.writeHead(404).end());
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
    const code = await new Promise<number>((resolve) =>
      rawReplaySocket((refusing.address() as AddressInfo).port, '/nope', {}, { message: () => undefined, error: (e) => errors.push(e), close: resolve }),
    );
    await new Promise<void>((r) => refusing.close(() => r()));
    expect(code).toBe(1006);
    expect(errors[0]).toMatch(/upgrade refused: HTTP\/1\.1 404/);
  });
});
