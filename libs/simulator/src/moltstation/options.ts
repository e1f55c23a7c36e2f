/** Per-platform knobs of the MoltStation simulator. Defaults follow the reference where it gives values. */
export interface ShellRunnersParams {
  /** Hunger at which a life is lost (docs example 100; the client default is 220). */
  hungerMax: number;
  /** Hunger added every `hungerStepMs` (legacy: +5 every 500 ms). */
  hungerStep: number;
  hungerStepMs: number;
  /** Hunger removed per starfish (legacy −15). */
  hungerPerCollect: number;
  livesMax: number;
  /** Pawn speed in px/ms (legacy 0.42). */
  moveSpeed: number;
  /** Scroll speed in px/ms: start, step every `scrollStepMs`, cap (legacy 0.12, +0.035 / 12 s, 0.75). */
  initScrollSpeed: number;
  scrollStep: number;
  scrollStepMs: number;
  maxScrollSpeed: number;
  /** Post-revive grace (legacy ~2.5 s). */
  ghostMs: number;
  invincibleMs: number;
  speedBoostMs: number;
  speedBoostMult: number;
  scrollSlowMult: number;
  /** A powerup appears every [min, max] ms (legacy 10–20 s). */
  powerupMinMs: number;
  powerupMaxMs: number;
  collectibleScore: number;
}

export interface MoltStationOptions {
  /** Fixed simulation step; hello.tickHz = 1000 / tickMs. */
  tickMs: number;
  /** Play/spectate token lifetime (unknown on the real platform). */
  tokenTtlMs: number;
  /** Time a socket gets to send `{t:"auth"}` before it is closed with INVALID_TOKEN. */
  authTimeoutMs: number;
  /** Spectators per session (unknown on the real platform). */
  spectatorCap: number;
  /** Largest client WebSocket message accepted; larger ones close with 1009 MESSAGE_TOO_LARGE. */
  maxMessageBytes: number;
  /** Largest HTTP request body (413 above). */
  maxBodyBytes: number;
  shellrunners: ShellRunnersParams;
}

export const DEFAULT_SHELLRUNNERS_PARAMS: ShellRunnersParams = {
  hungerMax: 100,
  hungerStep: 5,
  hungerStepMs: 500,
  hungerPerCollect: 15,
  livesMax: 3,
  moveSpeed: 0.42,
  initScrollSpeed: 0.12,
  scrollStep: 0.035,
  scrollStepMs: 12_000,
  maxScrollSpeed: 0.75,
  ghostMs: 2500,
  invincibleMs: 5500,
  speedBoostMs: 5000,
  speedBoostMult: 1.3,
  scrollSlowMult: 0.75,
  powerupMinMs: 10_000,
  powerupMaxMs: 20_000,
  collectibleScore: 100,
};

export const DEFAULT_MOLTSTATION_OPTIONS: MoltStationOptions = {
  tickMs: 50,
  tokenTtlMs: 60_000,
  authTimeoutMs: 10_000,
  spectatorCap: 25,
  maxMessageBytes: 4096,
  maxBodyBytes: 64 * 1024,
  shellrunners: DEFAULT_SHELLRUNNERS_PARAMS,
};

export type MoltStationOptionsPatch = Partial<Omit<MoltStationOptions, 'shellrunners'>> & { shellrunners?: Partial<ShellRunnersParams> };

let current: MoltStationOptions = DEFAULT_MOLTSTATION_OPTIONS;

/**
 * Process-wide options (the host has no per-platform options hook yet). Read when a session starts,
 * a token is issued or a socket connects, so call it before the action it should affect.
 */
export function setMoltStationOptions(patch: MoltStationOptionsPatch): void {
  current = mergeOptions(current, patch);
}

export function resetMoltStationOptions(): void {
  current = DEFAULT_MOLTSTATION_OPTIONS;
}

export function getMoltStationOptions(): MoltStationOptions {
  return current;
}

export function mergeOptions(base: MoltStationOptions, patch: MoltStationOptionsPatch): MoltStationOptions {
  return { ...base, ...patch, shellrunners: { ...base.shellrunners, ...(patch.shellrunners ?? {}) } };
}

/** Keeps only finite numeric ShellRunners params from an untrusted object (start body `simulatorOptions`). */
export function sanitizeShellRunnersPatch(raw: unknown): Partial<ShellRunnersParams> {
  const out: Partial<ShellRunnersParams> = {};
  if (!raw || typeof raw !== 'object') return out;
  for (const key of Object.keys(DEFAULT_SHELLRUNNERS_PARAMS) as (keyof ShellRunnersParams)[]) {
    const v = (raw as Record<string, unknown>)[key];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[key] = v;
  }
  return out;
}
