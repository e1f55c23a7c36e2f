import { recordedClose, type PlatformReplayStream } from '../replay';

/** The closes that end a MoltStation run (the platform's own, `1000 GAME_OVER` / `1000 EXIT`). */
const RUN_CLOSES: readonly string[] = ['GAME_OVER', 'EXIT'];

const SPECTATE = /^\/replay\/moltstation\/ws\/([a-z0-9_-]+)\/spectate$/;

/** MoltStation's auth message `{"t":"auth","token":"…"}`: its token, or null for any other frame (the platform refuses those). */
export function spectateToken(data: Buffer, binary: boolean): string | null {
  if (binary) return null;
  try {
    const m = JSON.parse(data.toString('utf8')) as { t?: unknown; token?: unknown } | null;
    return m && m.t === 'auth' && typeof m.token === 'string' && m.token ? m.token : null;
  } catch {
    return null;
  }
}

/**
 * MoltStation's spectate stream (`/replay/moltstation/ws/{slug}/spectate?sessionId=…`): the run found by the
 * platform's session id, a token in the query or the `auth` message, MoltStation's own close codes and reasons,
 * its `hello`, the recorded platform frames as they were sent, and the run's recorded close (`1000 GAME_OVER` or
 * `1000 EXIT`, with its recorded code and reason) at its recorded time. Other recorded closes (a spectator's
 * reconnection, the proxy's own) do not end the stream; a recording with no run close (cut short) ends
 * `1000 GAME_OVER` after its last event, as before.
 */
export const moltstationReplay: PlatformReplayStream = {
  match: (pathname) => {
    const m = SPECTATE.exec(pathname);
    return m ? { slug: m[1] as string } : null;
  },
  lookup: 'platform-session-id',
  authMessage: spectateToken,
  authCloses: { invalid: { code: 4001, reason: 'INVALID_TOKEN' }, notFound: { code: 4404, reason: 'TOKEN_NOT_FOUND' }, expired: { code: 4410, reason: 'TOKEN_EXPIRED' } },
  hello: JSON.stringify({ t: 'hello', role: 'spectate', tickHz: 20 }),
  encoder: () => ({
    frame: (e) => (e.kind === 'frame' && e.direction === 'platform_to_client' && typeof e.body === 'string' ? e.body : undefined),
    close: (e) => {
      const c = recordedClose(e);
      return c && c.initiator !== 'proxy' && RUN_CLOSES.includes(c.reason) ? { code: c.code, reason: c.reason } : undefined;
    },
    end: () => ({ code: 1000, reason: 'GAME_OVER' }),
    error: () => ({ code: 1011, reason: 'INTERNAL' }),
  }),
};
