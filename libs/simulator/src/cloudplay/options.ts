/**
 * Time constants and capacities of the cloud-play simulator. Real defaults follow the Sessions API
 * document (idle timeout 30 minutes, game download up to 60 seconds); tests shrink them with `timeScale`
 * or explicit values through `startSimulator({ platformOptions: { cloudplay: {…} } })` or `cloudplayFactory(options)`.
 */
export interface CloudplayOptions {
  /** Multiplies every duration below (0.001 turns the 30-minute idle timeout into 1.8 s). */
  timeScale: number;
  /** A running session without keepalive for this long is reclaimed (document: default 30 minutes). */
  idleTimeoutMs: number;
  /** Container start once the game is on the server: uniform in [min, max]. */
  containerStartMs: [number, number];
  /** Game download when the selected server has no cached copy: uniform in [min, max] (document: up to 60 s). */
  downloadMs: [number, number];
  /** How long a reclaimed session stays in `stopping` before it is `stopped`. */
  stoppingMs: number;
  /** Game servers in the pool (gs01, gs02, …). */
  servers: number;
  /** Concurrent sessions (starting, running or stopping) one server holds; all full → 503 no_servers. */
  sessionsPerServer: number;
  /** Launch requests per user in a sliding window before 429 rate_limited. */
  launchRateLimit: { max: number; windowMs: number };
  /** Largest accepted request body; larger bodies get 400 invalid_request. */
  maxBodyBytes: number;
  /** Server URL handed out in session-status; `{nn}` is the two-digit server number. */
  serverUrlTemplate: string;
}

export const CLOUDPLAY_DEFAULTS: Readonly<CloudplayOptions> = Object.freeze({
  timeScale: 1,
  idleTimeoutMs: 30 * 60_000,
  containerStartMs: [2_000, 8_000],
  downloadMs: [10_000, 60_000],
  stoppingMs: 3_000,
  servers: 4,
  sessionsPerServer: 8,
  launchRateLimit: { max: 10, windowMs: 60_000 },
  maxBodyBytes: 16 * 1024,
  serverUrlTemplate: 'https://gs{nn}.play.ren.bd',
} as CloudplayOptions);

/** Durations after `timeScale`, in whole milliseconds. */
export interface ScaledTimes {
  idleTimeoutMs: number;
  containerStartMs: [number, number];
  downloadMs: [number, number];
  stoppingMs: number;
  rateWindowMs: number;
}

export function resolveOptions(partial: Partial<CloudplayOptions> = {}): CloudplayOptions {
  const o: CloudplayOptions = {
    ...CLOUDPLAY_DEFAULTS,
    ...partial,
    launchRateLimit: { ...CLOUDPLAY_DEFAULTS.launchRateLimit, ...(partial.launchRateLimit ?? {}) },
  };
  const positive = (name: string, v: number, allowZero = false): void => {
    if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new Error(`cloudplay option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number (got ${v})`);
  };
  const range = (name: string, r: [number, number]): void => {
    if (!Array.isArray(r) || r.length !== 2) throw new Error(`cloudplay option ${name} must be [min, max]`);
    positive(`${name}[0]`, r[0], true);
    positive(`${name}[1]`, r[1], true);
    if (r[0] > r[1]) throw new Error(`cloudplay option ${name}: min ${r[0]} > max ${r[1]}`);
  };
  positive('timeScale', o.timeScale);
  positive('idleTimeoutMs', o.idleTimeoutMs);
  range('containerStartMs', o.containerStartMs);
  range('downloadMs', o.downloadMs);
  positive('stoppingMs', o.stoppingMs, true);
  if (!Number.isInteger(o.servers) || o.servers < 1 || o.servers > 99) throw new Error('cloudplay option servers must be an integer in 1..99');
  if (!Number.isInteger(o.sessionsPerServer) || o.sessionsPerServer < 0) throw new Error('cloudplay option sessionsPerServer must be a non-negative integer');
  if (!Number.isInteger(o.launchRateLimit.max) || o.launchRateLimit.max < 1) throw new Error('cloudplay option launchRateLimit.max must be a positive integer');
  positive('launchRateLimit.windowMs', o.launchRateLimit.windowMs);
  if (!Number.isInteger(o.maxBodyBytes) || o.maxBodyBytes < 64) throw new Error('cloudplay option maxBodyBytes must be an integer >= 64');
  return o;
}

export function scaleTimes(o: CloudplayOptions): ScaledTimes {
  const s = (ms: number): number => Math.max(0, Math.round(ms * o.timeScale));
  return {
    idleTimeoutMs: Math.max(1, s(o.idleTimeoutMs)),
    containerStartMs: [s(o.containerStartMs[0]), s(o.containerStartMs[1])],
    downloadMs: [s(o.downloadMs[0]), s(o.downloadMs[1])],
    stoppingMs: s(o.stoppingMs),
    rateWindowMs: Math.max(1, s(o.launchRateLimit.windowMs)),
  };
}
