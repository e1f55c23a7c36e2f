import type { RunView, SessionView } from './events.js';
import { auditBadgeFor, auditStatusFor, durationText, filtersFromSearch, outcomeText, searchFromFilters, visibleSessions } from './sessions-list.js';

const session = (over: Partial<SessionView>): SessionView => ({
  id: 's1',
  platform: 'moltstation',
  game: 'flappybots',
  platformSessionId: 'ps-1',
  agent: 'bot',
  source: null,
  status: 'ended',
  startedAt: '2024-01-01T00:00:00Z',
  endedAt: '2024-01-01T00:02:05Z',
  events: 10,
  outcome: null,
  metadata: { stream: 'run', capturedBy: 'proxy' },
  ...over,
});
const run = (over: Partial<RunView>): RunView => ({
  runKey: 'k',
  platform: 'moltstation',
  game: 'flappybots',
  agent: 'bot',
  platformSessionId: 'ps-1',
  runSessionId: null,
  auditStatus: 'ok',
  ...over,
});

describe('sessions list', () => {
  it('given filters, when written to the page URL and read back, then they round-trip', () => {
    const f = { platform: 'rgs', game: 'dice', status: 'open', agent: 'a1', from: '2024-05-01T10:00', allStreams: true };
    const search = searchFromFilters(f);
    expect(search).toContain('platform=rgs');
    expect(search).toContain('all=1');
    expect(filtersFromSearch(search)).toEqual(f);
    expect(searchFromFilters({})).toBe('');
  });

  it('given run and account streams, when shown by default, then only run streams remain; with all, everything', () => {
    const list = [session({ id: 'a' }), session({ id: 'b', metadata: { stream: 'account', capturedBy: 'poller' } }), session({ id: 'c', metadata: null })];
    expect(visibleSessions(list, false).map((s) => s.id)).toEqual(['a']);
    expect(visibleSessions(list, true).map((s) => s.id)).toEqual(['a', 'b', 'c']);
  });

  it('given runs, when a session is matched, then it is by platform session id on the same platform, or by run session id', () => {
    const runs = [
      run({ platform: 'rgs', platformSessionId: 'ps-1', auditStatus: 'mismatch' }),
      run({ platformSessionId: 'ps-1', auditStatus: 'unverifiable' }),
      run({ platformSessionId: 'x', runSessionId: 's9', auditStatus: 'ok' }),
    ];
    expect(auditStatusFor(session({}), runs)).toBe('unverifiable');
    expect(auditStatusFor(session({ id: 's9', platformSessionId: null }), runs)).toBe('ok');
    expect(auditStatusFor(session({ platformSessionId: 'none' }), runs)).toBeNull();
    expect(auditBadgeFor(session({ platformSessionId: 'none', metadata: { stream: 'account' } }), runs)).toBeNull();
    expect(auditBadgeFor(session({ platformSessionId: 'none' }), runs)).toBe('pending');
    expect(auditBadgeFor(session({}), [run({ auditStatus: null })])).toBe('pending');
    expect(auditBadgeFor(session({}), runs)).toBe('unverifiable');
  });

  it('given times and outcomes, when shown, then they are short texts', () => {
    expect(durationText('2024-01-01T00:00:00Z', '2024-01-01T00:02:05Z')).toBe('2m 05s');
    expect(durationText('2024-01-01T00:00:00Z', null, Date.parse('2024-01-01T00:00:09Z'))).toBe('9s');
    expect(outcomeText({ score: { current: 33 }, reason: 'OBSTACLE_COLLISION' })).toBe('reason OBSTACLE_COLLISION · score 33');
    expect(outcomeText(null)).toBe('');
  });
});
