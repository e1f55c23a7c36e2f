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
