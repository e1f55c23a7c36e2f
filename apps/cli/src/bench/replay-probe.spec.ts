import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { installSendProbe, monotonicOffsetMs, takeSentLog } from './replay-probe';

describe('bench replay send probe', () => {
  it("notes, per session (from the socket's hello), each event's seq and when the gateway handed it over", async () => {
    installSendProbe();
    takeSentLog();
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    const before = performance.now() + monotonicOffsetMs();
    wss.on('connection', (ws, req) => {
      const id = (req.url ?? '').slice(1);
      ws.send(JSON.stringify({ type: 'hello', session: { id, platform: 'moltstation' }, speed: 1 }));
      for (let seq = 1; seq <= 3; seq++) ws.send(JSON.stringify({ type: 'event', seq, offsetUs: seq * 50_000, data: 'x' }));
      ws.send(JSON.stringify({ type: 'end', emitted: 3 }));
      ws.close();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await Promise.all(
      ['s1', 's2'].map(
        (id) =>
          new Promise<void>((resolve) => {
            const c = new WebSocket(`ws://127.0.0.1:${port}/${id}`);
            c.on('close', () => resolve());
          }),
      ),
    );
    const after = performance.now() + monotonicOffsetMs();
    const log = takeSentLog();
    wss.close();
    await new Promise<void>((r) => server.close(() => r()));
    expect(Object.keys(log).sort()).toEqual(['s1', 's2']);
    for (const id of ['s1', 's2']) {
      expect(log[id]?.seqs).toEqual([1, 2, 3]);
      for (const at of log[id]?.at ?? []) {
        expect(at).toBeGreaterThanOrEqual(before);
        expect(at).toBeLessThanOrEqual(after);
      }
    }
    // A new log starts at each take.
    expect(takeSentLog()).toEqual({});
  });
});
