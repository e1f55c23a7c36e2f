import { recordedClose, type PlatformReplayStream } from '../replay';

/**
 * SpaceMolt's `/ws` (`/replay/spacemolt/ws?sessionId=…`): what the platform sent on the game socket, as it was
 * sent (its spectators do not talk: their frames are ignored), then the socket's recorded close at its time — the
 * platform's (`1000` on logout, `4001 session replaced…`) or the agent's. A run is one connection, so its first
 * close on the game socket ends it. A close by the recording proxy (its shutdown, a protocol error) is not the
 * platform's: such a recording, like one cut short, ends `1000 end of recording` after its last event.
 */
export const spacemoltReplay: PlatformReplayStream = {
  match: (pathname) => (pathname === '/replay/spacemolt/ws' ? {} : null),
  lookup: 'session-id',
  encoder: () => ({
    frame: (e) => (e.channel === 'play_ws' && e.direction === 'platform_to_client' && e.kind !== 'lifecycle' ? (e.body ?? '') : undefined),
    close: (e) => {
      const c = e.channel === 'play_ws' ? recordedClose(e) : undefined;
      return c && c.initiator !== 'proxy' ? { code: c.code, reason: c.reason } : undefined;
    },
    end: () => ({ code: 1000, reason: 'end of recording' }),
  }),
};
