import { classifyMoltStation, frameOf } from './frames';
import { flappyFrameProblems } from './flappybots-frame-validator';
import { auditMoltStation } from './audit';
import { moltstationHttp, moltstationSocketClosed, moltstationWs, moltstationWsMessage } from './attribution';
import { moltstationOutcome } from './outcome';
import { moltstationReplay } from './replay';
import { summarizeMoltStation } from './summary';
import type { Platform } from '../platform';
import { pathOnly } from '../wire';

/** MoltStation: arcade games played over a WebSocket, started over HTTP; spectated live; frames with ticks and scores. */
export const moltstation: Platform = {
  id: 'moltstation',
  title: 'MoltStation',
  taskKinds: ['moltstation-spectate'],
  attribution: {
    http: moltstationHttp,
    ws: moltstationWs,
    wsMessage: moltstationWsMessage,
    holdSocketUntilNamed: false,
    socketClosed: moltstationSocketClosed,
    opensRun: (method, path) => method === 'POST' && /^\/api\/games\/[^/]+\/sessions\/start$/.test(pathOnly(path)),
  },
  outcome: { fromFinalFrame: moltstationOutcome, summarize: summarizeMoltStation },
  audit: { check: auditMoltStation },
  provablyFair: null,
  frames: { classify: classifyMoltStation, frameOf, validators: { flappybots: flappyFrameProblems } },
  replay: moltstationReplay,
  redaction: {
    keys: ['playToken', 'spectateToken', 'accessToken', 'refreshToken'],
    paths: [],
    queryParams: ['playToken', 'spectateToken', 'accessToken', 'refreshToken'],
    headers: ['x-api-key'],
  },
};

export { auditMoltStation } from './audit';
export { moltstationOutcome } from './outcome';
export { finalFrameOf, frameOf } from './frames';
export * from './flappybots-frame-validator';
