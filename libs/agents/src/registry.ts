import { cloudplayDemoBot } from './cloudplay';
import { DemoBot } from './demo-bots';
import { rgsDemoBot } from './rgs';

/** The bots `rewind demo` runs, one or more per platform. */
export const DEMO_BOTS: DemoBot[] = [cloudplayDemoBot, rgsDemoBot];
