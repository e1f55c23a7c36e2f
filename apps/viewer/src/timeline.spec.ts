import { markerPercent, markersOf } from './timeline.js';

const frame = (seq: number, events: unknown[], extra: Record<string, unknown> = {}) => ({
  seq,
  offsetUs: seq * 1000,
  kind: 'frame',
  direction: 'platform_to_client',
  channel: 'play_ws',
  msgType: 'frame',
  body: JSON.stringify({ t: 'frame', frame: { tick: seq, events, ...extra } }),
  bodyEncoding: 'utf8',
});

describe('timeline markers', () => {
  it('given frames with death/powerup/game_over events, when markers are made, then each is a marker at its seq', () => {
    const ms = markersOf([
      frame(1, [{ t: 'reset' }]),
      frame(2, [{ t: 'death', reason: 'collision', lives: 2 }]),
      frame(3, [
        { t: 'powerup', id: 'p-1', kind: 'InvincibilityPowerUp' },
        { t: 'collect', id: 'c-1' },
      ]),
      frame(4, [{ t: 'game_over', score: 33, reason: 'no_lives' }]),
    ]);
    expect(ms.map((m) => [m.seq, m.kind])).toEqual([
      [2, 'death'],
      [3, 'powerup'],
      [4, 'game_over'],
    ]);
    expect(ms[0]?.label).toContain('collision');
    expect(ms[2]?.label).toContain('33');
  });

  it('given a base64 frame body, when markers are made, then it is decoded first', () => {
    const f = frame(7, [{ t: 'death', reason: 'starvation', lives: 0 }]);
    const ms = markersOf([{ ...f, body: btoa(f.body), bodyEncoding: 'base64' }]);
    expect(ms).toHaveLength(1);
    expect(ms[0]?.kind).toBe('death');
  });

  it('given gap, outcome, ws-close and status-transition events, when markers are made, then each becomes a marker', () => {
    const ms = markersOf([
      { seq: 10, offsetUs: 1, kind: 'gap', msgType: 'poller-resumed', body: '{}', bodyEncoding: 'utf8' },
      { seq: 11, offsetUs: 2, kind: 'lifecycle', msgType: 'ws-close', body: null },
      { seq: 12, offsetUs: 3, kind: 'lifecycle', msgType: 'ws-open', body: null },
      { seq: 13, offsetUs: 4, kind: 'marker', msgType: 'status-transition', body: '{"from":"queued","to":"running","skippedPolls":3}', bodyEncoding: 'utf8' },
      { seq: 14, offsetUs: 5, kind: 'outcome', msgType: null, body: '{"score":3}', bodyEncoding: 'utf8' },
    ]);
    expect(ms.map((m) => m.kind)).toEqual(['gap', 'close', 'status', 'outcome']);
    expect(ms[0]?.label).toBe('gap: poller-resumed');
    expect(ms[2]?.label).toBe('status queued → running');
  });

  it('given spectator frames of another channel or direction, when markers are made, then they are ignored', () => {
    expect(markersOf([{ ...frame(5, [{ t: 'death', reason: 'collision' }]), channel: 'http' }])).toEqual([]);
    expect(markersOf([{ ...frame(5, [{ t: 'death', reason: 'collision' }]), direction: 'client_to_platform' }])).toEqual([]);
  });

  it('given a seq on a range, when placed, then the percent is proportional and clamped', () => {
    expect(markerPercent(1, 1, 101)).toBe(0);
    expect(markerPercent(51, 1, 101)).toBe(50);
    expect(markerPercent(500, 1, 101)).toBe(100);
    expect(markerPercent(3, 1, 1)).toBe(0);
  });
});
