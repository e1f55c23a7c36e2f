import type { Platform } from '../platform';
import { pathOnly } from '../wire';
import { auditSpaceMolt } from './audit';
import { spacemoltHttp, spacemoltSocketClosed, spacemoltWs, spacemoltWsMessage } from './attribution';
import { classifySpaceMolt } from './frames';
import { spacemoltReplay } from './replay';
import { summarizeSpaceMolt } from './summary';

/** SpaceMolt: a space MMO played over a WebSocket (one run per connection) or over HTTP sessions (`X-Session-Id`). */
export const spacemolt: Platform = {
  id: 'spacemolt',
  title: 'SpaceMolt',
  taskKinds: [],
  attribution: {
    http: spacemoltHttp,
    ws: spacemoltWs,
    wsMessage: spacemoltWsMessage,
    holdSocketUntilNamed: true,
    socketClosed: spacemoltSocketClosed,
    opensRun: (method, path) => method === 'POST' && /^\/api\/v[12]\/session$/.test(pathOnly(path)),
  },
  outcome: { summarize: (_run, recorder) => summarizeSpaceMolt(recorder) },
  audit: { check: auditSpaceMolt },
  provablyFair: null,
  frames: { classify: classifySpaceMolt, frameOf: () => undefined, validators: {} },
  replay: spacemoltReplay,
  redaction: { keys: ['registration_code', 'registrationCode'], paths: ['session.id'], queryParams: [], headers: ['x-session-id'] },
};

export { auditSpaceMolt } from './audit';
