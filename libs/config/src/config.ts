import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseApiKeyEntry } from './api-keys';

/**
 * Rewind's configuration, read from the environment once at start-up and validated there.
 * Nothing else in the code base reads `process.env` (house style #4); pass a `RewindConfig` around.
 */
export interface RewindConfig {
  /** Absent: the local Postgres started under `dataDir` is used. */
  databaseUrl: string | undefined;
  /** Absent: the local Redis started under `dataDir` is used. */
  redisUrl: string | undefined;
  apiPort: number;
  proxyPort: number;
  simulatorPort: number;
  /** Where local services, journals and generated credentials live (`.rewind/` in the repository). */
  dataDir: string;
  /** Events per append batch of the ingest path. */
  ingestBatchSize: number;
  logLevel: LogLevel;
  /** Seed of the platform simulator: same seed + same inputs → same frames. */
  simulatorSeed: string;
  /** Faults the simulator starts with (JSON: one spec or a list; see docs/simulator/README.md). */
  simulatorFaults: string | undefined;
  /** Base URL per platform the recording proxy forwards to (default: the simulator's). */
  upstreams: Record<PlatformName, string>;
  /** An ended run stays open this long for late events (e.g. the agent's snapshot call), then it is sealed. */
  sealAfterMs: number;
  /** A run with no traffic for this long ends with reason `idle`. */
  runIdleMs: number;
  /** Spectate every live MoltStation agent_api session from the live list (not only those seen by the proxy). */
  spectateLive: boolean;
  /** Live captures (spectators, pollers) one recorder process runs at most. */
  captureConcurrency: number;
  /** The BullMQ queue of live captures shared by the recorder processes of one installation. */
  captureQueue: string;
  /** The outcome pipeline: where rewards are handed off, and its retry policy. */
  pipeline: {
    /** BullMQ key prefix of the pipeline's queues (one installation, one prefix). */
    queuePrefix: string;
    rewardsUrl: string;
    rewardsApiKey: string | undefined;
    attempts: number;
    backoffMs: number;
    maxBackoffMs: number;
    concurrency: number;
    requestTimeoutMs: number;
  };
  /** API keys (replay gateway, replay tokens); none: a local key is generated in `<dataDir>/api-key`. */
  apiKeys: string[];
  /** Hex of a 32-byte key shared by every recorder process (absent: `<dataDir>/redaction.key`, created once). */
  redactionKeyHex: string | undefined;
}

export const PLATFORM_NAMES = ['moltstation', 'spacemolt', 'cloudplay', 'rgs'] as const;
export type PlatformName = (typeof PLATFORM_NAMES)[number];

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee .env.example for every variable.`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, repoRoot: string = findRepoRoot()): RewindConfig {
  const problems: string[] = [];
  const config: RewindConfig = {
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:'], problems),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:'], problems),
    apiPort: int(env, 'REWIND_API_PORT', 8080, 1, 65535, problems),
    proxyPort: int(env, 'REWIND_PROXY_PORT', 8081, 1, 65535, problems),
    simulatorPort: int(env, 'SIMULATOR_PORT', 4100, 1, 65535, problems),
    dataDir: path.resolve(repoRoot, nonEmpty(env.REWIND_DATA_DIR) ?? '.rewind'),
    ingestBatchSize: int(env, 'REWIND_INGEST_BATCH_SIZE', 2000, 1, 100_000, problems),
    logLevel: oneOf(env, 'REWIND_LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info', problems),
    // A fresh seed per start unless one is given: a deterministic simulator restarted with the same seed hands
    // out the same platform session ids, which real platforms never do (and Rewind keys runs by them).
    simulatorSeed: nonEmpty(env.SIMULATOR_SEED) ?? `rewind-${randomBytes(4).toString('hex')}`,
    simulatorFaults: json(env, 'SIMULATOR_FAULTS', problems),
    upstreams: {} as Record<PlatformName, string>,
    sealAfterMs: int(env, 'REWIND_SEAL_AFTER_MS', 10_000, 0, 86_400_000, problems),
    runIdleMs: int(env, 'REWIND_RUN_IDLE_MS', 1_800_000, 1000, 604_800_000, problems),
    spectateLive: oneOf(env, 'REWIND_SPECTATE_LIVE', ['1', '0'] as const, '1', problems) === '1',
    captureConcurrency: int(env, 'REWIND_CAPTURE_CONCURRENCY', 200, 1, 10_000, problems),
    captureQueue: pattern(env, 'REWIND_CAPTURE_QUEUE', /^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'rewind-capture', 'letters, digits, _ and - (starting with a letter, at most 64)', problems),
    redactionKeyHex: hexKey(env, 'REWIND_REDACTION_KEY', problems),
    apiKeys: apiKeys(env, problems),
    pipeline: {
      queuePrefix: pattern(env, 'REWIND_QUEUE_PREFIX', /^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'rewind', 'letters, digits, _ and - (starting with a letter, at most 64)', problems),
      rewardsUrl: '',
      rewardsApiKey: nonEmpty(env.REWIND_REWARDS_API_KEY),
      attempts: int(env, 'REWIND_PIPELINE_ATTEMPTS', 8, 1, 100, problems),
      backoffMs: int(env, 'REWIND_PIPELINE_BACKOFF_MS', 1000, 1, 3_600_000, problems),
      maxBackoffMs: int(env, 'REWIND_PIPELINE_MAX_BACKOFF_MS', 60_000, 1, 86_400_000, problems),
      concurrency: int(env, 'REWIND_PIPELINE_CONCURRENCY', 8, 1, 1000, problems),
      requestTimeoutMs: int(env, 'REWIND_PIPELINE_TIMEOUT_MS', 10_000, 100, 600_000, problems),
    },
  };
  config.pipeline.rewardsUrl = url(env, 'REWIND_REWARDS_URL', ['http:', 'https:'], problems) ?? `http://127.0.0.1:${config.simulatorPort}/rewards/handoffs`;
  if (config.pipeline.backoffMs > config.pipeline.maxBackoffMs) {
    problems.push(`REWIND_PIPELINE_BACKOFF_MS (${config.pipeline.backoffMs}) must not exceed REWIND_PIPELINE_MAX_BACKOFF_MS (${config.pipeline.maxBackoffMs})`);
  }
  for (const p of PLATFORM_NAMES) {
    const name = `REWIND_UPSTREAM_${p.toUpperCase()}`;
    config.upstreams[p] = url(env, name, ['http:', 'https:'], problems)?.replace(/\/+$/, '') ?? `http://127.0.0.1:${config.simulatorPort}/${p}`;
  }
  const ports = [config.apiPort, config.proxyPort, config.simulatorPort];
  if (new Set(ports).size !== ports.length) {
    problems.push(`REWIND_API_PORT, REWIND_PROXY_PORT and SIMULATOR_PORT must differ (got ${ports.join(', ')})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The repository root: the nearest folder above this file that holds `nx.json`. */
export function findRepoRoot(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'nx.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

function url(env: Env, name: string, protocols: string[], problems: string[]): string | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  try {
    const u = new URL(raw);
    if (!protocols.includes(u.protocol)) {
      problems.push(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')} (got ${u.protocol}//…)`);
    }
  } catch {
    problems.push(`${name} is not a valid URL`);
  }
  return raw;
}

function pattern(env: Env, name: string, re: RegExp, fallback: string, rule: string, problems: string[]): string {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  if (!re.test(raw)) problems.push(`${name} must be ${rule} (got "${raw}")`);
  return raw;
}

function apiKeys(env: Env, problems: string[]): string[] {
  const raw = nonEmpty(env.REWIND_API_KEYS);
  if (raw === undefined) return [];
  const keys = raw.split(',').map((k) => k.trim()).filter((k) => k !== '');
  if (keys.some((k) => parseApiKeyEntry(k).key.length < 16 || /\s/.test(k))) {
    problems.push('REWIND_API_KEYS must be a comma-separated list of keys of at least 16 characters each, each optionally followed by :<scopes> (read, replay, admin joined by +); the values are not shown');
  }
  return keys;
}

function hexKey(env: Env, name: string, problems: string[]): string | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  if (!/^[0-9a-fA-F]{64,}$/.test(raw) || raw.length % 2 !== 0) {
    problems.push(`${name} must be at least 64 hex characters (32 bytes); the value is not shown`);
  }
  return raw;
}

function json(env: Env, name: string, problems: string[]): string | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  try {
    JSON.parse(raw);
  } catch (e) {
    problems.push(`${name} is not valid JSON (${(e as Error).message})`);
  }
  return raw;
}

function int(env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
    return fallback;
  }
  return n;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T, problems: string[]): T {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    problems.push(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
    return fallback;
  }
  return raw as T;
}
