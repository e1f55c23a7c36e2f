export { startRecordingProxy } from './server';
export type { RecordingProxyOptions, RunningRecordingProxy, ProxiedPlatform } from './types';
export { PROXIED_PLATFORMS, DEFAULT_MAX_HTTP_BODY_BYTES, DEFAULT_MAX_WS_MESSAGE_BYTES, DEFAULT_UPSTREAM_TIMEOUT_MS } from './types';
export { routeRequestTarget, routeRootTarget } from './path-safety';
export type { AdmissionDecision, AdmissionRequest } from './admission';
export { refusalBody } from './admission';
