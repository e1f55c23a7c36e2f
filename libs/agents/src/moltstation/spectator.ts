/** Spectator client: get a spectate token (public or authenticated), attach, collect live frames. */
import type { BotOptions } from '../traffic-log';
import { AuthStyle, MoltClient, MoltSlug, runSocket, SocketRun, walletFor } from './client';

export interface SpectatorOptions extends Omit<BotOptions, 'seed'> {
  slug: MoltSlug;
  sessionId: string;
  /** Public endpoint (no wallet). Default true; false logs in with a wallet derived from `seed`. */
  public?: boolean;
  seed?: string;
  authStyle?: AuthStyle;
  stream?: string;
  /** Close (1000) after this many frames. */
  maxFrames?: number;
  onFrame?: (frame: any) => void;
}

export interface SpectatorHandle {
  /** Resolves with the run when the socket closes (GAME_OVER, cap, token errors, close()). */
  done: Promise<SocketRun>;
  /** Frames received so far (live array). */
  frames: any[];
  close(): void;
}

/** Throws MoltHttpError (e.g. 409 SPECTATORS_FULL with spectatorsCurrent/spectatorsMax) if no token is issued. */
export async function attachSpectator(options: SpectatorOptions): Promise<SpectatorHandle> {
  const client = new MoltClient(options);
  const isPublic = options.public !== false;
  if (!isPublic) await client.login(options.slug, walletFor(options.seed ?? 'spectator'));
  const token = await client.spectateToken(options.slug, options.sessionId, isPublic);
  let socket: { close(code?: number): void } | undefined;
  let closeRequested = false;
  const frames: any[] = [];
  const done = runSocket({
    wsBase: client.wsBase,
    slug: options.slug,
    role: 'spectate',
    sessionId: options.sessionId,
    token,
    authStyle: options.authStyle ?? 'message',
    stream: options.stream ?? 'spectate-ws#1',
    traffic: options.traffic,
    signal: options.signal,
    onOpen: (_send, ws) => {
      socket = ws;
      if (closeRequested) ws.close(1000);
    },
    onMessage: (msg, _send, ws) => {
      if (msg?.t !== 'frame') return;
      frames.push(msg.frame);
      options.onFrame?.(msg.frame);
      if (options.maxFrames !== undefined && frames.length >= options.maxFrames) ws.close(1000);
    },
  });
  return {
    done,
    frames,
    close: () => {
      closeRequested = true;
      socket?.close(1000);
    },
  };
}
