import { createHash } from 'node:crypto';
import { httpExchange, transportError } from '../http-exchange';
import type { BotOptions, TrafficLog } from '../traffic-log';

/**
 * An RGS (casino) player: operator launch → parse the launch URL → Dice and Mines rounds (one Mines round is
 * interrupted and resumed through POST /game/current), client seed, seed rotation, history / balance / round
 * details, one token refresh and play on with the new token. Works through any base URL (simulator or the
 * recording proxy); every request and response body goes to `traffic` exactly as on the wire.
 */
export interface RgsBotOptions extends BotOptions {
  /** Server-to-server credential for POST /operator/launch (the simulator's default). */
  operatorKey?: string;
  playerId?: string;
  diceGameCode?: string;
  minesGameCode?: string;
  /** Dice rounds (N); the token is refreshed half-way. */
  diceRounds?: number;
  /** Mines rounds (M); the first one is resumed after a simulated reload. */
  minesRounds?: number;
  /** Wager per round, e.g. "1.00". */
  amount?: string;
  lobbyUrl?: string;
  /** Retries of one request answered 429/503 (honouring Retry-After, capped at 2 s). */
  maxRetries?: number;
}

export interface RevealedSeed {
  gameId: string;
  serverSeed: string;
  serverSeedHash: string;
  clientSeed: string;
  /** Nonce the pair had reached when retired (= rounds played with it). */
  nonce: number;
}

export interface RgsBotResult {
  roundsPlayed: { dice: number; mines: number; total: number };
  finalBalance: string;
  revealedSeeds: RevealedSeed[];
  roundIds: string[];
  resumedRoundId?: string;
  tokenRefreshes: number;
  aborted: boolean;
}

export class RgsBotError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly body?: string,
  ) {
    super(message);
  }
}

type Json = Record<string, any>;

const fingerprint = (token: string): string => `tok#${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;

/** Tiny deterministic generator for the bot's own choices (targets, mine counts, fields). */
function botRng(seed: string): () => number {
  let counter = 0;
  return () => createHash('sha256').update(`${seed}:${counter++}`).digest().readUInt32BE(0) / 2 ** 32;
}

export class RgsBot {
  private readonly base: string;
  private readonly traffic?: TrafficLog;
  private readonly log: (line: string) => void;
  private readonly rand: () => number;
  private readonly result: RgsBotResult = { roundsPlayed: { dice: 0, mines: 0, total: 0 }, finalBalance: '', revealedSeeds: [], roundIds: [], tokenRefreshes: 0, aborted: false };

  constructor(private readonly opts: RgsBotOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.traffic = opts.traffic;
    this.log = opts.log ?? (() => undefined);
    this.rand = botRng(opts.seed ?? 'rgs-bot');
  }

  async run(): Promise<RgsBotResult> {
    try {
      await this.play();
    } catch (e) {
      if (!this.opts.signal?.aborted) throw e;
      this.result.aborted = true;
      this.log('aborted');
    }
    return this.result;
  }

  private async play(): Promise<void> {
    const o = this.opts;
    const diceRounds = o.diceRounds ?? 6;
    const minesRounds = o.minesRounds ?? 3;
    const amount = o.amount ?? '1.00';
    const playerId =
      o.playerId ??
      `bot-${createHash('sha256')
        .update(o.seed ?? 'rgs-bot')
        .digest('hex')
        .slice(0, 8)}`;

    // --- Dice --------------------------------------------------------------------------------------
    const diceGame = o.diceGameCode ?? 'dice-alpha';
    const minesGame = o.minesGameCode ?? 'mines-alpha';
    let token = await this.launch(playerId, diceGame);
    const boot = await this.call('POST', '/game/current', token);
    this.log(`dice boot: balance ${boot['balance']}`);
    const seeds = await this.call('GET', '/seed/current', token);
    this.log(`committed server seed hash ${seeds['serverSeedHash']}`);
    const clientSeed = `bot-${Math.floor(this.rand() * 2 ** 32).toString(16)}`;
    await this.call('POST', '/seed/client', token, { clientSeed });
    let lastDice: string | undefined;
    for (let i = 0; i < diceRounds; i++) {
      if (i === Math.ceil(diceRounds / 2)) token = await this.refresh(token);
      const target = (1000 + Math.floor(this.rand() * 8000)) / 100;
      const condition = this.rand() < 0.5 ? 'over' : 'under';
      const r = await this.call('POST', '/game/play', token, { amount, target, condition });
      lastDice = r['round']['id'];
      this.count('dice', r);
      this.log(`dice ${condition} ${target}: roll ${r['state']['roll']} → ${r['round']['result']} payout ${r['round']['payout']} balance ${r['balance']}`);
    }
    if (this.result.tokenRefreshes === 0) token = await this.refresh(token);
    await this.call('GET', '/game/history?limit=10', token);
    if (lastDice) await this.call('GET', `/game/round/${lastDice}`, token);
    await this.rotate(token, diceGame);
    if (lastDice) await this.call('GET', `/game/round/${lastDice}`, token);
    await this.call('GET', '/game/balance', token);

    // --- Mines -------------------------------------------------------------------------------------
    const mines = await this.launch(playerId, minesGame);
    let current = await this.call('POST', '/game/current', mines);
    for (let i = 0; i < minesRounds; i++) {
      let state: Json;
      if (current['active']) {
        this.result.resumedRoundId = current['roundId'];
        this.log(`resuming mines round ${current['roundId']} with ${current['state']['rounds'].length} field(s) revealed`);
        state = current['state'];
      } else {
        const mineCount = 1 + Math.floor(this.rand() * 5);
        const start = await this.call('POST', '/game/play', mines, { amount, mineCount });
        state = start['state'];
      }
      const target = 1 + Math.floor(this.rand() * 3);
      let settled: Json | undefined;
      while (!settled && state['rounds'].length < target) {
        const revealed = new Set<number>(state['rounds'].map((r: Json) => r['field']));
        const free = [...Array(25).keys()].filter((f) => !revealed.has(f));
        const field = free[Math.floor(this.rand() * free.length)] as number;
        const r = await this.call('POST', '/game/action', mines, { action: 'reveal', field });
        state = r['state'];
        if (!r['round']['active']) settled = r;
        else if (!this.result.resumedRoundId) {
          // simulate a reload mid-round: the client boots again and asks what is open
          current = await this.call('POST', '/game/current', mines);
          if (current['active']) {
            this.result.resumedRoundId = current['roundId'];
            this.log(`reload: resuming mines round ${current['roundId']}`);
            state = current['state'];
          }
        }
      }
      if (!settled) settled = await this.call('POST', '/game/action', mines, { action: 'cashout' });
      this.count('mines', settled);
      this.log(`mines (${settled['state']['mineCount']} mines): ${settled['round']['result']} ×${settled['round']['multiplier']} balance ${settled['balance']}`);
      current = { active: false };
    }
    await this.call('GET', '/game/history?limit=10', mines);
    await this.rotate(mines, minesGame);
    const balance = await this.call('GET', '/game/balance', mines);
    this.result.finalBalance = balance['balance'];
    this.log(`done: ${this.result.roundsPlayed.total} rounds, balance ${this.result.finalBalance}`);
  }

  private count(game: 'dice' | 'mines', r: Json): void {
    this.result.roundsPlayed[game] += 1;
    this.result.roundsPlayed.total += 1;
    this.result.roundIds.push(r['round']['id']);
  }

  /** Operator launch; returns the session token read from the launch URL (as a game client would). */
  private async launch(playerId: string, gameCode: string): Promise<string> {
    const body: Json = { playerId, gameCode };
    if (this.opts.lobbyUrl) body['lobbyUrl'] = this.opts.lobbyUrl;
    const r = await this.call('POST', '/operator/launch', this.opts.operatorKey ?? 'rgs-operator-dev-key', body);
    const url = new URL(r['launchUrl']);
    const token = url.searchParams.get('sessionToken');
    const id = url.searchParams.get('id');
    const slug = url.pathname.split('/').pop();
    if (!token || id !== gameCode || !gameCode.startsWith(`${slug}-`)) throw new RgsBotError(`unexpected launch URL for ${gameCode}`);
    this.log(`launched ${id} (slug ${slug}) session ${r['sessionId']} ${fingerprint(token)}`);
    return token;
  }

  private async refresh(token: string): Promise<string> {
    const r = await this.call('POST', '/session/refresh', token);
    this.result.tokenRefreshes += 1;
    this.log(`token refreshed ${fingerprint(token)} → ${fingerprint(r['sessionToken'])}, expires ${r['expiresAt']}`);
    return r['sessionToken'];
  }

  private async rotate(token: string, gameId: string): Promise<void> {
    const r = await this.call('POST', '/seed/rotate', token, {});
    const p = r['previous'];
    this.result.revealedSeeds.push({ gameId, serverSeed: p['serverSeed'], serverSeedHash: p['serverSeedHash'], clientSeed: p['clientSeed'], nonce: p['nonce'] });
    this.log(`rotated: revealed server seed for hash ${p['serverSeedHash']}`);
  }

  /** One JSON request; retries 429/503; throws RgsBotError on any other non-2xx. */
  private async call(method: string, path: string, token: string, body?: unknown): Promise<Json> {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const stream = `${method} ${path}`;
    for (let attempt = 0; ; attempt++) {
      this.traffic?.record({ stream, channel: 'http', direction: 'sent', data: text, meta: { method, path } });
      let res: Response;
      let reply: string;
      try {
        ({ res, body: reply } = await httpExchange(`${this.base}${path}`, { method, headers, body: body === undefined ? undefined : text }, this.opts.signal, async (r) =>
          Buffer.from(await r.arrayBuffer()).toString('utf8'),
        ));
      } catch (e) {
        // No answer (connection refused or reset, aborted…): recorded as the exchange's end, without a status.
        this.traffic?.record({ stream, channel: 'http', direction: 'received', data: '', meta: { method, path, error: transportError(e) } });
        throw e;
      }
      this.traffic?.record({ stream, channel: 'http', direction: 'received', data: reply, meta: { method, path, status: res.status } });
      // bodies can hold credentials (launchUrl, sessionToken): the log line shows sizes, the traffic log the bytes
      this.log(`http ${stream} (${Buffer.byteLength(text)} B) → ${res.status} (${Buffer.byteLength(reply)} B)`);
      if ((res.status === 429 || res.status === 503) && attempt < (this.opts.maxRetries ?? 5)) {
        const after = Number(res.headers.get('retry-after'));
        const ms = Math.min(Number.isFinite(after) && after >= 0 ? after * 1000 : 500, 2000);
        this.log(`${stream} → ${res.status}, retrying in ${ms} ms`);
        await sleep(ms, this.opts.signal);
        continue;
      }
      if (res.status < 200 || res.status > 299) throw new RgsBotError(`${stream} → ${res.status} ${reply.slice(0, 200)}`, res.status, reply);
      const json = JSON.parse(reply) as Json;
      return json;
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs the RGS bot to the end (or until `signal` aborts) and resolves with what it played. */
export function runRgsBot(options: RgsBotOptions): Promise<RgsBotResult> {
  return new RgsBot(options).run();
}
