import * as path from 'node:path';
import { apiOptionsFromConfig } from '@rewind/api';
import type { ApiOptions } from '@rewind/api';
import type { Runtime } from './runtime';

/**
 * The API of this installation (the same composition root as apps/api's, `apiOptionsFromConfig`), on the
 * embedded defaults: without REWIND_API_KEYS the local key file, without REWIND_REDACTION_KEY the local key.
 */
export function apiOptions(runtime: Runtime): ApiOptions & { apiKeyNote: string } {
  const { localApiKey, ...options } = apiOptionsFromConfig(runtime, { local: true });
  const file = path.join(runtime.config.dataDir, 'api-key');
  return { ...options, apiKeyNote: localApiKey ? `in ${path.relative(process.cwd(), file) || file}` : 'from REWIND_API_KEYS' };
}
