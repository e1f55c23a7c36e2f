import type { DemoBot } from '../demo-bots';
import type { BotOptions } from '../traffic-log';
import { CloudplayLauncherOptions, runCloudplayLauncher } from './launcher';

/** The demo's API key: one stable user, so an interrupted run's session meets the next run as a 409. */
export const CLOUDPLAY_DEMO_TOKEN = 'rewind-demo-cloudplay';

/**
 * The cloud-play launcher as a demo bot (for `DEMO_BOTS`): paced for the real constants — polls every
 * 2 s as the document's play page does, two keepalives 5 s apart — unless `overrides` say otherwise.
 */
export function createCloudplayDemoBot(overrides: Partial<Omit<CloudplayLauncherOptions, keyof BotOptions>> = {}): DemoBot {
  return {
    name: 'cloudplay-launcher',
    platform: 'cloudplay',
    async run(options: BotOptions): Promise<string> {
      const r = await runCloudplayLauncher({ token: CLOUDPLAY_DEMO_TOKEN, keepalives: 2, keepaliveIntervalMs: 5_000, ...overrides, ...options });
      const path = r.transitions.map((t) => t.status).join('→');
      return `${r.sessionId} ${path}${r.reused ? ' (reused)' : ''}: ${r.stop.duration} s, ${r.stop.cpuSeconds} cpu-s, ${r.stop.peakMemoryMb} MB peak`;
    },
  };
}

export const cloudplayDemoBot: DemoBot = createCloudplayDemoBot();
