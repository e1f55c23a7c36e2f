/** MoltStation HTTP API (reference §3, §5, §7). Error bodies are `{error, code}` throughout. */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, readUpTo, refuseBody, sendEmpty, sendJson, splitPath } from '../core/http';
import { MOLT_FAULTS } from './faults';
import { sanitizeShellRunnersPatch } from './options';
import { isSlug, Slug, SLUGS, Source } from './protocol';
import type { MoltStationState, Session } from './sessions';

type Res = ServerResponse;
const ACCESS_TTL_MS = 24 * 3600 * 1000;

function err(res: Res, status: number, code: string, error: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error, code, ...extra }, headers);
}

/** Reads a JSON object body (empty → {}); answers 400/413 itself and returns undefined on failure. */
async function readObject(req: IncomingMessage, res: Res, limit: number): Promise<Record<string, unknown> | undefined> {
  const body = await readUpTo(req, limit);
  if (body === null) {
    // Answered at once, then the rest is read and discarded for a while (a real server's lingering close).
    refuseBody(req, (headers) => err(res, 413, 'PAYLOAD_TOO_LARGE', `Request body over ${limit} bytes`, {}, headers));
    return undefined;
  }
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    err(res, 400, 'INVALID_JSON', 'Request body is not valid JSON');
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    err(res, 400, 'INVALID_BODY', 'Request body must be a JSON object');
    return undefined;
  }
  return parsed as Record<string, unknown>;
}

function sessionView(s: Session): Record<string, unknown> {
  return {
    sessionId: s.id,
    slug: s.slug,
    source: s.source,
    status: s.status,
    phase: s.status === 'created' ? null : s.game.phase,
    tick: s.game.tick,
    score: s.game.score,
    gameOverReason: s.game.gameOverReason ?? null,
    walletAddress: s.wallet,
    rewardsEligible: s.source === 'agent_api',
    snapshotted: s.snapshot !== undefined,
    spectators: { current: s.spectators.size, max: s.spectatorCap },
    createdAt: new Date(s.createdAt).toISOString(),
    startedAt: s.startedAt !== undefined ? new Date(s.startedAt).toISOString() : null,
    endedAt: s.endedAt !== undefined ? new Date(s.endedAt).toISOString() : null,
    tickHz: 1000 / s.tickMs,
  };
}

export async function handleMoltHttp(state: MoltStationState, req: IncomingMessage, res: Res, path: string): Promise<boolean> {
  if (state.isClosed) return false;
  // CORS: the core site and the runtimes call the API from other origins (docs silent; permissive, echoing the origin).
  const origin = req.headers.origin;
  if (origin) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('vary', 'Origin');
  }
  if (req.method === 'OPTIONS') {
    req.resume();
    sendEmpty(res, 204, {
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type, x-api-key',
      'access-control-max-age': '600',
    });
    return true;
  }
  const { segments } = splitPath(path);
  if (segments[0] !== 'api') {
    req.resume();
    return notFound(res);
  }
  const method = req.method ?? 'GET';
  const sessionKey = segments[1] === 'games' && segments[3] === 'sessions' ? segments[4] : undefined;

  // Faults first: status-429 / status-503, for the session in the path or globally.
  for (const [name, status, code, error] of [
    [MOLT_FAULTS.STATUS_429, 429, 'RATE_LIMITED', 'Too many requests'],
    [MOLT_FAULTS.STATUS_503, 503, 'SERVICE_UNAVAILABLE', 'Service unavailable'],
  ] as const) {
    const p = state.faults.peek(name, sessionKey);
    if (p && (typeof p.path !== 'string' || path.includes(p.path))) {
      state.faults.take(name, sessionKey);
      req.resume();
      err(res, status, code, error, {}, status === 429 ? { 'retry-after': '1' } : {});
      return true;
    }
  }

  const limit = state.options.maxBodyBytes;
  const route = (m: string): boolean => {
    if (method === m) return true;
    req.resume();
    err(res, 405, 'METHOD_NOT_ALLOWED', `Use ${m}`, {}, { allow: m });
    return false;
  };
  const requireWallet = (): string | undefined => {
    const tok = bearerToken(req);
    const rec = tok ? state.accessTokens.get(tok) : undefined;
    if (!rec || rec.expiresAt <= state.ctx.now()) {
      req.resume();
      err(res, 401, 'UNAUTHORIZED', 'Unauthorized');
      return undefined;
    }
    return rec.wallet;
  };

  // /api/games/catalog
  if (segments[1] === 'games' && segments[2] === 'catalog' && segments.length === 3) {
    if (!route('GET')) return true;
    sendJson(res, 200, { games: SLUGS.map((slug) => ({ slug, name: slug === 'flappybots' ? 'Flappy Bots' : 'ShellRunners' })) });
    return true;
  }

  // /api/rewards/snapshot
  if (segments[1] === 'rewards' && segments[2] === 'snapshot' && segments.length === 3) {
    if (!route('POST')) return true;
    const wallet = requireWallet();
    if (!wallet) return true;
    const body = await readObject(req, res, limit);
    if (!body) return true;
    return snapshot(state, res, wallet, body);
  }

  if (segments[1] !== 'games' || segments[2] === undefined) return notFound(res);
  const slug = segments[2];
  if (!isSlug(slug)) return (void err(res, 404, 'GAME_NOT_FOUND', `Unknown game "${slug}"`), true);

  if (segments.length === 3) {
    if (!route('GET')) return true;
    sendJson(res, 200, { slug, name: slug === 'flappybots' ? 'Flappy Bots' : 'ShellRunners', tickHz: state.tickHz });
    return true;
  }

  if (segments[3] === 'auth') return authRoutes(state, req, res, slug, segments[4], method, limit, requireWallet);
  if (segments[3] !== 'sessions') return notFound(res);

  const sub = segments[4];
  if (sub === 'start' && segments.length === 5) {
    if (!route('POST')) return true;
    const wallet = requireWallet();
    if (!wallet) return true;
    const body = await readObject(req, res, limit);
    if (!body) return true;
    const source = body.source === undefined ? 'browser_ws' : body.source;
    if (source !== 'agent_api' && source !== 'browser_ws') return (void err(res, 400, 'INVALID_SOURCE', 'source must be agent_api or browser_ws'), true);
    if (source === 'agent_api') {
      const pending = [...state.sessions.values()].find((s) => s.wallet === wallet && s.slug === slug && s.source === 'agent_api' && s.status === 'ended' && !s.snapshot);
      if (pending) return (void err(res, 409, 'SNAPSHOT_REQUIRED', 'Snapshot the previous rewards session before starting a new one', { sessionId: pending.id }), true);
    }
    const simOpts = (typeof body.simulatorOptions === 'object' && body.simulatorOptions !== null ? body.simulatorOptions : {}) as Record<string, unknown>;
    const s = state.createSession(slug, source as Source, wallet, {
      seed: typeof simOpts.seed === 'string' ? simOpts.seed : undefined,
      shellrunners: sanitizeShellRunnersPatch(simOpts),
    });
    sendJson(res, 200, { sessionId: s.id, slug, source: s.source, status: s.status, rewardsEligible: s.source === 'agent_api', createdAt: new Date(s.createdAt).toISOString() });
    return true;
  }
  if (sub === 'live' && segments.length === 5) {
    if (!route('GET')) return true;
    const sessions = [...state.sessions.values()].filter((s) => s.slug === slug && s.source === 'agent_api' && s.status !== 'ended').map((s) => sessionView(s));
    sendJson(res, 200, { sessions });
    return true;
  }
  if (sub === 'my' && segments.length === 5) {
    if (!route('GET')) return true;
    const wallet = requireWallet();
    if (!wallet) return true;
    sendJson(res, 200, { sessions: [...state.sessions.values()].filter((s) => s.slug === slug && s.wallet === wallet).map((s) => sessionView(s)) });
    return true;
  }
  if (sub === 'high-score' && segments.length === 5) {
    if (!route('GET')) return true;
    const wallet = requireWallet();
    if (!wallet) return true;
    const mine = [...state.sessions.values()].filter((s) => s.slug === slug && s.wallet === wallet);
    sendJson(res, 200, { slug, highScore: mine.reduce((m, s) => Math.max(m, s.game.score.high), 0) });
    return true;
  }
  if (sub === undefined) return notFound(res);
  const s = state.sessions.get(sub);
  if (!s || s.slug !== slug) {
    req.resume();
    return (void err(res, 404, 'SESSION_NOT_FOUND', 'Session not found'), true);
  }
  const action = segments[5];
  if (action === undefined && segments.length === 5) {
    if (!route('GET')) return true;
    sendJson(res, 200, sessionView(s));
    return true;
  }
  if (segments.length !== 6) return notFound(res);
  const ttl = state.options.tokenTtlMs;
  const tokenFaults = (): { expired: boolean; used: boolean } => ({
    expired: state.faults.take(MOLT_FAULTS.EXPIRE_TOKEN, s.id) !== undefined,
    used: state.faults.take(MOLT_FAULTS.REPLAY_TOKEN, s.id) !== undefined,
  });
  switch (action) {
    case 'play-token': {
      if (!route('POST')) return true;
      const wallet = requireWallet();
      if (!wallet) return true;
      req.resume();
      if (wallet !== s.wallet) return (void err(res, 403, 'FORBIDDEN', 'Not your session'), true);
      if (s.status === 'ended') return (void err(res, 409, 'SESSION_ENDED', 'Session has ended'), true);
      const playToken = state.tokens.issue('play', slug, s.id, ttl, tokenFaults());
      sendJson(res, 200, { playToken, expiresAt: new Date(state.ctx.now() + ttl).toISOString() });
      return true;
    }
    case 'spectate-token':
    case 'spectate-token-public': {
      if (!route('POST')) return true;
      if (action === 'spectate-token' && !requireWallet()) return true;
      req.resume();
      if (s.status === 'ended') return (void err(res, 409, 'SESSION_ENDED', 'Session has ended'), true);
      const full = state.faults.take(MOLT_FAULTS.SPECTATORS_FULL, s.id) !== undefined;
      if (full || s.spectators.size >= s.spectatorCap) {
        return (
          void err(res, 409, 'SPECTATORS_FULL', `${full ? s.spectatorCap : s.spectators.size}/${s.spectatorCap} spectators limit reached for this livestream`, {
            spectatorsCurrent: full ? s.spectatorCap : s.spectators.size,
            spectatorsMax: s.spectatorCap,
          }),
          true
        );
      }
      const token = state.tokens.issue('spectate', slug, s.id, ttl, tokenFaults());
      sendJson(res, 200, { token, spectateToken: token, expiresAt: new Date(state.ctx.now() + ttl).toISOString(), spectators: { current: s.spectators.size, max: s.spectatorCap } });
      return true;
    }
    case 'heartbeat': {
      if (!route('POST')) return true;
      const wallet = requireWallet();
      if (!wallet) return true;
      req.resume();
      if (wallet !== s.wallet) return (void err(res, 403, 'FORBIDDEN', 'Not your session'), true);
      s.lastHeartbeatAt = state.ctx.now();
      sendJson(res, 200, { ok: true, sessionId: s.id, status: s.status, serverTime: new Date(s.lastHeartbeatAt).toISOString() });
      return true;
    }
    case 'end': {
      if (!route('POST')) return true;
      const wallet = requireWallet();
      if (!wallet) return true;
      req.resume();
      if (wallet !== s.wallet) return (void err(res, 403, 'FORBIDDEN', 'Not your session'), true);
      state.endRun(s, 'session_ended');
      sendJson(res, 200, { ok: true, sessionId: s.id, status: s.status, score: s.game.score, gameOverReason: s.game.gameOverReason ?? null });
      return true;
    }
    default:
      return notFound(res);
  }
}

function notFound(res: Res): boolean {
  err(res, 404, 'NOT_FOUND', 'Not found');
  return true;
}

async function authRoutes(
  state: MoltStationState,
  req: IncomingMessage,
  res: Res,
  slug: Slug,
  what: string | undefined,
  method: string,
  limit: number,
  requireWallet: () => string | undefined,
): Promise<boolean> {
  const issue = (wallet: string): void => {
    const accessToken = `at_${state.hex(state.authRng, 6)}`;
    const refreshToken = `rt_${state.hex(state.authRng, 6)}`;
    state.accessTokens.set(accessToken, { wallet, expiresAt: state.ctx.now() + ACCESS_TTL_MS });
    state.refreshTokens.set(refreshToken, wallet);
    sendJson(res, 200, { accessToken, refreshToken });
  };
  if (what === 'session' && method === 'GET') {
    const wallet = requireWallet();
    if (wallet) sendJson(res, 200, { walletAddress: wallet, slug });
    return true;
  }
  if (method !== 'POST') {
    req.resume();
    return notFound(res);
  }
  const body = await readObject(req, res, limit);
  if (!body) return true;
  if (what === 'nonce') {
    const nonce = state.hex(state.authRng, 4);
    state.nonces.add(nonce);
    sendJson(res, 200, { nonce, domain: 'moltstation.games', uri: 'https://moltstation.games', chainId: 8453, issuedAt: new Date(state.ctx.now()).toISOString() });
    return true;
  }
  if (what === 'verify') {
    const message = typeof body.message === 'string' ? body.message : '';
    const address = /0x[0-9a-fA-F]{40}/.exec(message)?.[0];
    const nonce = /Nonce:\s*([^\s]+)/.exec(message)?.[1];
    if (!address || typeof body.signature !== 'string' || body.signature === '') return (void err(res, 400, 'INVALID_MESSAGE', 'message (SIWE) with an address and a signature are required'), true);
    if (!nonce || !state.nonces.delete(nonce)) return (void err(res, 401, 'INVALID_NONCE', 'Nonce unknown or already used'), true);
    issue(address.toLowerCase());
    return true;
  }
  if (what === 'refresh') {
    const wallet = typeof body.refreshToken === 'string' ? state.refreshTokens.get(body.refreshToken) : undefined;
    if (!wallet) return (void err(res, 401, 'UNAUTHORIZED', 'Invalid refresh token'), true);
    state.refreshTokens.delete(body.refreshToken as string);
    issue(wallet);
    return true;
  }
  return notFound(res);
}

function snapshot(state: MoltStationState, res: Res, wallet: string, body: Record<string, unknown>): boolean {
  const { gameSlug, sessionId } = body;
  if (!isSlug(gameSlug) || typeof sessionId !== 'string') return (void err(res, 400, 'INVALID_BODY', 'gameSlug and sessionId are required'), true);
  const s = state.sessions.get(sessionId);
  if (!s || s.slug !== gameSlug) return (void err(res, 404, 'SESSION_NOT_FOUND', 'Session not found'), true);
  if (s.wallet !== wallet) return (void err(res, 403, 'FORBIDDEN', 'Not your session'), true);
  if (s.source !== 'agent_api') return (void err(res, 409, 'INVALID_SESSION', 'Only agent_api sessions are rewards-eligible'), true);
  if (s.status !== 'ended') return (void err(res, 409, 'INVALID_SESSION', 'Session has not ended'), true);
  if (s.snapshot) return (void err(res, 409, 'INVALID_SESSION', 'Session already snapshotted', { gameSessionHash: s.snapshot.gameSessionHash }), true);
  const score = s.game.score.current;
  const gameSessionHash = `0x${createHash('sha256').update(`${state.ctx.seed}/${s.slug}/${s.id}`).digest('hex')}`;
  s.snapshot = { gameSessionHash, score, at: state.ctx.now() };
  const bank = (state.scorebank.get(wallet) ?? 0) + score;
  state.scorebank.set(wallet, bank);
  const deadline = Math.floor(state.ctx.now() / 1000) + 600;
  const sig = createHash('sha256').update(`sig/${gameSessionHash}/${wallet}/${score}`).digest('hex');
  sendJson(res, 200, {
    ok: true,
    gameSlug: s.slug,
    sessionId: s.id,
    score,
    delta: score,
    scorebank: bank,
    contractMethod: 'snapshotScoreSigned',
    args: { agent: wallet, score, gameSessionHash, deadline, signature: `0x${sig}${sig}1b` },
  });
  return true;
}
