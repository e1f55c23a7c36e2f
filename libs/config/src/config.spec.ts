import * as path from 'node:path';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  const root = '/srv/rewind';

  it('uses the documented defaults when nothing is set', () => {
    const sut = loadConfig({}, root);
    expect(sut).toEqual({
      databaseUrl: undefined,
      redisUrl: undefined,
      apiPort: 8080,
      apiWorkers: 1,
      proxyPort: 8081,
      simulatorPort: 4100,
      dataDir: path.join(root, '.rewind'),
      ingestBatchSize: 2000,
      ingestFlushMs: 100,
      logLevel: 'info',
      logFormat: 'auto',
      simulatorSeed: expect.stringMatching(/^rewind-[0-9a-f]{8}$/),
      simulatorFaults: undefined,
      upstreams: {
        moltstation: 'http://127.0.0.1:4100/moltstation',
        spacemolt: 'http://127.0.0.1:4100/spacemolt',
        cloudplay: 'http://127.0.0.1:4100/cloudplay',
        rgs: 'http://127.0.0.1:4100/rgs',
      },
      sealAfterMs: 10_000,
      runIdleMs: 1_800_000,
      spectateLive: true,
      captureConcurrency: 200,
      captureQueue: 'rewind-capture',
      admission: { enabled: true, maxLagMs: 10_000, maxLoopDelayMs: 1000, maxBufferedPercent: 80, closeAfterMs: 2000, reopenPercent: 50, reopenAfterMs: 5000 },
      redactionKeyHex: undefined,
      apiKeys: [],
      corsOrigins: [],
      metrics: { recorderPort: 0, pipelinePort: 0 },
      proxyPlatformPorts: { moltstation: 8181, spacemolt: 8182, cloudplay: 8183, rgs: 8184 },
      simulatorPlatformPorts: true,
      replayPorts: { moltstation: 8191, spacemolt: 8192 },
      pipeline: {
        queuePrefix: 'rewind',
        rewardsUrl: 'http://127.0.0.1:4100/rewards/handoffs',
        rewardsApiKey: undefined,
        attempts: 8,
        backoffMs: 1000,
        maxBackoffMs: 60_000,
        concurrency: 8,
        requestTimeoutMs: 10_000,
      },
    });
  });

  it('reads API keys and refuses short ones without echoing them', () => {
    expect(loadConfig({ REWIND_API_KEYS: 'aaaaaaaaaaaaaaaa1, bbbbbbbbbbbbbbbb2' }, root).apiKeys).toEqual(['aaaaaaaaaaaaaaaa1', 'bbbbbbbbbbbbbbbb2']);
    expect(() => loadConfig({ REWIND_API_KEYS: 'short-key' }, root)).toThrow(/REWIND_API_KEYS must be a comma-separated list of keys of at least 16 characters/);
    try {
      loadConfig({ REWIND_API_KEYS: 'short-key' }, root);
    } catch (e) {
      expect((e as Error).message).not.toContain('short-key');
    }
  });

  it('reads the admission thresholds (graceful overload) and names a bad one', () => {
    expect(
      loadConfig(
        {
          REWIND_ADMISSION: '0',
          REWIND_ADMISSION_MAX_LAG_MS: '2500',
          REWIND_ADMISSION_MAX_LOOP_DELAY_MS: '400',
          REWIND_ADMISSION_MAX_BUFFERED_PERCENT: '60',
          REWIND_ADMISSION_REOPEN_PERCENT: '30',
          REWIND_ADMISSION_REOPEN_AFTER_MS: '0',
          REWIND_ADMISSION_CLOSE_AFTER_MS: '500',
        },
        root,
      ).admission,
    ).toEqual({ enabled: false, maxLagMs: 2500, maxLoopDelayMs: 400, maxBufferedPercent: 60, closeAfterMs: 500, reopenPercent: 30, reopenAfterMs: 0 });
    expect(() => loadConfig({ REWIND_ADMISSION_MAX_BUFFERED_PERCENT: '120' }, root)).toThrow('REWIND_ADMISSION_MAX_BUFFERED_PERCENT must be an integer from 1 to 100 (got "120")');
  });

  it('reads REWIND_CORS_ORIGINS as exact origins and names the variable and the bad value otherwise', () => {
    expect(loadConfig({ REWIND_CORS_ORIGINS: 'https://molt.example, http://localhost:3000,http://127.0.0.1:5173' }, root).corsOrigins).toEqual([
      'https://molt.example',
      'http://localhost:3000',
      'http://127.0.0.1:5173',
    ]);
    expect(loadConfig({ REWIND_CORS_ORIGINS: '' }, root).corsOrigins).toEqual([]);
    const problem = (value: string): string => {
      try {
        loadConfig({ REWIND_CORS_ORIGINS: `https://ok.example,${value}` }, root);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error(`${value} was accepted`);
    };
    for (const bad of ['https://molt.example/', 'https://molt.example/path', 'molt.example', 'ftp://molt.example', '*', 'http://HOST.example']) {
      expect(problem(bad)).toContain(`REWIND_CORS_ORIGINS must be a comma-separated list of origins scheme://host[:port]`);
      expect(problem(bad)).toContain(`(got "${bad}")`);
      expect(problem(bad)).not.toContain('ok.example');
    }
    expect(problem('https://user:hunter2@molt.example')).toContain('(got an origin with credentials, not shown)');
    expect(problem('https://user:hunter2@molt.example')).not.toContain('hunter2');
  });

  it('validates the pipeline settings together', () => {
    expect(() => loadConfig({ REWIND_PIPELINE_BACKOFF_MS: '5000', REWIND_PIPELINE_MAX_BACKOFF_MS: '100', REWIND_PIPELINE_ATTEMPTS: '0' }, root)).toThrow(
      /REWIND_PIPELINE_ATTEMPTS must be an integer from 1 to 100[\s\S]*REWIND_PIPELINE_BACKOFF_MS \(5000\) must not exceed REWIND_PIPELINE_MAX_BACKOFF_MS \(100\)/,
    );
    expect(loadConfig({ REWIND_REWARDS_URL: 'https://rewards.example.com/v1/handoffs' }, root).pipeline.rewardsUrl).toBe('https://rewards.example.com/v1/handoffs');
  });

  it('reads the upstreams and the recorder settings; a bad key is refused without being echoed', () => {
    const sut = loadConfig({ REWIND_UPSTREAM_RGS: 'https://rgs.example.com/api/', SIMULATOR_PORT: '4200', REWIND_SPECTATE_LIVE: '0', REWIND_SEAL_AFTER_MS: '0' }, root);
    expect(sut.upstreams).toMatchObject({ rgs: 'https://rgs.example.com/api', moltstation: 'http://127.0.0.1:4200/moltstation' });
    expect(sut).toMatchObject({ spectateLive: false, sealAfterMs: 0 });
    const key = 'zz'.repeat(32);
    expect(() => loadConfig({ REWIND_REDACTION_KEY: key, REWIND_UPSTREAM_CLOUDPLAY: 'ftp://x' }, root)).toThrow(
      /REWIND_REDACTION_KEY must be at least 64 hex[\s\S]*REWIND_UPSTREAM_CLOUDPLAY must start with http/,
    );
    try {
      loadConfig({ REWIND_REDACTION_KEY: key }, root);
    } catch (e) {
      expect((e as Error).message).not.toContain(key);
    }
  });

  it('reads every variable', () => {
    const sut = loadConfig(
      {
        DATABASE_URL: 'postgresql://u:p@db:5432/rewind',
        REDIS_URL: 'redis://cache:6379',
        REWIND_API_PORT: '9000',
        REWIND_PROXY_PORT: '9001',
        SIMULATOR_PORT: '9002',
        REWIND_DATA_DIR: '/var/rewind',
        REWIND_INGEST_BATCH_SIZE: '500',
        REWIND_LOG_LEVEL: 'debug',
      },
      root,
    );
    expect(sut).toMatchObject({ apiPort: 9000, proxyPort: 9001, simulatorPort: 9002, dataDir: '/var/rewind' });
    expect(sut.databaseUrl).toBe('postgresql://u:p@db:5432/rewind');
    expect(sut.ingestBatchSize).toBe(500);
    expect(sut.logLevel).toBe('debug');
  });

  it('names every problem at once and never echoes a URL that may hold a password', () => {
    const attempt = () =>
      loadConfig(
        {
          DATABASE_URL: 'mysql://u:secretpw@db/x',
          REDIS_URL: 'not a url',
          REWIND_API_PORT: '80x',
          SIMULATOR_PORT: '70000',
          REWIND_LOG_LEVEL: 'loud',
          SIMULATOR_FAULTS: '[{"platform":',
        },
        root,
      );
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (e) {
      const err = e as ConfigError;
      expect(err.problems).toHaveLength(6);
      expect(err.message).toContain('SIMULATOR_FAULTS is not valid JSON');
      expect(err.message).toContain('DATABASE_URL must start with postgres:// or postgresql://');
      expect(err.message).toContain('REDIS_URL is not a valid URL');
      expect(err.message).toContain('REWIND_API_PORT must be an integer from 1 to 65535 (got "80x")');
      expect(err.message).toContain('SIMULATOR_PORT must be an integer from 1 to 65535 (got "70000")');
      expect(err.message).toContain('REWIND_LOG_LEVEL must be one of debug, info, warn, error');
      expect(err.message).not.toContain('secretpw');
    }
  });

  it('refuses two services on one port', () => {
    expect(() => loadConfig({ REWIND_API_PORT: '4100' }, root)).toThrow(/must differ/);
  });
});

describe('the environment schema', () => {
  const root = '/srv/rewind';

  it('reads the metrics ports and the log format; 0 turns a metrics port off', () => {
    const sut = loadConfig({ REWIND_RECORDER_METRICS_PORT: '9464', REWIND_PIPELINE_METRICS_PORT: '0', REWIND_LOG_FORMAT: 'json' }, root);
    expect(sut.metrics).toEqual({ recorderPort: 9464, pipelinePort: 0 });
    expect(sut.logFormat).toBe('json');
    expect(loadConfig({ CI: 'true' }, root).logFormat).toBe('json');
    expect(loadConfig({ CI: 'true', REWIND_LOG_FORMAT: 'pretty' }, root).logFormat).toBe('pretty');
  });

  it('names the variable and the bad value of the new variables, and a metrics port that clashes', () => {
    expect(() => loadConfig({ REWIND_RECORDER_METRICS_PORT: '-1', REWIND_LOG_FORMAT: 'xml' }, root)).toThrow(
      /REWIND_LOG_FORMAT must be one of auto, json, pretty \(got "xml"\)[\s\S]*REWIND_RECORDER_METRICS_PORT must be an integer from 0 to 65535 \(got "-1"\)/,
    );
    expect(() => loadConfig({ REWIND_PIPELINE_METRICS_PORT: '8080' }, root)).toThrow(/REWIND_PIPELINE_METRICS_PORT \(8080\) must differ from REWIND_API_PORT/);
  });

  it('reads the per-platform ports; 0 turns a listener off', () => {
    const sut = loadConfig({ REWIND_PROXY_PORT_MOLTSTATION: '9181', REWIND_PROXY_PORT_SPACEMOLT: '0', REWIND_PROXY_PORT_RGS: '0', SIMULATOR_PLATFORM_PORTS: '0' }, root);
    expect(sut.proxyPlatformPorts).toEqual({ moltstation: 9181, spacemolt: 0, cloudplay: 8183, rgs: 0 });
    expect(sut.simulatorPlatformPorts).toBe(false);
  });

  it('names the variable and the bad value of a per-platform port, and every port it clashes with', () => {
    expect(() => loadConfig({ REWIND_PROXY_PORT_SPACEMOLT: '70000' }, root)).toThrow(/REWIND_PROXY_PORT_SPACEMOLT must be an integer from 0 to 65535 \(got "70000"\)/);
    expect(() => loadConfig({ REWIND_PROXY_PORT_RGS: 'eight' }, root)).toThrow(/REWIND_PROXY_PORT_RGS must be an integer from 0 to 65535 \(got "eight"\)/);
    expect(() => loadConfig({ SIMULATOR_PLATFORM_PORTS: 'yes' }, root)).toThrow(/SIMULATOR_PLATFORM_PORTS must be one of 1, 0 \(got "yes"\)/);
    try {
      loadConfig({ REWIND_PROXY_PORT_SPACEMOLT: '8181', REWIND_PROXY_PORT_CLOUDPLAY: '8080', SIMULATOR_PORT: '8179', REWIND_PROXY_PORT_RGS: '0' }, root);
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toEqual([
        'REWIND_PROXY_PORT_SPACEMOLT (8181) must differ from REWIND_PROXY_PORT_MOLTSTATION (8181); 0 turns a per-platform listener off',
        'REWIND_PROXY_PORT_CLOUDPLAY (8080) must differ from REWIND_API_PORT (8080); 0 turns a per-platform listener off',
        "the simulator's spacemolt port SIMULATOR_PORT + 2 (8181) must differ from REWIND_PROXY_PORT_MOLTSTATION (8181); 0 turns a per-platform listener off",
      ]);
    }
    // The simulator's platform ports go past the last port: refused, unless they are off.
    expect(() => loadConfig({ SIMULATOR_PORT: '65533' }, root)).toThrow(/SIMULATOR_PORT \(65533\) must be at most 65531/);
    expect(loadConfig({ SIMULATOR_PORT: '65533', SIMULATOR_PLATFORM_PORTS: '0' }, root).simulatorPort).toBe(65533);
  });

  it('reads the API workers count (1 to 64) and names a bad value', () => {
    expect(loadConfig({ REWIND_API_WORKERS: '2' }, root).apiWorkers).toBe(2);
    expect(() => loadConfig({ REWIND_API_WORKERS: '0' }, root)).toThrow(/REWIND_API_WORKERS must be an integer from 1 to 64 \(got "0"\)/);
  });

  it("reads the replay gateway's per-platform ports (0 turns one off) and names the variable and the bad value", () => {
    expect(loadConfig({ REWIND_REPLAY_PORT_MOLTSTATION: '9191', REWIND_REPLAY_PORT_SPACEMOLT: '0' }, root).replayPorts).toEqual({ moltstation: 9191, spacemolt: 0 });
    expect(() => loadConfig({ REWIND_REPLAY_PORT_MOLTSTATION: '70000' }, root)).toThrow(/REWIND_REPLAY_PORT_MOLTSTATION must be an integer from 0 to 65535 \(got "70000"\)/);
    expect(() => loadConfig({ REWIND_REPLAY_PORT_SPACEMOLT: 'ws' }, root)).toThrow(/REWIND_REPLAY_PORT_SPACEMOLT must be an integer from 0 to 65535 \(got "ws"\)/);
    expect(() => loadConfig({ REWIND_REPLAY_PORT_SPACEMOLT: '8080' }, root)).toThrow(/REWIND_REPLAY_PORT_SPACEMOLT \(8080\) must differ from REWIND_API_PORT/);
    expect(() => loadConfig({ REWIND_REPLAY_PORT_MOLTSTATION: '9000', REWIND_REPLAY_PORT_SPACEMOLT: '9000' }, root)).toThrow(
      /REWIND_REPLAY_PORT_MOLTSTATION and REWIND_REPLAY_PORT_SPACEMOLT must differ \(got 9000\)/,
    );
    expect(loadConfig({ REWIND_REPLAY_PORT_MOLTSTATION: '0', REWIND_REPLAY_PORT_SPACEMOLT: '0' }, root).replayPorts).toEqual({ moltstation: 0, spacemolt: 0 });
  });

  it('treats blank values as unset and ignores variables it does not know', () => {
    expect(loadConfig({ REWIND_API_PORT: '  ', HOME: '/root', PATH: '/bin' }, root).apiPort).toBe(8080);
  });

  it('reports the rules across variables together with the problems of single variables', () => {
    try {
      loadConfig({ REWIND_API_PORT: '4100', REWIND_PIPELINE_ATTEMPTS: 'many' }, root);
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toEqual([
        'REWIND_PIPELINE_ATTEMPTS must be an integer from 1 to 100 (got "many")',
        'REWIND_API_PORT, REWIND_PROXY_PORT and SIMULATOR_PORT must differ (got 4100, 8081, 4100)',
      ]);
    }
  });
});
