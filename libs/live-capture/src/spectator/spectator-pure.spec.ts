import { backoffDelay } from './backoff';
import { MoltStationApiError, parseLiveList } from './live-list';

describe('backoffDelay', () => {
  it('doubles from the initial delay, is capped, and jitters within [d/2, d]', () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    expect(backoffDelay(1000, policy, () => 0.5)).toBe(750);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(3, policy);
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
  });
  it('uses 250 ms / 5 s by default', () => {
    expect(backoffDelay(1, {}, () => 1)).toBe(250);
    expect(backoffDelay(50, {}, () => 1)).toBe(5000);
  });
});

describe('parseLiveList', () => {
  it('parses the documented shape', () => {
    const body = JSON.stringify({
      sessions: [{ sessionId: 'ms_1', slug: 'flappybots', source: 'agent_api', status: 'live', phase: 'running', tick: 12, spectators: { current: 1, max: 25 }, tickHz: 20 }],
    });
    expect(parseLiveList(body)).toEqual([
      expect.objectContaining({ sessionId: 'ms_1', slug: 'flappybots', source: 'agent_api', status: 'live', phase: 'running', tick: 12, spectators: { current: 1, max: 25 }, tickHz: 20 }),
    ]);
    expect(parseLiveList('{"sessions":[]}')).toEqual([]);
  });
  it.each([
    ['not JSON', '<html>', /not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['no sessions', '{"items":[]}', /no "sessions" array/],
    ['an entry without id', '{"sessions":[{"slug":"flappybots","status":"live"}]}', /sessions\[0\]\.sessionId/],
    ['an entry without status', '{"sessions":[{"sessionId":"ms_1","slug":"flappybots"}]}', /sessions\[0\]\.status/],
    ['a non-object entry', '{"sessions":[null]}', /sessions\[0\] is not an object/],
  ])('rejects %s with a clear error', (_name, body, message) => {
    expect(() => parseLiveList(body)).toThrow(MoltStationApiError);
    expect(() => parseLiveList(body)).toThrow(message);
  });
});
