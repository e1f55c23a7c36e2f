import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
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
  /** The recorder's ingest: the least time between two append batches under steady load (a batch waits for company). */
  ingestFlushMs: number;
  logLevel: LogLevel;
  /** `json` (one object a line), `pretty` (coloured lines for a terminal) or `auto` (pretty on a TTY); CI set: `json`. */
  logFormat: LogFormat;
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
  /**
   * Graceful overload: the recorder refuses new captures (503 + Retry-After; new capture tasks wait in their queue)
   * while one signal is over its threshold, and reopens once every signal has stayed under `reopenPercent` % of its
   * threshold for `reopenAfterMs`. See docs/reliability.md "Graceful overload".
   */
  admission: {
    enabled: boolean;
    /** The Ingest's lag (age of the oldest event not yet in Postgres; not counted while Postgres is away and the journal takes the events). */
    maxLagMs: number;
    /** The event loop's median delay over a 0.5 s window. */
    maxLoopDelayMs: number;
    /** A signal must stay over its threshold this long before admission closes (a pause is not an overload). */
    closeAfterMs: number;
    /** Events buffered in memory, in % of the Ingest's bound (50,000). */
    maxBufferedPercent: number;
    reopenPercent: number;
    reopenAfterMs: number;
  };
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
  /**
   * Browser origins (`scheme://host[:port]`) allowed to call the replay base's spectate-token endpoints across
   * origins (CORS, preflight answered); none: no CORS headers at all.
   */
  corsOrigins: string[];
  /** Prometheus `/metrics` ports of the processes without an HTTP server (0: not served). The API serves its own. */
  metrics: { recorderPort: number; pipelinePort: number };
  /** Hex of a 32-byte key shared by every recorder process (absent: `<dataDir>/redaction.key`, created once). */
  redactionKeyHex: string | undefined;
  /**
   * The recording proxy's port per platform, serving that platform's own paths at the root (`/ws/{slug}/play`,
   * `/api/v2/…`) for clients that build URLs with absolute paths; 0: no such listener.
   */
  proxyPlatformPorts: Record<PlatformName, number>;
  /** The simulator also serves each platform at the root of SIMULATOR_PORT + 1 … + 4 (moltstation, spacemolt, cloudplay, rgs). */
  simulatorPlatformPorts: boolean;
  /**
   * The replay gateway's per-platform ports (0: off): each serves its platform's own paths at the root, for clients
   * that build their URLs from a bare origin (MoltStation's spectate-token endpoints and `/ws/{slug}/spectate`;
   * SpaceMolt's `/ws`). The prefixed form `/replay/<platform>/…` on the API's port stays.
   */
  replayPorts: { moltstation: number; spacemolt: number };
  /**
   * Processes of the stand-alone API (apps/api): 1 runs it in its own process; more forks that many workers (node
   * `cluster`) that share the API's port and the replay ports, so the replay gateway's streams spread over the
   * cores. `rewind up` (the recorder and the pipeline in the same process) always runs one.
   */
  apiWorkers: number;
}

export const PLATFORM_NAMES = ['moltstation', 'spacemolt', 'cloudplay', 'rgs'] as const;
export type PlatformName = (typeof PLATFORM_NAMES)[number];

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'auto' | 'json' | 'pretty';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee .env.example for every variable.`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** A BullMQ queue name or key prefix: letters, digits, _ and - (starting with a letter, at most 64). */
const QUEUE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const QUEUE_NAME_RULE = 'letters, digits, _ and - (starting with a letter, at most 64)';

/**
 * The environment's schema (zod): one entry per variable. Each entry reads the raw string, reports a problem
 * that names the variable and the bad value (never a value that may be a secret or hold a password) and
 * yields the default when the variable is unset or bad, so that every problem is reported in one go.
 */
const envSchema = z
  .object({
    DATABASE_URL: urlVar('DATABASE_URL', ['postgres:', 'postgresql:']),
    REDIS_URL: urlVar('REDIS_URL', ['redis:', 'rediss:']),
    REWIND_API_PORT: intVar('REWIND_API_PORT', 8080, 1, 65535),
    REWIND_API_WORKERS: intVar('REWIND_API_WORKERS', 1, 1, 64),
    REWIND_PROXY_PORT: intVar('REWIND_PROXY_PORT', 8081, 1, 65535),
    SIMULATOR_PORT: intVar('SIMULATOR_PORT', 4100, 1, 65535),
    REWIND_DATA_DIR: optionalVar(),
    REWIND_INGEST_BATCH_SIZE: intVar('REWIND_INGEST_BATCH_SIZE', 2000, 1, 100_000),
    REWIND_INGEST_FLUSH_MS: intVar('REWIND_INGEST_FLUSH_MS', 100, 0, 10_000),
    REWIND_LOG_LEVEL: oneOfVar('REWIND_LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    REWIND_LOG_FORMAT: oneOfVar('REWIND_LOG_FORMAT', ['auto', 'json', 'pretty'] as const, 'auto'),
    CI: optionalVar(),
    SIMULATOR_SEED: optionalVar(),
    SIMULATOR_FAULTS: jsonVar('SIMULATOR_FAULTS'),
    REWIND_SEAL_AFTER_MS: intVar('REWIND_SEAL_AFTER_MS', 10_000, 0, 86_400_000),
    REWIND_RUN_IDLE_MS: intVar('REWIND_RUN_IDLE_MS', 1_800_000, 1000, 604_800_000),
    REWIND_SPECTATE_LIVE: oneOfVar('REWIND_SPECTATE_LIVE', ['1', '0'] as const, '1'),
    REWIND_CAPTURE_CONCURRENCY: intVar('REWIND_CAPTURE_CONCURRENCY', 200, 1, 10_000),
    REWIND_CAPTURE_QUEUE: patternVar('REWIND_CAPTURE_QUEUE', QUEUE_NAME, 'rewind-capture', QUEUE_NAME_RULE),
    REWIND_ADMISSION: oneOfVar('REWIND_ADMISSION', ['1', '0'] as const, '1'),
    REWIND_ADMISSION_MAX_LAG_MS: intVar('REWIND_ADMISSION_MAX_LAG_MS', 10_000, 100, 3_600_000),
    REWIND_ADMISSION_MAX_LOOP_DELAY_MS: intVar('REWIND_ADMISSION_MAX_LOOP_DELAY_MS', 1000, 10, 600_000),
    REWIND_ADMISSION_MAX_BUFFERED_PERCENT: intVar('REWIND_ADMISSION_MAX_BUFFERED_PERCENT', 80, 1, 100),
    REWIND_ADMISSION_CLOSE_AFTER_MS: intVar('REWIND_ADMISSION_CLOSE_AFTER_MS', 2000, 0, 3_600_000),
    REWIND_ADMISSION_REOPEN_PERCENT: intVar('REWIND_ADMISSION_REOPEN_PERCENT', 50, 1, 100),
    REWIND_ADMISSION_REOPEN_AFTER_MS: intVar('REWIND_ADMISSION_REOPEN_AFTER_MS', 5000, 0, 3_600_000),
    REWIND_REDACTION_KEY: hexKeyVar('REWIND_REDACTION_KEY'),
    REWIND_API_KEYS: apiKeysVar('REWIND_API_KEYS'),
    REWIND_CORS_ORIGINS: originsVar('REWIND_CORS_ORIGINS'),
    REWIND_QUEUE_PREFIX: patternVar('REWIND_QUEUE_PREFIX', QUEUE_NAME, 'rewind', QUEUE_NAME_RULE),
    REWIND_REWARDS_API_KEY: optionalVar(),
    REWIND_PIPELINE_ATTEMPTS: intVar('REWIND_PIPELINE_ATTEMPTS', 8, 1, 100),
    REWIND_PIPELINE_BACKOFF_MS: intVar('REWIND_PIPELINE_BACKOFF_MS', 1000, 1, 3_600_000),
    REWIND_PIPELINE_MAX_BACKOFF_MS: intVar('REWIND_PIPELINE_MAX_BACKOFF_MS', 60_000, 1, 86_400_000),
    REWIND_PIPELINE_CONCURRENCY: intVar('REWIND_PIPELINE_CONCURRENCY', 8, 1, 1000),
    REWIND_PIPELINE_TIMEOUT_MS: intVar('REWIND_PIPELINE_TIMEOUT_MS', 10_000, 100, 600_000),
    REWIND_REWARDS_URL: urlVar('REWIND_REWARDS_URL', ['http:', 'https:']),
    REWIND_UPSTREAM_MOLTSTATION: urlVar('REWIND_UPSTREAM_MOLTSTATION', ['http:', 'https:']),
    REWIND_UPSTREAM_SPACEMOLT: urlVar('REWIND_UPSTREAM_SPACEMOLT', ['http:', 'https:']),
    REWIND_UPSTREAM_CLOUDPLAY: urlVar('REWIND_UPSTREAM_CLOUDPLAY', ['http:', 'https:']),
    REWIND_UPSTREAM_RGS: urlVar('REWIND_UPSTREAM_RGS', ['http:', 'https:']),
    REWIND_RECORDER_METRICS_PORT: intVar('REWIND_RECORDER_METRICS_PORT', 0, 0, 65535),
    REWIND_PIPELINE_METRICS_PORT: intVar('REWIND_PIPELINE_METRICS_PORT', 0, 0, 65535),
    // Root paths on a port per platform (recording proxy, simulator); 0 / off: no such listener.
    REWIND_PROXY_PORT_MOLTSTATION: intVar('REWIND_PROXY_PORT_MOLTSTATION', 8181, 0, 65535),
    REWIND_PROXY_PORT_SPACEMOLT: intVar('REWIND_PROXY_PORT_SPACEMOLT', 8182, 0, 65535),
    REWIND_PROXY_PORT_CLOUDPLAY: intVar('REWIND_PROXY_PORT_CLOUDPLAY', 8183, 0, 65535),
    REWIND_PROXY_PORT_RGS: intVar('REWIND_PROXY_PORT_RGS', 8184, 0, 65535),
    SIMULATOR_PLATFORM_PORTS: oneOfVar('SIMULATOR_PLATFORM_PORTS', ['1', '0'] as const, '1'),
    // The replay gateway's per-platform ports (0: off).
    REWIND_REPLAY_PORT_MOLTSTATION: intVar('REWIND_REPLAY_PORT_MOLTSTATION', 8191, 0, 65535),
    REWIND_REPLAY_PORT_SPACEMOLT: intVar('REWIND_REPLAY_PORT_SPACEMOLT', 8192, 0, 65535),
  })
  // Rules across variables; they run even when a variable above was refused (`when`), so one start-up names
  // every problem.
  .superRefine(
    (e, ctx) => {
      if (e.REWIND_PIPELINE_BACKOFF_MS > e.REWIND_PIPELINE_MAX_BACKOFF_MS) {
        ctx.addIssue({ code: 'custom', message: `REWIND_PIPELINE_BACKOFF_MS (${e.REWIND_PIPELINE_BACKOFF_MS}) must not exceed REWIND_PIPELINE_MAX_BACKOFF_MS (${e.REWIND_PIPELINE_MAX_BACKOFF_MS})` });
      }
      const ports = [e.REWIND_API_PORT, e.REWIND_PROXY_PORT, e.SIMULATOR_PORT];
      if (new Set(ports).size !== ports.length) ctx.addIssue({ code: 'custom', message: `REWIND_API_PORT, REWIND_PROXY_PORT and SIMULATOR_PORT must differ (got ${ports.join(', ')})` });
      for (const name of ['REWIND_RECORDER_METRICS_PORT', 'REWIND_PIPELINE_METRICS_PORT'] as const) {
        if (e[name] !== 0 && ports.includes(e[name])) ctx.addIssue({ code: 'custom', message: `${name} (${e[name]}) must differ from REWIND_API_PORT, REWIND_PROXY_PORT and SIMULATOR_PORT` });
      }
      if (e.REWIND_RECORDER_METRICS_PORT !== 0 && e.REWIND_RECORDER_METRICS_PORT === e.REWIND_PIPELINE_METRICS_PORT) {
        ctx.addIssue({ code: 'custom', message: `REWIND_RECORDER_METRICS_PORT and REWIND_PIPELINE_METRICS_PORT must differ (got ${e.REWIND_RECORDER_METRICS_PORT})` });
      }
      platformPortIssues(e).forEach((message) => ctx.addIssue({ code: 'custom', message }));
    },
    { when: () => true },
  )
  // The replay gateway's per-platform ports: distinct from each other and from the services' ports (0, off, clashes with nothing).
  .superRefine(
    (e, ctx) => {
      const services = [e.REWIND_API_PORT, e.REWIND_PROXY_PORT, e.SIMULATOR_PORT];
      const names = ['REWIND_REPLAY_PORT_MOLTSTATION', 'REWIND_REPLAY_PORT_SPACEMOLT'] as const;
      for (const name of names) {
        if (e[name] !== 0 && services.includes(e[name])) ctx.addIssue({ code: 'custom', message: `${name} (${e[name]}) must differ from REWIND_API_PORT, REWIND_PROXY_PORT and SIMULATOR_PORT` });
      }
      if (e.REWIND_REPLAY_PORT_MOLTSTATION !== 0 && e.REWIND_REPLAY_PORT_MOLTSTATION === e.REWIND_REPLAY_PORT_SPACEMOLT) {
        ctx.addIssue({ code: 'custom', message: `REWIND_REPLAY_PORT_MOLTSTATION and REWIND_REPLAY_PORT_SPACEMOLT must differ (got ${e.REWIND_REPLAY_PORT_MOLTSTATION})` });
      }
    },
    { when: () => true },
  );

/** The variables `loadConfig` reads (the schema's keys): what `.env.example` documents. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export function loadConfig(env: Env = process.env, repoRoot: string = findRepoRoot()): RewindConfig {
  // Only the schema's variables are handed to zod: the rest of the environment is none of its business.
  const input: Record<string, string | undefined> = {};
  for (const name of CONFIG_VARIABLES) input[name] = env[name];
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => i.message));
  const e = parsed.data;
  const simulatorPort = e.SIMULATOR_PORT;
  const upstreams = {} as Record<PlatformName, string>;
  for (const p of PLATFORM_NAMES) {
    const upstream = e[`REWIND_UPSTREAM_${p.toUpperCase()}` as `REWIND_UPSTREAM_${Uppercase<PlatformName>}`];
    upstreams[p] = upstream?.replace(/\/+$/, '') ?? `http://127.0.0.1:${simulatorPort}/${p}`;
  }
  return {
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    apiPort: e.REWIND_API_PORT,
    apiWorkers: e.REWIND_API_WORKERS,
    proxyPort: e.REWIND_PROXY_PORT,
    simulatorPort,
    dataDir: path.resolve(repoRoot, e.REWIND_DATA_DIR ?? '.rewind'),
    ingestBatchSize: e.REWIND_INGEST_BATCH_SIZE,
    ingestFlushMs: e.REWIND_INGEST_FLUSH_MS,
    logLevel: e.REWIND_LOG_LEVEL,
    // Pretty lines are for a person at a terminal; CI and log collectors get JSON whatever the terminal.
    logFormat: e.REWIND_LOG_FORMAT === 'auto' && e.CI !== undefined && e.CI !== '0' && e.CI !== 'false' ? 'json' : e.REWIND_LOG_FORMAT,
    // A fresh seed per start unless one is given: a deterministic simulator restarted with the same seed hands
    // out the same platform session ids, which real platforms never do (and Rewind keys runs by them).
    simulatorSeed: e.SIMULATOR_SEED ?? `rewind-${randomBytes(4).toString('hex')}`,
    simulatorFaults: e.SIMULATOR_FAULTS,
    upstreams,
    sealAfterMs: e.REWIND_SEAL_AFTER_MS,
    runIdleMs: e.REWIND_RUN_IDLE_MS,
    spectateLive: e.REWIND_SPECTATE_LIVE === '1',
    captureConcurrency: e.REWIND_CAPTURE_CONCURRENCY,
    captureQueue: e.REWIND_CAPTURE_QUEUE,
    admission: {
      enabled: e.REWIND_ADMISSION === '1',
      maxLagMs: e.REWIND_ADMISSION_MAX_LAG_MS,
      maxLoopDelayMs: e.REWIND_ADMISSION_MAX_LOOP_DELAY_MS,
      maxBufferedPercent: e.REWIND_ADMISSION_MAX_BUFFERED_PERCENT,
      closeAfterMs: e.REWIND_ADMISSION_CLOSE_AFTER_MS,
      reopenPercent: e.REWIND_ADMISSION_REOPEN_PERCENT,
      reopenAfterMs: e.REWIND_ADMISSION_REOPEN_AFTER_MS,
    },
    redactionKeyHex: e.REWIND_REDACTION_KEY,
    replayPorts: { moltstation: e.REWIND_REPLAY_PORT_MOLTSTATION, spacemolt: e.REWIND_REPLAY_PORT_SPACEMOLT },
    apiKeys: e.REWIND_API_KEYS,
    corsOrigins: e.REWIND_CORS_ORIGINS,
    metrics: { recorderPort: e.REWIND_RECORDER_METRICS_PORT, pipelinePort: e.REWIND_PIPELINE_METRICS_PORT },
    proxyPlatformPorts: {
      moltstation: e.REWIND_PROXY_PORT_MOLTSTATION,
      spacemolt: e.REWIND_PROXY_PORT_SPACEMOLT,
      cloudplay: e.REWIND_PROXY_PORT_CLOUDPLAY,
      rgs: e.REWIND_PROXY_PORT_RGS,
    },
    simulatorPlatformPorts: e.SIMULATOR_PLATFORM_PORTS === '1',
    pipeline: {
      queuePrefix: e.REWIND_QUEUE_PREFIX,
      rewardsUrl: e.REWIND_REWARDS_URL ?? `http://127.0.0.1:${simulatorPort}/rewards/handoffs`,
      rewardsApiKey: e.REWIND_REWARDS_API_KEY,
      attempts: e.REWIND_PIPELINE_ATTEMPTS,
      backoffMs: e.REWIND_PIPELINE_BACKOFF_MS,
      maxBackoffMs: e.REWIND_PIPELINE_MAX_BACKOFF_MS,
      concurrency: e.REWIND_PIPELINE_CONCURRENCY,
      requestTimeoutMs: e.REWIND_PIPELINE_TIMEOUT_MS,
    },
  };
}

/** The repository root: the nearest folder above this file that holds `nx.json`. */
/**
 * The per-platform ports (the proxy's REWIND_PROXY_PORT_<PLATFORM>, the simulator's SIMULATOR_PORT + 1 … + 4)
 * against every other configured port: one message per clash, naming both variables and the port.
 */
function platformPortIssues(e: {
  REWIND_API_PORT: number;
  REWIND_PROXY_PORT: number;
  SIMULATOR_PORT: number;
  REWIND_RECORDER_METRICS_PORT: number;
  REWIND_PIPELINE_METRICS_PORT: number;
  REWIND_PROXY_PORT_MOLTSTATION: number;
  REWIND_PROXY_PORT_SPACEMOLT: number;
  REWIND_PROXY_PORT_CLOUDPLAY: number;
  REWIND_PROXY_PORT_RGS: number;
  SIMULATOR_PLATFORM_PORTS: '1' | '0';
}): string[] {
  const issues: string[] = [];
  const others: [string, number][] = [
    ['REWIND_API_PORT', e.REWIND_API_PORT],
    ['REWIND_PROXY_PORT', e.REWIND_PROXY_PORT],
    ['SIMULATOR_PORT', e.SIMULATOR_PORT],
    ['REWIND_RECORDER_METRICS_PORT', e.REWIND_RECORDER_METRICS_PORT],
    ['REWIND_PIPELINE_METRICS_PORT', e.REWIND_PIPELINE_METRICS_PORT],
  ];
  const own: [string, number][] = PLATFORM_NAMES.map((p) => [`REWIND_PROXY_PORT_${p.toUpperCase()}`, e[`REWIND_PROXY_PORT_${p.toUpperCase()}` as `REWIND_PROXY_PORT_${Uppercase<PlatformName>}`]]);
  if (e.SIMULATOR_PLATFORM_PORTS === '1') {
    if (e.SIMULATOR_PORT + PLATFORM_NAMES.length > 65535) {
      issues.push(
        `SIMULATOR_PORT (${e.SIMULATOR_PORT}) must be at most ${65535 - PLATFORM_NAMES.length}: the simulator serves each platform on SIMULATOR_PORT + 1 … + ${PLATFORM_NAMES.length} (or set SIMULATOR_PLATFORM_PORTS=0)`,
      );
    } else own.push(...PLATFORM_NAMES.map((p, i): [string, number] => [`the simulator's ${p} port SIMULATOR_PORT + ${i + 1}`, e.SIMULATOR_PORT + i + 1]));
  }
  const seen = others.filter(([, port]) => port !== 0);
  for (const [name, port] of own) {
    if (port === 0) continue;
    const clash = seen.find(([, p]) => p === port);
    if (clash) issues.push(`${name} (${port}) must differ from ${clash[0]} (${clash[1]}); 0 turns a per-platform listener off`);
    seen.push([name, port]);
  }
  return issues;
}

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

/** A variable's raw value, trimmed; empty counts as unset. */
function optionalVar() {
  return z.string().optional().transform(nonEmpty);
}

/** A URL of one of `protocols`; the problem names the protocol only (the URL may carry a password). */
function urlVar(name: string, protocols: string[]) {
  return optionalVar().superRefine((v, ctx) => {
    if (v === undefined) return;
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) ctx.addIssue({ code: 'custom', message: `${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')} (got ${u.protocol}//…)` });
    } catch {
      ctx.addIssue({ code: 'custom', message: `${name} is not a valid URL` });
    }
  });
}

function patternVar(name: string, re: RegExp, fallback: string, rule: string) {
  return optionalVar().transform((v, ctx) => {
    if (v === undefined) return fallback;
    if (!re.test(v)) ctx.addIssue({ code: 'custom', message: `${name} must be ${rule} (got "${v}")` });
    return v;
  });
}

function apiKeysVar(name: string) {
  return optionalVar().transform((v, ctx): string[] => {
    if (v === undefined) return [];
    const keys = v
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '');
    if (keys.some((k) => parseApiKeyEntry(k).key.length < 16 || /\s/.test(k))) {
      ctx.addIssue({
        code: 'custom',
        message: `${name} must be a comma-separated list of keys of at least 16 characters each, each optionally followed by :<scopes> (read, replay, admin joined by +); the values are not shown`,
      });
    }
    return keys;
  });
}

/**
 * A comma-separated list of browser origins, each exactly `scheme://host[:port]` (http or https, no path, no
 * trailing slash, no credentials): what a browser sends in `Origin`, so that the comparison is exact.
 */
function originsVar(name: string) {
  return optionalVar().transform((v, ctx): string[] => {
    if (v === undefined) return [];
    const origins = v
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== '');
    for (const o of origins) {
      let origin: string | null = null;
      let credentials = false;
      try {
        const u = new URL(o);
        credentials = u.username !== '' || u.password !== '';
        if (u.protocol === 'http:' || u.protocol === 'https:') origin = u.origin;
      } catch {
        origin = null;
      }
      if (origin !== o) {
        // A value with credentials in it is not echoed (it may hold a password).
        const got = credentials ? 'an origin with credentials, not shown' : `"${o.slice(0, 100)}"`;
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be a comma-separated list of origins scheme://host[:port] (http or https, lower case, no path or trailing slash), e.g. https://example.com,http://localhost:3000 (got ${got})`,
        });
      }
    }
    return [...new Set(origins)];
  });
}

function hexKeyVar(name: string) {
  return optionalVar().superRefine((v, ctx) => {
    if (v !== undefined && (!/^[0-9a-fA-F]{64,}$/.test(v) || v.length % 2 !== 0)) {
      ctx.addIssue({ code: 'custom', message: `${name} must be at least 64 hex characters (32 bytes); the value is not shown` });
    }
  });
}

function jsonVar(name: string) {
  return optionalVar().superRefine((v, ctx) => {
    if (v === undefined) return;
    try {
      JSON.parse(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `${name} is not valid JSON (${(e as Error).message})` });
    }
  });
}

function intVar(name: string, fallback: number, min: number, max: number) {
  return optionalVar().transform((v, ctx): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `${name} must be an integer from ${min} to ${max} (got "${v}")` });
      return fallback;
    }
    return n;
  });
}

function oneOfVar<T extends string>(name: string, allowed: readonly T[], fallback: T) {
  return optionalVar().transform((v, ctx): T => {
    if (v === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(v)) {
      ctx.addIssue({ code: 'custom', message: `${name} must be one of ${allowed.join(', ')} (got "${v}")` });
      return fallback;
    }
    return v as T;
  });
}
