import { moltstationReplay } from './moltstation/replay';
import { recordedClose, type ReplayedEvent } from './replay';
import { spacemoltReplay } from './spacemolt/replay';

const close = (code: number, reason: string, initiator: string, channel: ReplayedEvent['channel'] = 'play_ws'): ReplayedEvent => ({
  kind: 'lifecycle',
  direction: initiator === 'platform' ? 'platform_to_client' : initiator === 'client' ? 'client_to_platform' : 'internal',
  channel,
  body: null,
  msgType: 'ws-close',
  meta: JSON.stringify({ code, reason, initiator }),
});
const frame: ReplayedEvent = { kind: 'frame', direction: 'platform_to_client', channel: 'play_ws', body: '{"t":"frame","frame":{"tick":1}}', msgType: 'frame', meta: null };

describe('the recorded close of a platform replay stream', () => {
  it('reads a ws-close lifecycle event (code, reason, initiator; the initiator from the direction when meta has none), and nothing else', () => {
    expect(recordedClose(close(4001, 'session replaced', 'platform'))).toEqual({ code: 4001, reason: 'session replaced', initiator: 'platform' });
    expect(recordedClose({ ...close(1000, '', 'client'), meta: '{"code":1000}' })).toEqual({ code: 1000, reason: '', initiator: 'client' });
    expect(recordedClose(frame)).toBeUndefined();
    expect(recordedClose({ ...close(1000, '', 'client'), meta: 'not json' })).toBeUndefined();
  });

  it("MoltStation: the run's GAME_OVER / EXIT close ends the stream with its recorded code and reason; a spectator's reconnection or the proxy's close does not", () => {
    const e = moltstationReplay.encoder();
    expect(e.close?.(close(1000, 'GAME_OVER', 'platform', 'spectate_ws'))).toEqual({ code: 1000, reason: 'GAME_OVER' });
    expect(e.close?.(close(1000, 'EXIT', 'platform'))).toEqual({ code: 1000, reason: 'EXIT' });
    expect(e.close?.(close(1006, '', 'platform', 'spectate_ws'))).toBeUndefined();
    expect(e.close?.(close(1001, 'rewind proxy shutting down', 'proxy'))).toBeUndefined();
    expect(e.close?.(frame)).toBeUndefined();
    expect(e.frame(frame)).toBe(frame.body);
    expect(e.end()).toEqual({ code: 1000, reason: 'GAME_OVER' });
  });

  it("SpaceMolt: the game socket's close by the platform or the agent ends the stream as recorded; the proxy's does not (a cut recording ends `1000 end of recording`)", () => {
    const e = spacemoltReplay.encoder();
    expect(e.close?.(close(4001, 'session replaced: logged in from another connection', 'platform'))).toEqual({ code: 4001, reason: 'session replaced: logged in from another connection' });
    expect(e.close?.(close(1000, 'bye', 'client'))).toEqual({ code: 1000, reason: 'bye' });
    expect(e.close?.(close(1001, 'rewind proxy shutting down', 'proxy'))).toBeUndefined();
    expect(e.close?.(close(4001, 'x', 'platform', 'http'))).toBeUndefined();
    expect(e.end()).toEqual({ code: 1000, reason: 'end of recording' });
  });
});
