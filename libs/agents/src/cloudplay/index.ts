export { runCloudplayLauncher, CloudplayBotError, retryAfterMs } from './launcher';
export type { CloudplayLauncherOptions, CloudplayLauncherResult, StatusTransition, StopStatistics } from './launcher';
export { CloudplayHttpClient } from './http-client';
export type { HttpReply as CloudplayHttpReply } from './http-client';
export { cloudplayDemoBot, createCloudplayDemoBot, CLOUDPLAY_DEMO_TOKEN } from './demo-bot';
