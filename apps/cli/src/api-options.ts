import * as path from 'node:path';
import { loadOrCreateApiKey } from '@rewind/api';
import type { ApiOptions } from '@rewind/api';
import { loadOrCreateRedactionKey } from '@rewind/capture';
import type { Runtime } from './runtime';

/** The API of this installation: its queues' prefix, its API keys (configured or the local one) and the replay-token secret. */
export function apiOptions(runtime: Runtime): ApiOptions & { apiKeyNote: string } {
  const { config } = runtime;
  const local = config.apiKeys.length === 0;
  const apiKeys = local ? [loadOrCreateApiKey(config.dataDir)] : config.apiKeys;
  const secret = config.redactionKeyHex ? Buffer.from(config.redactionKeyHex, 'hex') : loadOrCreateRedactionKey(config.dataDir);
  return {
    databaseUrl: runtime.databaseUrl,
    redisUrl: runtime.redisUrl,
    queuePrefix: config.pipeline.queuePrefix,
    replay: { apiKeys, secret },
    rewardsUrl: config.pipeline.rewardsUrl,
    ...(config.pipeline.rewardsApiKey ? { rewardsApiKey: config.pipeline.rewardsApiKey } : {}),
    apiKeyNote: local ? `in ${path.relative(process.cwd(), path.join(config.dataDir, 'api-key')) || path.join(config.dataDir, 'api-key')}` : 'from REWIND_API_KEYS',
  };
}
