import type { DynamicModule } from '@nestjs/common';
import { REWIND_CONFIG, RewindConfig } from '@rewind/config';
import { loadOrCreateRedactionKey } from '@rewind/redaction';
import { ApiOptions, AppModule } from './app.module';
import { loadOrCreateApiKey } from './replay/api-key-file';

/**
 * The API of this installation, from the configuration — the one composition root of the API's options,
 * used by apps/api (production) and by `rewind up`/`demo`: the queues' prefix, the API keys and the
 * replay-token secret, and where audits read back handoff receipts (REWIND_REWARDS_URL and its key).
 *
 * `local: true` (the CLI on the embedded defaults): without REWIND_API_KEYS / REWIND_REDACTION_KEY the
 * installation's files under the data dir are used (created once). `local: false` (apps/api): both are required.
 */
export function apiOptionsFromConfig(runtime: { config: RewindConfig; databaseUrl: string; redisUrl: string }, o: { local: boolean }): ApiOptions & { localApiKey: boolean } {
  const { config } = runtime;
  if (!o.local && (config.apiKeys.length === 0 || !config.redactionKeyHex)) {
    throw new Error('apps/api needs REWIND_API_KEYS and REWIND_REDACTION_KEY (the replay gateway authenticates with them)');
  }
  const localApiKey = config.apiKeys.length === 0;
  const apiKeys = localApiKey ? [loadOrCreateApiKey(config.dataDir)] : config.apiKeys;
  const secret = config.redactionKeyHex ? Buffer.from(config.redactionKeyHex, 'hex') : loadOrCreateRedactionKey(config.dataDir);
  return {
    databaseUrl: runtime.databaseUrl,
    redisUrl: runtime.redisUrl,
    queuePrefix: config.pipeline.queuePrefix,
    replay: { apiKeys, secret },
    corsOrigins: config.corsOrigins,
    replayPorts: config.replayPorts,
    rewardsUrl: config.pipeline.rewardsUrl,
    ...(config.pipeline.rewardsApiKey ? { rewardsApiKey: config.pipeline.rewardsApiKey } : {}),
    localApiKey,
  };
}

/**
 * AppModule configured from REWIND_CONFIG (`apiOptionsFromConfig` in the factory): the application imports
 * RewindConfigModule (`withRewindConfig`), which validated the configuration — `rewind up` gives it the
 * configuration with the embedded services' URLs filled in.
 */
export function apiModuleFromConfig(o: { local: boolean; logger?: boolean }): DynamicModule {
  return AppModule.forRootAsync({
    inject: [REWIND_CONFIG],
    useFactory: (config: RewindConfig) => {
      if (!config.databaseUrl || !config.redisUrl) throw new Error('the API needs DATABASE_URL and REDIS_URL; for the embedded local default run ./rewind up');
      const { localApiKey: _local, ...options } = apiOptionsFromConfig({ config, databaseUrl: config.databaseUrl, redisUrl: config.redisUrl }, { local: o.local });
      return options;
    },
    ...(o.logger === false ? { logger: false } : {}),
  });
}
