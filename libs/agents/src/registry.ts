import { cloudplayDemoBot } from './cloudplay';
import { DemoBot } from './demo-bots';
import { flappyBotsDemoBot, shellRunnersDemoBot } from './moltstation';
import { rgsDemoBot } from './rgs';
import { spacemoltHttpDemoBot, spacemoltWsDemoBot } from './spacemolt';

/** The bots `rewind demo` runs: every platform, every transport. */
export const DEMO_BOTS: DemoBot[] = [flappyBotsDemoBot, shellRunnersDemoBot, spacemoltWsDemoBot, spacemoltHttpDemoBot, cloudplayDemoBot, rgsDemoBot];
