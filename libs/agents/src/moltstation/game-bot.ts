/**
 * The common agent loop: login → start agent_api session → play token → play socket → policy per
 * frame → GAME_OVER (re-issuing the token and reconnecting on TOKEN_* / INVALID_TOKEN closes, §4.7)
 * → optional rewards snapshot.
 */
import type { BotOptions } from '../traffic-log';
import { AuthStyle, MoltClient, MoltSlug, runSocket, TOKEN_RECOVERY_REASONS, walletFor } from './client';

export interface MoltBotOptions extends BotOptions {
  /** How to authenticate the socket: first `{t:"auth"}` message (current) or `?token=` (legacy SR). */
  authStyle?: AuthStyle;
  source?: 'agent_api' | 'browser_ws';
  /** Simulator-only start parameters (e.g. {seed, hungerMax, ghostMs}); real servers ignore them. */
  simulatorOptions?: Record<string, unknown>;
  /** Snapshot the rewards after GAME_OVER (agent_api only). Default true. */
  snapshot?: boolean;
  /** Reconnects allowed after token-recovery closes. Default 3. */
  maxReconnects?: number;
}

export interface MoltBotSummary {
  slug: MoltSlug;
  sessionId: string;
  wallet: string;
  /** Phase of the last frame ("ended" after GAME_OVER). */
  phase: string | undefined;
  score: number | undefined;
  gameOverReason: string | undefined;
  /** Tick of the last frame received. */
  ticks: number;
  framesReceived: number;
  inputsSent: number;
  connections: number;
  closeCode: number;
  closeReason: string;
  hello: unknown;
  snapshot?: unknown;
}

export type Decide = (frame: any) => unknown | undefined;

export async function runMoltBot(slug: MoltSlug, options: MoltBotOptions, decide: Decide): Promise<MoltBotSummary> {
  const client = new MoltClient(options);
  const wallet = walletFor(options.seed ?? `${slug}-bot`);
  const source = options.source ?? 'agent_api';
  await client.login(slug, wallet);
  const sessionId = await client.startSession(slug, source, options.simulatorOptions);
  client.log(`${slug}: session ${sessionId} (${source})`);
  const summary: MoltBotSummary = {
    slug,
    sessionId,
    wallet,
    phase: undefined,
    score: undefined,
    gameOverReason: undefined,
    ticks: 0,
    framesReceived: 0,
    inputsSent: 0,
    connections: 0,
    closeCode: 0,
    closeReason: '',
    hello: undefined,
  };
  const maxReconnects = options.maxReconnects ?? 3;
  for (;;) {
    const token = await client.playToken(slug, sessionId);
    summary.connections++;
    const run = await runSocket({
      wsBase: client.wsBase,
      slug,
      role: 'play',
      sessionId,
      token,
      authStyle: options.authStyle ?? 'message',
      stream: `play-ws#${summary.connections}`,
      traffic: options.traffic,
      signal: options.signal,
      onMessage: (msg, send) => {
        if (msg?.t !== 'frame' || !msg.frame) return;
        const f = msg.frame;
        summary.framesReceived++;
        summary.ticks = f.tick;
        summary.phase = f.phase;
        summary.score = f.score?.current;
        if (f.gameOverReason) summary.gameOverReason = f.gameOverReason;
        if (f.phase === 'ended') return;
        const out = decide(f);
        if (out !== undefined) {
          send(out);
          summary.inputsSent++;
        }
      },
    });
    summary.hello = run.hello ?? summary.hello;
    summary.closeCode = run.closeCode;
    summary.closeReason = run.closeReason;
    client.log(`${slug}: play socket closed ${run.closeCode} ${run.closeReason}`);
    if (options.signal?.aborted) break;
    const recoverable = TOKEN_RECOVERY_REASONS.includes(run.closeReason) || run.closeCode === 1006 || (run.closeCode === 1000 && run.closeReason === '');
    if (run.closeReason === 'GAME_OVER' || run.closeReason === 'EXIT' || !recoverable || summary.connections > maxReconnects) break;
  }
  if (source === 'agent_api' && summary.closeReason === 'GAME_OVER' && options.snapshot !== false) {
    summary.snapshot = await client.snapshot(slug, sessionId);
  }
  return summary;
}
