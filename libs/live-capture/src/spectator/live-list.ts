/**
 * MoltStation live-session discovery: `GET /api/games/{slug}/sessions/live` (public; only `agent_api`
 * sessions that have not ended, including `created` ones that have not ticked yet) and the public session
 * detail `GET /api/games/{slug}/sessions/{id}`.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { httpExchange, joinUrl } from './http';

export interface LiveMoltStationSession {
  sessionId: string;
  slug: string;
  /** `agent_api` on the live list (absent if the platform omits it). */
  source?: string;
  /** `created` (not ticking yet) or `live`. */
  status: string;
  phase: string | null;
  tick: number | null;
  score?: unknown;
  walletAddress?: string;
  spectators?: { current: number; max: number };
  createdAt?: string;
  startedAt?: string | null;
  tickHz?: number;
  /** The entry as the platform sent it. */
  raw: Record<string, unknown>;
}

/** The live list or session detail could not be read: `status` is the HTTP status (0 = no answer / unparsable). */
export class MoltStationApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'MoltStationApiError';
  }
}

function encode(part: string): string {
  return encodeURIComponent(part);
}

function parseSessionEntry(e: unknown, where: string): LiveMoltStationSession {
  if (!e || typeof e !== 'object' || Array.isArray(e)) throw new MoltStationApiError(`${where} is not an object`, 200);
  const o = e as Record<string, unknown>;
  if (typeof o.sessionId !== 'string' || o.sessionId === '') throw new MoltStationApiError(`${where}.sessionId is not a non-empty string`, 200);
  if (typeof o.status !== 'string') throw new MoltStationApiError(`${where}.status is not a string`, 200);
  if (typeof o.slug !== 'string') throw new MoltStationApiError(`${where}.slug is not a string`, 200);
  const spectators = o.spectators as { current?: unknown; max?: unknown } | undefined;
  return {
    sessionId: o.sessionId,
    slug: o.slug,
    source: typeof o.source === 'string' ? o.source : undefined,
    status: o.status,
    phase: typeof o.phase === 'string' ? o.phase : null,
    tick: typeof o.tick === 'number' ? o.tick : null,
    score: o.score,
    walletAddress: typeof o.walletAddress === 'string' ? o.walletAddress : undefined,
    spectators: spectators && typeof spectators.current === 'number' && typeof spectators.max === 'number' ? { current: spectators.current, max: spectators.max } : undefined,
    createdAt: typeof o.createdAt === 'string' ? o.createdAt : undefined,
    startedAt: typeof o.startedAt === 'string' || o.startedAt === null ? (o.startedAt as string | null) : undefined,
    tickHz: typeof o.tickHz === 'number' ? o.tickHz : undefined,
    raw: o,
  };
}

/** Parses a live-list body (`{sessions:[…]}`); throws MoltStationApiError on anything malformed. Pure. */
export function parseLiveList(body: string): LiveMoltStationSession[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new MoltStationApiError(`live list is not JSON: ${JSON.stringify(body.slice(0, 80))}`, 200);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new MoltStationApiError('live list is not a JSON object', 200);
  const sessions = (parsed as { sessions?: unknown }).sessions;
  if (!Array.isArray(sessions)) throw new MoltStationApiError('live list has no "sessions" array', 200);
  return sessions.map((e, i) => parseSessionEntry(e, `sessions[${i}]`));
}

function errorCode(body: string): string | undefined {
  try {
    const j = JSON.parse(body) as { code?: unknown };
    return typeof j?.code === 'string' ? j.code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The live list of one game. Throws MoltStationApiError for a non-200 answer (with the platform's error code
 * when it sent one) or a malformed body; network errors are rethrown as they are.
 */
export async function listLiveMoltStationSessions(
  baseUrl: string,
  slug: string,
  opts: { signal?: AbortSignal; timeoutMs?: number; /** A keep-alive agent of the base URL's protocol (see `httpExchange`). */ agent?: http.Agent } = {},
): Promise<LiveMoltStationSession[]> {
  const path = `/api/games/${encode(slug)}/sessions/live`;
  const res = await httpExchange({ method: 'GET', url: joinUrl(baseUrl, path), signal: opts.signal, timeoutMs: opts.timeoutMs ?? 5000, ...(opts.agent ? { agent: opts.agent } : {}) });
  const text = res.body.toString('utf8');
  if (res.status !== 200) {
    const code = errorCode(text);
    throw new MoltStationApiError(`GET ${path} → HTTP ${res.status}${code ? ` ${code}` : ''}`, res.status, code);
  }
  if (res.truncated) throw new MoltStationApiError(`GET ${path}: body too large`, res.status);
  return parseLiveList(text);
}

export type SessionDetail =
  | { found: true; status: string; phase: string | null; tick: number | null; gameOverReason: string | null; spectators?: { current: number; max: number }; raw: Record<string, unknown> }
  | { found: false };

/** Public session detail; `{found:false}` on 404. Throws MoltStationApiError on other statuses / malformed bodies. */
export async function getMoltStationSessionDetail(baseUrl: string, slug: string, sessionId: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<SessionDetail> {
  const path = `/api/games/${encode(slug)}/sessions/${encode(sessionId)}`;
  const res = await httpExchange({ method: 'GET', url: joinUrl(baseUrl, path), signal: opts.signal, timeoutMs: opts.timeoutMs ?? 5000 });
  const text = res.body.toString('utf8');
  if (res.status === 404) return { found: false };
  if (res.status !== 200) {
    const code = errorCode(text);
    throw new MoltStationApiError(`GET session detail → HTTP ${res.status}${code ? ` ${code}` : ''}`, res.status, code);
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new MoltStationApiError('session detail is not JSON', 200);
  }
  if (!j || typeof j !== 'object' || typeof (j as { status?: unknown }).status !== 'string') throw new MoltStationApiError('session detail has no status', 200);
  const o = j as Record<string, unknown>;
  const sp = o.spectators as { current?: unknown; max?: unknown } | undefined;
  return {
    found: true,
    status: o.status as string,
    phase: typeof o.phase === 'string' ? o.phase : null,
    tick: typeof o.tick === 'number' ? o.tick : null,
    gameOverReason: typeof o.gameOverReason === 'string' ? o.gameOverReason : null,
    spectators: sp && typeof sp.current === 'number' && typeof sp.max === 'number' ? { current: sp.current, max: sp.max } : undefined,
    raw: o,
  };
}

export type DiscoveryLogger = { info(m: string): void; warn(m: string): void; error(m: string): void } | ((line: string) => void);

export interface MoltStationDiscoveryOptions {
  baseUrl: string;
  slugs: string[];
  /** Delay between the end of one poll round and the start of the next. Default 250 ms (see docs: attach before the first tick). */
  intervalMs?: number;
  /** Called once per newly seen live session (not again while it stays on the list). */
  onLive: (session: LiveMoltStationSession) => void;
  log?: DiscoveryLogger;
  /** Per-request timeout. Default 5000 ms. */
  timeoutMs?: number;
}

export interface DiscoveryStats {
  /** Completed poll rounds (all slugs). */
  rounds: number;
  /** Failed list requests (one per slug per round). */
  errors: number;
  /** onLive calls. */
  reported: number;
}

export const DEFAULT_DISCOVERY_INTERVAL_MS = 250;

/**
 * Polls the live lists of the given games and reports each newly seen `agent_api` session once. A session is
 * forgotten when it leaves a successfully read list (it ended), so an id is never reported twice while live.
 * A failed poll (network, non-200, malformed body) is logged and changes nothing; polling goes on.
 */
export class MoltStationDiscovery {
  private readonly known = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private running = false;
  private current: Promise<void> | undefined;
  private readonly failing = new Map<string, number>();
  /**
   * The live lists are read on kept connections (one per game at most), not one connection per read: a recorder read
   * two lists every 250–500 ms, and opening and closing their connections was most of the discovery's CPU (issue 18,
   * fixed costs). Idle connections are closed after 2 s (before a server's usual 5 s keep-alive timeout).
   */
  private readonly agent: http.Agent;
  readonly stats: DiscoveryStats = { rounds: 0, errors: 0, reported: 0 };

  constructor(private readonly opts: MoltStationDiscoveryOptions) {
    for (const slug of opts.slugs) this.known.set(slug, new Set());
    const agentOptions: http.AgentOptions = { keepAlive: true, maxSockets: Math.max(1, opts.slugs.length), timeout: 2000 };
    this.agent = opts.baseUrl.startsWith('https:') ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  get intervalMs(): number {
    return this.opts.intervalMs ?? DEFAULT_DISCOVERY_INTERVAL_MS;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.schedule(0);
  }

  /** Stops polling: clears the timer and aborts requests in flight. Resolves when the round in flight is done. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    await this.current;
    this.agent.destroy();
  }

  /** Session ids currently known live, per slug. */
  knownSessions(slug: string): string[] {
    return [...(this.known.get(slug) ?? [])];
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.current = this.round().finally(() => {
        this.current = undefined;
        this.schedule(this.intervalMs);
      });
    }, ms);
  }

  private async round(): Promise<void> {
    const signal = this.abort?.signal;
    await Promise.all(this.opts.slugs.map((slug) => this.pollSlug(slug, signal)));
    if (this.running) this.stats.rounds++;
  }

  private async pollSlug(slug: string, signal: AbortSignal | undefined): Promise<void> {
    let list: LiveMoltStationSession[];
    try {
      list = await listLiveMoltStationSessions(this.opts.baseUrl, slug, { signal, timeoutMs: this.opts.timeoutMs, agent: this.agent });
    } catch (e) {
      if (!this.running) return;
      this.stats.errors++;
      const n = (this.failing.get(slug) ?? 0) + 1;
      this.failing.set(slug, n);
      // First failure and then every 20th: a platform outage must not flood the log at 4 polls/s.
      if (n === 1 || n % 20 === 0) this.logLine('warn', `discovery: live list of ${slug} failed (${n}x): ${(e as Error).message}`);
      return;
    }
    if (!this.running) return;
    const failed = this.failing.get(slug);
    if (failed) {
      this.failing.delete(slug);
      this.logLine('info', `discovery: live list of ${slug} back after ${failed} failed poll(s)`);
    }
    const known = this.known.get(slug) ?? new Set<string>();
    this.known.set(slug, known);
    const present = new Set<string>();
    for (const s of list) {
      if (s.source !== undefined && s.source !== 'agent_api') continue;
      if (s.status === 'ended') continue;
      present.add(s.sessionId);
      if (known.has(s.sessionId)) continue;
      known.add(s.sessionId);
      this.stats.reported++;
      try {
        this.opts.onLive(s);
      } catch (e) {
        this.logLine('error', `discovery: onLive threw for ${slug}/${s.sessionId}: ${(e as Error).message}`);
      }
    }
    for (const id of known) if (!present.has(id)) known.delete(id);
  }

  private logLine(level: 'info' | 'warn' | 'error', line: string): void {
    const log = this.opts.log;
    if (!log) return;
    if (typeof log === 'function') log(line);
    else log[level](line);
  }
}
