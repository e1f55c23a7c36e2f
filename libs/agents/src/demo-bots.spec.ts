import { waitFor } from '@rewind/testing';
import { DemoBot, runDemoBots } from './demo-bots';

describe('runDemoBots', () => {
  it('runs every bot repeatedly against its platform, survives failures, and stops on abort', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    let flaky = 0;
    const bots: DemoBot[] = [
      { name: 'steady', platform: 'rgs', run: async (o) => (seen.push(`steady@${o.baseUrl}#${o.seed}`), 'ok') },
      {
        name: 'flaky',
        platform: 'cloudplay',
        run: async () => {
          flaky++;
          if (flaky % 2 === 1) throw new Error('upstream said 503');
          return 'ok';
        },
      },
    ];
    const log: string[] = [];
    const done = runDemoBots(bots, (p) => `http://sim/${p}`, { signal: controller.signal, log: (l) => log.push(l), pauseMs: 5, seed: 's' });
    // Three steady runs done (a fourth started), the flaky bot's failed first run and its second one done.
    await waitFor('3 steady runs and 2 flaky ones', () => seen.length >= 4 && flaky >= 3);
    controller.abort();
    const counts = await done;

    expect(counts.steady!.ok).toBeGreaterThanOrEqual(3);
    expect(counts.steady!.failed).toBe(0);
    expect(counts.flaky!.failed).toBeGreaterThanOrEqual(1);
    expect(counts.flaky!.ok).toBeGreaterThanOrEqual(1);
    expect(seen[0]).toBe('steady@http://sim/rgs#s/steady/1');
    expect(seen[1]).toBe('steady@http://sim/rgs#s/steady/2');
    expect(log).toContain('[flaky] run 1 failed: upstream said 503');
  });

  it('does not count a run cut short by the stop as completed', async () => {
    const controller = new AbortController();
    const bots: DemoBot[] = [{ name: 'slow', platform: 'spacemolt', run: (o) => new Promise((resolve) => o.signal?.addEventListener('abort', () => resolve('partial'))) }];
    const log: string[] = [];
    const done = runDemoBots(bots, (p) => p, { signal: controller.signal, log: (l) => log.push(l) });
    controller.abort();
    expect(await done).toEqual({ slow: { ok: 0, failed: 0 } });
    expect(log).toEqual(['[slow] run 1 stopped early: partial']);
  });
});
