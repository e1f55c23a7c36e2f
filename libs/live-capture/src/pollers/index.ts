export { pollCloudplaySession } from './cloudplay-poller';
export type { CloudplayPollerOptions } from './cloudplay-poller';
export { pollRgsSession } from './rgs-poller';
export type { RgsPollerOptions } from './rgs-poller';
export { PollRecorder, retryAfterMs, backoffMs } from './poll-common';
export type { PolledPlatform } from './poll-common';
export type { PollExchange } from './http-exchange';
