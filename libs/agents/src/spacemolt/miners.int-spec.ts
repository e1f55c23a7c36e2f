import { RunningSimulator, startSimulator } from '@rewind/simulator';
import { TrafficLog } from '../traffic-log';
import { runSpaceMoltHttpMiner, runSpaceMoltWsMiner, SpaceMoltMinerSummary } from './index';

const TICK_MS = 40;

async function withSim<T>(seed: string, fn: (sim: RunningSimulator) => Promise<T>): Promise<T> {
  const sim = await startSimulator({ port: 0, seed, platformOptions: { spacemolt: { tickMs: TICK_MS } } });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

/** Everything in a summary that must not depend on timing. */
const stable = (s: SpaceMoltMinerSummary) => ({ ...s, messagesReceived: undefined, pushesReceived: undefined });

describe('SpaceMolt miner bots', () => {
  it('the WebSocket miner completes cycles, earns credits and logs every frame', async () => {
    const traffic = new TrafficLog();
    const s = await withSim('bots-ws', (sim) => runSpaceMoltWsMiner({ baseUrl: sim.baseUrl('spacemolt'), seed: 'a', cycles: 2, traffic, timeoutMs: 10_000 }));
    expect(s.cyclesCompleted).toBe(2);
    expect(s.unitsMined).toBeGreaterThanOrEqual(100); // 2 full 50-unit holds
    expect(s.unitsSold).toBe(s.unitsMined);
    expect(s.salesTotal).toBeGreaterThan(0);
    expect(s.creditsEarned).toBe(s.salesTotal - s.fuelBought);
    expect(s.creditsEarned).toBeGreaterThan(0);
    expect(s.pushesReceived['mining_yield']).toBe(s.mineActions);
    const sent = traffic.entries.filter((e) => e.direction === 'sent');
    const received = traffic.entries.filter((e) => e.direction === 'received' && !e.meta?.['close']);
    expect(sent).toHaveLength(s.messagesSent);
    expect(received.reduce((n, e) => n + String(e.data).split('\n').length, 0)).toBe(s.messagesReceived);
    expect(JSON.parse(String(received[0]!.data)).type).toBe('welcome');
    expect(traffic.entries[traffic.entries.length - 1]!.meta).toEqual({ close: true, code: 1000, reason: 'logout' });
  });

  it('the HTTP v2 miner completes cycles, earns credits and logs every body', async () => {
    const traffic = new TrafficLog();
    const s = await withSim('bots-http', (sim) => runSpaceMoltHttpMiner({ baseUrl: sim.baseUrl('spacemolt'), seed: 'b', cycles: 2, traffic, timeoutMs: 10_000 }));
    expect(s.cyclesCompleted).toBe(2);
    expect(s.unitsSold).toBe(s.unitsMined);
    expect(s.unitsMined).toBeGreaterThanOrEqual(100);
    expect(s.creditsEarned).toBe(s.salesTotal - s.fuelBought);
    expect(s.creditsEarned).toBeGreaterThan(0);
    expect(s.pushesReceived['action_result']).toBeGreaterThan(s.mineActions);
    const reqs = traffic.entries.filter((e) => e.direction === 'sent');
    expect(reqs).toHaveLength(s.messagesSent);
    expect(reqs[0]!.meta).toEqual({ method: 'POST', path: '/api/v2/session' });
    expect(reqs[0]!.data).toBe('');
    const mine = traffic.entries.find((e) => e.stream === 'POST /api/v2/spacemolt/mine' && e.direction === 'sent')!;
    expect(mine.data).toBe('');
    const res = traffic.entries.find((e) => e.stream === 'POST /api/v2/spacemolt/mine' && e.direction === 'received')!;
    expect(res.meta).toEqual({ method: 'POST', path: '/api/v2/spacemolt/mine', status: 200 });
    expect(JSON.parse(String(res.data)).structuredContent.pending).toBe(true);
  });

  it('the HTTP miner waits out a 429 (retry_after) and carries on', async () => {
    const s = await withSim('bots-429', async (sim) => {
      sim.faults.add({ platform: 'spacemolt', fault: 'status-429', params: { retryAfter: 1 }, times: 1 });
      return runSpaceMoltHttpMiner({ baseUrl: sim.baseUrl('spacemolt'), seed: 'c', cycles: 1, timeoutMs: 10_000 });
    });
    expect(s.cyclesCompleted).toBe(1);
    expect(s.messagesSent).toBe(s.messagesReceived);
  });

  it('same seed + same script → same results (both bots)', async () => {
    const run = () =>
      withSim('determinism', async (sim) => [
        await runSpaceMoltWsMiner({ baseUrl: sim.baseUrl('spacemolt'), seed: 'same', cycles: 1, timeoutMs: 10_000 }),
        await runSpaceMoltHttpMiner({ baseUrl: sim.baseUrl('spacemolt'), seed: 'same', cycles: 1, timeoutMs: 10_000 }),
      ]);
    const [a, b] = [await run(), await run()];
    expect(a.map(stable)).toEqual(b.map(stable));
    expect(a[0]!.password).toMatch(/^[0-9a-f]{64}$/);
    // A different simulator seed gives a different game (prices, yields).
    const other = await withSim('determinism-2', (sim) => runSpaceMoltWsMiner({ baseUrl: sim.baseUrl('spacemolt'), seed: 'same', cycles: 1, timeoutMs: 10_000 }));
    expect(stable(other)).not.toEqual(stable(a[0]!));
  });
});

describe('SpaceMolt miner bots: abort', () => {
  it.each([
    ['ws', runSpaceMoltWsMiner],
    ['http', runSpaceMoltHttpMiner],
  ] as const)('the %s miner stops early on signal and resolves with partial counts', async (_name, run) => {
    const s = await withSim('bots-abort', async (sim) => {
      const controller = new AbortController();
      const done = run({
        baseUrl: sim.baseUrl('spacemolt'),
        seed: 'abort',
        cycles: 50,
        signal: controller.signal,
        timeoutMs: 10_000,
        log: (l) => l.includes('belt') && setTimeout(() => controller.abort(), 300),
      });
      return done;
    });
    expect(s.aborted).toBe(true);
    expect(s.cyclesCompleted).toBeLessThan(50);
    expect(s.messagesSent).toBeGreaterThan(0);
  });
});
