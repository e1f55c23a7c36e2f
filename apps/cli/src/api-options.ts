import * as path from 'node:path';
import { loadOrCreateApiKey } from '@rewind/api';
import type { Runtime } from './runtime';

/**
 * Where the API key of this installation comes from, for the lines `up` and `demo` print: REWIND_API_KEYS, or
 * (on the embedded defaults, none configured) the local key file that `apiModuleFromConfig` uses (created once).
 */
export function apiKeyNote(runtime: Runtime): string {
  if (runtime.config.apiKeys.length > 0) return 'from REWIND_API_KEYS';
  loadOrCreateApiKey(runtime.config.dataDir);
  const file = path.join(runtime.config.dataDir, 'api-key');
  return `in ${path.relative(process.cwd(), file) || file}`;
}

/**
 * The lines `up` and `demo` print under the replay gateway: its per-platform ports (REWIND_REPLAY_PORT_*), where an
 * unmodified spectate page or SpaceMolt client points its base (only host:port change; 0: off).
 */
export function replayPortRows(runtime: Runtime): [string, string][] {
  const { moltstation, spacemolt } = runtime.config.replayPorts;
  return [
    [
      '  moltstation',
      moltstation ? `http://127.0.0.1:${moltstation}  (a spectate page's base: POST /api/games/{slug}/sessions/{id}/spectate-token, /ws/{slug}/spectate)` : 'off (REWIND_REPLAY_PORT_MOLTSTATION=0)',
    ],
    ['  spacemolt', spacemolt ? `ws://127.0.0.1:${spacemolt}/ws?sessionId=<sessionId>  (a SpaceMolt client's base)` : 'off (REWIND_REPLAY_PORT_SPACEMOLT=0)'],
  ];
}
