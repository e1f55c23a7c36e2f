import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, sendJson, splitPath } from '../core/http';
import type { PlatformContext } from '../core/types';
import { RgsError } from './errors';
import {
  currentMinesMultiplierH,
  DiceCondition,
  diceMultiplierH,
  dicePayoutCents,
  formatCents,
  GAME_SLUGS,
  MINES_GRID_SIZE,
  MINES_MAX,
  MINES_MIN,
  parseCents,
  parseGameCode,
  payoutCents,
  playDice,
  revealField,
  startMines,
} from '@rewind/platforms';
import { RgsFaults } from './rgs-faults';
import { Round, RgsStore, Session } from './store';

export interface RgsOptions {
  /** Inactivity window and refresh extension (default 1 hour). */
  sessionTtlMs: number;
  /** Server-to-server credential for POST /operator/launch (Authorization: Bearer <operatorKey>). */
  operatorKey: string;
  /** Base of the launch URL; default the platform's own base URL. */
  iframeBase?: string;
  /** Request bodies above this many bytes answer 413. */
  maxBodyBytes: number;
  /** Wallet balance given to a player + currency seen for the first time, unless the launch names one. */
  defaultBalance: string;
  /** Largest accepted wager. */
  maxWager: string;
}

export const DEFAULT_RGS_OPTIONS: RgsOptions = {
  sessionTtlMs: 60 * 60 * 1000,
  operatorKey: 'rgs-operator-dev-key',
  maxBodyBytes: 64 * 1024,
  defaultBalance: '1000.00',
  maxWager: '10000.00',
};

type Json = Record<string, unknown>;

const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** Tokens are credentials: logs carry only this fingerprint. */
export const tokenFingerprint = (token: string): string => `tok#${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;

export class RgsHttpApi {
  constructor(
    private readonly ctx: PlatformContext,
    private readonly opts: RgsOptions,
    private readonly store: RgsStore,
    private readonly faults: RgsFaults,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const method = req.method ?? 'GET';
    try {
      const { segments, query } = parsePath(path);
      const [a, b, c] = segments;
      if (a === 'operator' && b === 'launch' && segments.length === 2) {
        allow(method, 'POST');
        return this.reply(res, 200, await this.launch(req));
      }
      if (segments.length === 1 && (GAME_SLUGS as readonly string[]).includes(a as string)) {
        allow(method, 'GET', 'HEAD');
        return this.page(res, a as string);
      }
      const route = this.route(method, segments);
      if (!route) return false;
      const body = route.post ? await this.readBody(req) : {};
      const token = bearerToken(req);
      const known = token ? this.store.peekToken(token) : undefined;
      await this.faults.beforeRequest(token, known?.id);
      if (known && this.faults.take('expire-session', token, known.id)) {
        this.store.expire(known);
        this.ctx.log(`fault expire-session on ${known.id}`);
      }
      const refresh = a === 'session' && b === 'refresh';
      const session = this.store.authenticate(token, refresh);
      if (!refresh) this.store.touch(session);
      this.ctx.log(`${method} ${segments.join('/')} session ${session.id} ${tokenFingerprint(session.token)}`);
      const [status, payload] = route.run(session, body, { c, query });
      return this.reply(res, status, payload);
    } catch (e) {
      if (e instanceof RgsError) {
        sendJson(res, e.status, { error: e.code, message: e.message }, e.headers);
        return true;
      }
      throw e;
    }
  }

  private route(method: string, s: string[]): { post: boolean; run: (session: Session, body: Json, p: { c?: string; query: URLSearchParams }) => [number, unknown] } | undefined {
    const [a, b, c] = s;
    const key = `${a}/${b}`;
    const post = (run: (session: Session, body: Json) => [number, unknown]) => {
      allow(method, 'POST');
      return { post: true, run };
    };
    const get = (run: (session: Session, body: Json, p: { c?: string; query: URLSearchParams }) => [number, unknown]) => {
      allow(method, 'GET');
      return { post: false, run };
    };
    if (s.length === 2) {
      switch (key) {
        case 'game/play':
          return post((session, body) => [200, this.play(session, body)]);
        case 'game/action':
          return post((session, body) => [200, this.action(session, body)]);
        case 'game/current':
          return post((session) => [200, this.current(session)]);
        case 'game/history':
          return get((session, _b, p) => [200, this.history(session, p.query)]);
        case 'game/balance':
          return get((session) => [200, this.balance(session)]);
        case 'seed/current':
          return get((session) => [200, this.seedCurrent(session)]);
        case 'seed/client':
          return post((session, body) => [200, this.setClientSeed(session, body)]);
        case 'seed/rotate':
          return post((session, body) => [200, this.rotate(session, body)]);
        case 'session/refresh':
          return post((session) => [200, this.refresh(session)]);
      }
    }
    if (s.length === 3 && a === 'game' && b === 'round' && c) return get((session) => [200, this.roundDetails(session, c)]);
    return undefined;
  }

  private reply(res: ServerResponse, status: number, payload: unknown): true {
    sendJson(res, status, payload, { 'cache-control': 'no-store' });
    return true;
  }

  private page(res: ServerResponse, slug: string): true {
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>${slug} (Rewind RGS simulator)</title></head><body><p>${slug}: this simulator serves no game client; read sessionToken and id from this URL and call /game/*.</p></body></html>`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
    res.end(html);
    return true;
  }

  /** Reads and parses a JSON object body ('' → {}); 413 above the limit, 400 when not JSON or not an object. */
  private async readBody(req: IncomingMessage): Promise<Json> {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > this.opts.maxBodyBytes) {
        tooLarge = true;
        // Keep draining (so the client sees the 413 instead of a reset) unless it is absurdly large.
        if (size > this.opts.maxBodyBytes * 16) break;
        continue;
      }
      chunks.push(chunk as Buffer);
    }
    if (tooLarge) throw new RgsError('payload_too_large', `request body over ${this.opts.maxBodyBytes} bytes`, { connection: 'close' });
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new RgsError('invalid_json', `request body is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new RgsError('invalid_body', 'request body must be a JSON object');
    return parsed as Json;
  }

  // --- operator ---------------------------------------------------------------------------------------

  private async launch(req: IncomingMessage): Promise<unknown> {
    const body = await this.readBody(req);
    await this.faults.beforeRequest();
    if (bearerToken(req) !== this.opts.operatorKey) throw new RgsError('invalid_operator_key', 'POST /operator/launch needs Authorization: Bearer <operator key>', { 'www-authenticate': 'Bearer' });
    const playerId = body['playerId'];
    if (typeof playerId !== 'string' || !/^[A-Za-z0-9_.:@-]{1,64}$/.test(playerId)) throw new RgsError('invalid_player', 'playerId must be 1–64 characters of A–Z a–z 0–9 _ . : @ -');
    const game = parseGameCode(body['gameCode']);
    if (!game) throw new RgsError('unsupported_game', `gameCode must be one of dice-alpha|beta|gamma, mines-alpha|beta|gamma; got ${JSON.stringify(body['gameCode'])}`);
    const currency = body['currency'] ?? 'USD';
    if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) throw new RgsError('invalid_currency', 'currency must be a 3-letter ISO code such as USD');
    const lobbyUrl = body['lobbyUrl'];
    if (lobbyUrl !== undefined && (typeof lobbyUrl !== 'string' || !/^https?:\/\/\S+$/.test(lobbyUrl))) throw new RgsError('invalid_lobby_url', 'lobbyUrl must be an absolute http(s) URL');
    const balance = body['balance'] === undefined ? parseCents(this.opts.defaultBalance) : parseCents(body['balance']);
    if (balance === undefined) throw new RgsError('invalid_amount', 'balance must be a decimal string with at most two places, e.g. "1000.00"');
    const { session, reused } = this.store.launch(playerId, game, currency, balance, lobbyUrl as string | undefined);
    this.ctx.log(`launch ${game.code} for ${playerId} → ${session.id} ${tokenFingerprint(session.token)}${reused ? ' (existing session)' : ''}`);
    const base = (this.opts.iframeBase ?? this.ctx.baseUrl()).replace(/\/+$/, '');
    let launchUrl = `${base}/${game.slug}?sessionToken=${encodeURIComponent(session.token)}&id=${encodeURIComponent(game.code)}`;
    if (session.lobbyUrl !== undefined) launchUrl += `&lobbyUrl=${encodeURIComponent(session.lobbyUrl)}`;
    return { launchUrl, sessionId: session.id, expiresAt: isoSeconds(session.expiresAt) };
  }

  // --- game -------------------------------------------------------------------------------------------

  private wager(session: Session, raw: unknown): number {
    const cents = parseCents(raw);
    const max = parseCents(this.opts.maxWager) as number;
    if (cents === undefined || cents < 1 || cents > max) throw new RgsError('invalid_amount', `amount must be a decimal string from "0.01" to "${this.opts.maxWager}" with at most two places`);
    if (cents > session.seat.wallet.balanceCents) throw new RgsError('insufficient_balance', `balance ${formatCents(session.seat.wallet.balanceCents)} is below the wager ${formatCents(cents)}`);
    return cents;
  }

  private play(session: Session, body: Json): unknown {
    const seat = session.seat;
    if (seat.active) throw new RgsError('round_active', `round ${seat.active.id} is still open: finish it with /game/action (see /game/current)`);
    let round: Round;
    if (seat.game.slug === 'dice') {
      const targetH = parseTarget(body['target']);
      if (targetH === undefined) throw new RgsError('invalid_target', 'target must be a number between 0.01 and 99.99 with at most two decimals');
      const condition = body['condition'];
      if (condition !== 'over' && condition !== 'under') throw new RgsError('invalid_condition', 'condition must be "over" or "under"');
      const bet = { targetH, condition: condition as DiceCondition };
      if (diceMultiplierH(seat.game.rtpBp, bet) === undefined) throw new RgsError('invalid_target', 'win chance must be between 0.01 and 98.00 (over: 100 − target; under: target)');
      const amount = this.wager(session, body['amount']);
      round = this.store.newRound(seat, amount);
      session.seat.wallet.balanceCents -= amount;
      const outcome = playDice(seat.pair.serverSeed, round.clientSeed, round.nonce, seat.game.rtpBp, bet);
      round.dice = { bet, outcome };
      this.settle(round, dicePayoutCents(amount, outcome), outcome.win ? outcome.multiplierH : 0);
    } else {
      const mineCount = body['mineCount'];
      if (!Number.isInteger(mineCount) || (mineCount as number) < MINES_MIN || (mineCount as number) > MINES_MAX)
        throw new RgsError('invalid_mine_count', `mineCount must be an integer from ${MINES_MIN} to ${MINES_MAX}`);
      if (body['gridSize'] !== undefined && body['gridSize'] !== MINES_GRID_SIZE) throw new RgsError('invalid_grid_size', `gridSize must be ${MINES_GRID_SIZE}`);
      const amount = this.wager(session, body['amount']);
      round = this.store.newRound(seat, amount);
      session.seat.wallet.balanceCents -= amount;
      round.mines = startMines(seat.pair.serverSeed, round.clientSeed, round.nonce, mineCount as number);
      seat.active = round;
    }
    return { balance: formatCents(session.seat.wallet.balanceCents), ...this.roundResponse(round) };
  }

  private action(session: Session, body: Json): unknown {
    const round = session.seat.active;
    if (!round || !round.mines) throw new RgsError('no_active_round', 'there is no open round; start one with /game/play');
    const action = body['action'];
    if (action === 'reveal') {
      const field = body['field'];
      if (!Number.isInteger(field) || (field as number) < 0 || (field as number) >= MINES_GRID_SIZE) throw new RgsError('invalid_field', `field must be an integer from 0 to ${MINES_GRID_SIZE - 1}`);
      if (round.mines.reveals.some((r) => r.field === field)) throw new RgsError('field_already_revealed', `field ${field as number} is already revealed`);
      const { state, result } = revealField(round.mines, session.seat.game.rtpBp, field as number);
      round.mines = state;
      if (result === 'mine') this.settle(round, 0, 0);
      else if (result === 'cleared') this.cashOut(round);
    } else if (action === 'cashout') {
      if (round.mines.reveals.length === 0) throw new RgsError('nothing_to_cash_out', 'reveal at least one field before cashing out');
      round.mines = { ...round.mines, active: false };
      this.cashOut(round);
    } else {
      throw new RgsError('invalid_action', 'action must be "reveal" (with field) or "cashout"');
    }
    return { balance: formatCents(session.seat.wallet.balanceCents), ...this.roundResponse(round) };
  }

  private cashOut(round: Round): void {
    const m = currentMinesMultiplierH(round.mines as NonNullable<Round['mines']>);
    this.settle(round, payoutCents(round.amountCents, m), m);
  }

  private settle(round: Round, payout: number, multiplierH: number): void {
    round.payoutCents = payout;
    round.multiplierH = multiplierH;
    round.completedAt = this.ctx.now();
    round.seat.completed.push(round);
    if (round.seat.active === round) round.seat.active = undefined;
    round.seat.wallet.balanceCents += payout;
  }

  private current(session: Session): unknown {
    if (this.faults.take('round-initializing', session.token, session.id)) throw new RgsError('round_initializing', 'a round is still initializing; retry shortly', { 'retry-after': '1' });
    const balance = formatCents(session.seat.wallet.balanceCents);
    const round = session.seat.active;
    if (!round || !round.mines) return { balance, active: false };
    return {
      balance,
      active: true,
      roundId: round.id,
      gameId: session.seat.game.code,
      roundData: { amount: formatCents(round.amountCents), mineCount: round.mines.mineCount, gridSize: MINES_GRID_SIZE },
      state: this.state(round),
    };
  }

  private roundDetails(session: Session, id: string): unknown {
    const round = this.store.round(id);
    if (!round || round.seat !== session.seat) throw new RgsError('round_not_found', `no round ${id} for this player and game`);
    return this.roundResponse(round);
  }

  private roundResponse(round: Round): Json {
    const settled = round.payoutCents !== undefined;
    const seed: Json = { serverSeedHash: round.pair.serverSeedHash, clientSeed: round.clientSeed, nonce: round.nonce };
    if (round.pair.revealed !== undefined) seed['serverSeed'] = round.pair.revealed;
    return {
      round: {
        id: round.id,
        gameId: round.seat.game.code,
        amount: formatCents(round.amountCents),
        payout: settled ? formatCents(round.payoutCents as number) : null,
        multiplier: settled ? formatCents(round.multiplierH as number) : null,
        result: settled ? ((round.payoutCents as number) > 0 ? 'win' : 'loss') : null,
        active: !settled,
        createdAt: isoSeconds(round.createdAt),
        completedAt: settled ? isoSeconds(round.completedAt as number) : null,
      },
      seed,
      state: this.state(round),
    };
  }

  /** Client-safe state: an open Mines round never shows its mines. */
  private state(round: Round): Json {
    if (round.dice) {
      const { bet, outcome } = round.dice;
      return { target: bet.targetH / 100, condition: bet.condition, roll: outcome.rollH / 100, winChance: outcome.winChanceH / 100, multiplier: formatCents(outcome.multiplierH) };
    }
    const m = round.mines as NonNullable<Round['mines']>;
    const state: Json = { active: m.active, mineCount: m.mineCount, rounds: m.reveals.map((r) => ({ field: r.field, multiplier: formatCents(r.multiplierH) })) };
    if (!m.active) {
      state['mines'] = m.mines;
      if (m.hit !== undefined) state['mineHit'] = m.hit;
    }
    return state;
  }

  private history(session: Session, query: URLSearchParams): unknown {
    const raw = query.get('limit');
    const limit = raw === null ? 10 : /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new RgsError('invalid_limit', 'limit must be an integer from 1 to 100');
    return session.seat.completed
      .slice(-limit)
      .reverse()
      .map((r) => ({
        id: r.id,
        wager: formatCents(r.amountCents),
        payout: formatCents(r.payoutCents as number),
        multiplier: formatCents(r.multiplierH as number),
        createdAt: isoSeconds(r.createdAt),
      }));
  }

  private balance(session: Session): unknown {
    return { balance: formatCents(session.seat.wallet.balanceCents), currency: session.seat.currency };
  }

  // --- seeds ------------------------------------------------------------------------------------------

  private seedCurrent(session: Session): unknown {
    const p = session.seat.pair;
    return { serverSeedHash: p.serverSeedHash, clientSeed: p.clientSeed, nonce: p.nonce, nextServerSeedHash: this.store.nextHash(session.seat) };
  }

  private setClientSeed(session: Session, body: Json): unknown {
    const clientSeed = parseClientSeed(body['clientSeed']);
    if (clientSeed === undefined) throw new RgsError('invalid_client_seed', 'clientSeed must be 1–64 printable ASCII characters without ":"');
    session.seat.pair.clientSeed = clientSeed;
    return this.seedCurrent(session);
  }

  private rotate(session: Session, body: Json): unknown {
    const seat = session.seat;
    if (seat.active) throw new RgsError('round_active', `round ${seat.active.id} is still open: its server seed cannot be revealed yet`);
    const clientSeed = body['clientSeed'] === undefined ? undefined : parseClientSeed(body['clientSeed']);
    if (body['clientSeed'] !== undefined && clientSeed === undefined) throw new RgsError('invalid_client_seed', 'clientSeed must be 1–64 printable ASCII characters without ":"');
    const forge = this.faults.take('forge-seed', session.token, session.id) !== undefined;
    const { previous } = this.store.rotate(seat, clientSeed, forge);
    if (forge) this.ctx.log(`fault forge-seed on ${session.id}: revealed seed does not match its commitment`);
    return {
      previous: { serverSeed: previous.revealed, serverSeedHash: previous.serverSeedHash, clientSeed: previous.clientSeed, nonce: previous.nonce },
      current: this.seedCurrent(session),
    };
  }

  // --- session ----------------------------------------------------------------------------------------

  private refresh(session: Session): unknown {
    const old = tokenFingerprint(session.token);
    this.store.refresh(session);
    this.ctx.log(`refresh ${session.id}: ${old} → ${tokenFingerprint(session.token)}`);
    return { sessionToken: session.token, expiresAt: isoSeconds(session.expiresAt) };
  }
}

function parsePath(path: string): ReturnType<typeof splitPath> {
  try {
    return splitPath(path);
  } catch {
    throw new RgsError('invalid_path', 'the request path is not valid percent-encoding');
  }
}

function allow(method: string, ...methods: string[]): void {
  if (!methods.includes(method)) throw new RgsError('method_not_allowed', `use ${methods.join(' or ')}`, { allow: methods.join(', ') });
}

/** 50.5 | "50.50" → 5050 (strictly between 0 and 100, at most two decimals). */
function parseTarget(raw: unknown): number | undefined {
  const h = parseCents(raw);
  return h !== undefined && h > 0 && h < 10000 ? h : undefined;
}

function parseClientSeed(raw: unknown): string | undefined {
  return typeof raw === 'string' && /^[\x21-\x39\x3b-\x7e]{1,64}$/.test(raw) ? raw : undefined;
}
