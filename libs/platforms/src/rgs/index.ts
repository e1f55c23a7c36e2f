import { connectionIdentity } from '../attribution';
import { classifyGeneric } from '../frames';
import type { Platform } from '../platform';
import { pathOnly } from '../wire';
import { auditRgs } from './audit';
import { rgsHttp } from './attribution';
import { verifyRound } from './provably-fair';
import { summarizeRgs } from './summary';

/** RGS: a casino remote game server; the operator launches a session, the game plays rounds over HTTP with its token. */
export const rgs: Platform = {
  id: 'rgs',
  title: 'RGS',
  taskKinds: ['rgs-poll'],
  attribution: {
    http: rgsHttp,
    ws: (_path, connectionId) => connectionIdentity(connectionId),
    wsMessage: () => ({}),
    holdSocketUntilNamed: false,
    opensRun: (method, path) => method === 'POST' && pathOnly(path) === '/operator/launch',
    socketClosed: () => undefined,
    slidingExpiry: { tokenRunTask: 'rgs-poll' },
  },
  outcome: { summarize: (_run, recorder) => summarizeRgs(recorder) },
  audit: { check: auditRgs },
  provablyFair: { verifyRound },
  frames: { classify: classifyGeneric, frameOf: () => undefined, validators: {} },
  replay: null,
  redaction: { keys: ['sessionToken'], paths: [], queryParams: ['sessionToken'], headers: [] },
};

export { auditRgs } from './audit';
