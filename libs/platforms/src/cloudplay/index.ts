import { connectionIdentity } from '../attribution';
import { classifyGeneric } from '../frames';
import type { Platform } from '../platform';
import { pathOnly } from '../wire';
import { auditCloudplay } from './audit';
import { cloudplayHttp } from './attribution';
import { summarizeCloudplay } from './summary';

/** Cloud play: games launched and stopped over HTTP, followed by the recorder's poller of the session's status. */
export const cloudplay: Platform = {
  id: 'cloudplay',
  title: 'cloud play',
  taskKinds: ['cloudplay-poll'],
  attribution: {
    http: cloudplayHttp,
    ws: (_path, connectionId) => connectionIdentity(connectionId),
    wsMessage: () => ({}),
    holdSocketUntilNamed: false,
    socketClosed: () => undefined,
    opensRun: (method, path) => method === 'POST' && pathOnly(path) === '/api/game/launch',
  },
  outcome: { summarize: (_run, recorder) => summarizeCloudplay(recorder) },
  audit: { check: auditCloudplay },
  provablyFair: null,
  frames: { classify: classifyGeneric, frameOf: () => undefined, validators: {} },
  replay: null,
  redaction: { keys: [], paths: [], queryParams: [], headers: [] },
};

export { auditCloudplay } from './audit';
