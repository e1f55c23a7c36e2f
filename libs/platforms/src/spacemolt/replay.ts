import type { PlatformReplayStream } from '../replay';

/**
 * SpaceMolt's `/ws` (`/replay/spacemolt/ws?sessionId=…`): what the platform sent on the game socket, as it was
 * sent (its spectators do not talk: their frames are ignored).
 */
export const spacemoltReplay: PlatformReplayStream = {
  match: (pathname) => (pathname === '/replay/spacemolt/ws' ? {} : null),
  lookup: 'session-id',
  encoder: () => ({
    frame: (e) => (e.channel === 'play_ws' && e.direction === 'platform_to_client' && e.kind !== 'lifecycle' ? (e.body ?? '') : undefined),
    end: () => ({ code: 1000, reason: 'end of recording' }),
  }),
};
