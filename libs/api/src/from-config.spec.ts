import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@rewind/config';
import { apiOptionsFromConfig } from './from-config';

describe('apiOptionsFromConfig (the API options of apps/api and of the CLI)', () => {
  const key = 'ab'.repeat(32);
  const urls = { databaseUrl: 'postgresql://x@127.0.0.1:1/x', redisUrl: 'redis://127.0.0.1:1' };

  it('production (apps/api): audits read back reward receipts with the configured URL and key', () => {
    const config = loadConfig({
      REWIND_API_KEYS: 'key-one-0123456789',
      REWIND_REDACTION_KEY: key,
      REWIND_REWARDS_URL: 'https://rewards.example.com/v1/handoffs',
      REWIND_REWARDS_API_KEY: 'rk',
      REWIND_QUEUE_PREFIX: 'p1',
      REWIND_CORS_ORIGINS: 'https://molt.example',
      REWIND_REPLAY_PORT_MOLTSTATION: '9191',
      REWIND_REPLAY_PORT_SPACEMOLT: '0',
    });
    const o = apiOptionsFromConfig({ config, ...urls }, { local: false });
    expect(o).toMatchObject({ ...urls, rewardsUrl: 'https://rewards.example.com/v1/handoffs', rewardsApiKey: 'rk', queuePrefix: 'p1', corsOrigins: ['https://molt.example'], localApiKey: false });
    expect(o.replayPorts).toEqual({ moltstation: 9191, spacemolt: 0 });
    expect(o.replay?.apiKeys).toEqual(['key-one-0123456789']);
    expect(o.replay?.secret.equals(Buffer.from(key, 'hex'))).toBe(true);
  });

  it('production refuses to start without configured API keys or redaction key (no local fallback)', () => {
    expect(() => apiOptionsFromConfig({ config: loadConfig({ REWIND_REDACTION_KEY: key }), ...urls }, { local: false })).toThrow(/REWIND_API_KEYS and REWIND_REDACTION_KEY/);
    expect(() => apiOptionsFromConfig({ config: loadConfig({ REWIND_API_KEYS: 'key-one-0123456789' }), ...urls }, { local: false })).toThrow(/REWIND_API_KEYS and REWIND_REDACTION_KEY/);
  });

  it('local (the CLI): the key files of the data dir, and the same rewards settings', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rewind-api-options-'));
    try {
      const config = loadConfig({ REWIND_DATA_DIR: dataDir, REWIND_REWARDS_API_KEY: 'rk' });
      const o = apiOptionsFromConfig({ config, ...urls }, { local: true });
      expect(o.localApiKey).toBe(true);
      expect(o.replay?.apiKeys).toHaveLength(1);
      expect(o).toMatchObject({ rewardsUrl: config.pipeline.rewardsUrl, rewardsApiKey: 'rk' });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
