export { spectateMoltStation } from './spectate';
export type { SpectateMoltStationOptions, SpectateSummary, SpectateEndReason } from './spectate';
export { listLiveMoltStationSessions, parseLiveList, getMoltStationSessionDetail, MoltStationDiscovery, MoltStationApiError, DEFAULT_DISCOVERY_INTERVAL_MS } from './live-list';
export type { LiveMoltStationSession, SessionDetail, MoltStationDiscoveryOptions, DiscoveryStats, DiscoveryLogger } from './live-list';
export { backoffDelay, DEFAULT_RETRY } from './backoff';
export type { RetryPolicy } from './backoff';
