import { createHash } from 'node:crypto';
import { RunningSimulator, startSimulator } from '@rewind/simulator';
import { TrafficLog } from '../traffic-log';
import { runRgsBot } from './index';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('RGS bot', () => {
  let sim: RunningSimulator;
  beforeEach(async () => {
    sim = await startSimulator({ port: 0, seed: 'test' });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('plays Dice and Mines, resumes, refreshes once, rotates seeds and logs every request and response', async () => {
    const traffic = new TrafficLog();
    const lines: string[] = [];
    const result = await runRgsBot({ baseUrl: sim.baseUrl('rgs'), seed: 'bot-1', traffic, log: (l) => lines.push(l), diceRounds: 6, minesRounds: 3 });

    expect(result.aborted).toBe(false);
    expect(result.roundsPlayed).toEqual({ dice: 6, mines: 3, total: 9 });
    expect(result.tokenRefreshes).toBe(1);
    expect(result.resumedRoundId).toBeDefined();
    expect(result.roundIds).toContain(result.resumedRoundId);
    expect(result.revealedSeeds.map((s) => s.gameId)).toEqual(['dice-alpha', 'mines-alpha']);
    for (const s of result.revealedSeeds) expect(sha256(s.serverSeed)).toBe(s.serverSeedHash);
    expect(result.revealedSeeds[0]!.nonce).toBe(6);

    // traffic: every request followed by its response, bodies as on the wire
    const sent = traffic.entries.filter((e) => e.direction === 'sent');
    const received = traffic.entries.filter((e) => e.direction === 'received');
    expect(sent.length).toBe(received.length);
    for (let i = 0; i < traffic.entries.length; i += 2) {
      expect(traffic.entries[i]!.direction).toBe('sent');
      expect(traffic.entries[i + 1]!.stream).toBe(traffic.entries[i]!.stream);
      expect(traffic.entries[i + 1]!.meta?.['status']).toEqual(expect.any(Number));
    }
    expect(sent.find((e) => e.stream === 'GET /game/balance')?.data).toBe('');
    const plays = received.filter((e) => e.stream === 'POST /game/play');
    expect(plays.length).toBeGreaterThanOrEqual(6);
    expect(traffic.entries.some((e) => e.stream === 'POST /session/refresh')).toBe(true);

    // balance continuity: the final balance is what the wallet shows, and history nets out
    const lastBalance = received.filter((e) => e.stream === 'GET /game/balance').pop()!;
    expect(JSON.parse(lastBalance.data as string).balance).toBe(result.finalBalance);

    // tokens never appear in the bot's log lines
    const tokens = received.filter((e) => e.stream === 'POST /session/refresh').map((e) => JSON.parse(e.data as string).sessionToken as string);
    for (const l of received.filter((e) => e.stream === 'POST /operator/launch')) tokens.push(new URL(JSON.parse(l.data as string).launchUrl).searchParams.get('sessionToken')!);
    expect(tokens.length).toBe(3);
    for (const t of tokens) expect(lines.join('\n')).not.toContain(t);
  });

  it('rides out 429 and 503 faults', async () => {
    sim.faults.add({ platform: 'rgs', fault: 'status-429', times: 2, params: { retryAfter: 0 } });
    sim.faults.add({ platform: 'rgs', fault: 'status-503', times: 1, params: { retryAfter: 0 } });
    const traffic = new TrafficLog();
    const result = await runRgsBot({ baseUrl: sim.baseUrl('rgs'), seed: 'bot-2', traffic, diceRounds: 2, minesRounds: 1 });
    expect(result.roundsPlayed.total).toBe(3);
    expect(traffic.entries.filter((e) => e.meta?.['status'] === 429)).toHaveLength(2);
    expect(traffic.entries.filter((e) => e.meta?.['status'] === 503)).toHaveLength(1);
  });

  it('same seeds → same traffic', async () => {
    const a = new TrafficLog();
    await runRgsBot({ baseUrl: sim.baseUrl('rgs'), seed: 'bot-3', traffic: a, diceRounds: 3, minesRounds: 2 });
    const other = await startSimulator({ port: 0, seed: 'test' });
    try {
      const b = new TrafficLog();
      await runRgsBot({ baseUrl: other.baseUrl('rgs'), seed: 'bot-3', traffic: b, diceRounds: 3, minesRounds: 2 });
      const strip = (t: TrafficLog) =>
        t.entries.map(
          (e) =>
            `${e.stream} ${String(e.meta?.['status'] ?? '')} ${String(e.data)
              .replace(/\d{4}-\d\d-\d\dT[\d:]+Z/g, 'T')
              .replace(/127\.0\.0\.1:\d+/g, 'HOST')}`,
        );
      expect(strip(b)).toEqual(strip(a));
    } finally {
      await other.close();
    }
  });

  it('stops early on abort', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await runRgsBot({ baseUrl: sim.baseUrl('rgs'), signal: controller.signal });
    expect(result.aborted).toBe(true);
    expect(result.roundsPlayed.total).toBe(0);
  });
});

describe('RGS demo bot', () => {
  it('plays one short run and summarises it', async () => {
    const sim = await startSimulator({ port: 0, seed: 'demo' });
    try {
      const { rgsDemoBot } = await import('./index');
      const summary = await rgsDemoBot.run({ baseUrl: sim.baseUrl('rgs'), seed: 'demo/rgs-player/1' });
      expect(summary).toMatch(/^4 dice \+ 2 mines rounds, balance \d+\.\d\d, 2 seeds revealed$/);
    } finally {
      await sim.close();
    }
  });
});
