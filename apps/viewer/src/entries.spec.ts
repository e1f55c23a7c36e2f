import { entriesOf, entryOf, rgsRoundValues } from './entries.js';
import type { EventView } from './events.js';

const ev = (over: Partial<EventView>): EventView => ({
  seq: 1,
  kind: 'response',
  direction: 'platform_to_client',
  channel: 'http',
  offsetUs: 0,
  format: 'json',
  body: null,
  bodyEncoding: 'utf8',
  msgType: null,
  tick: null,
  requestId: null,
  meta: null,
  ...over,
});

describe('event list entries', () => {
  it('given an RGS /game/play response, when listed, then it is a round with amount, payout, multiplier and balance', () => {
    const body = JSON.stringify({ balance: '98.00', round: { id: 'r-7', amount: '2.00', payout: '0.00', multiplier: '0.00', active: false } });
    const en = entryOf(ev({ seq: 5, msgType: 'POST /rgs/game/play', body, meta: { status: 200 } }));
    expect(en?.kind).toBe('round');
    expect(en?.title).toContain('r-7');
    expect(en?.values).toEqual(['amount 2.00', 'payout 0.00', 'multiplier 0.00', 'balance 98.00']);
  });

  it('given a response without a round, when its values are read, then there are none', () => {
    expect(rgsRoundValues({ balance: '1.00' })).toBeUndefined();
  });

  it('given a poller status-transition marker, when listed, then the title shows from → to', () => {
    const en = entryOf(ev({ kind: 'marker', msgType: 'status-transition', body: '{"from":null,"to":"running","skippedPolls":2}' }));
    expect(en?.kind).toBe('status');
    expect(en?.title).toBe('status ∅ → running');
    expect(en?.values).toEqual(['skippedPolls 2']);
  });

  it('given a command and an HTTP response, when listed, then both appear with direction and status', () => {
    const list = entriesOf([
      ev({ seq: 1, kind: 'command', direction: 'client_to_platform', msgType: 'mine', body: '{"type":"mine","payload":{"target":"asteroid-3"}}' }),
      ev({ seq: 2, kind: 'response', msgType: 'GET /status', body: '{"status":"running","cpuSeconds":3}', meta: { status: 200 } }),
    ]);
    expect(list.map((e) => e.title)).toEqual(['→ mine', '← GET /status 200']);
    expect(list[0]?.values).toEqual(['target asteroid-3']);
    expect(list[1]?.values).toEqual(['status running', 'cpuSeconds 3']);
  });

  it('given plain game frames, when listed, then only frames with notable events appear unless all are asked for', () => {
    const plain = ev({ seq: 1, kind: 'frame', channel: 'play_ws', body: '{"t":"frame","frame":{"tick":1,"events":[{"t":"flap"}]}}' });
    const death = ev({ seq: 2, kind: 'frame', channel: 'play_ws', body: '{"t":"frame","frame":{"tick":2,"score":{"current":4},"events":[{"t":"death","reason":"collision"}]}}' });
    expect(entriesOf([plain, death]).map((e) => e.seq)).toEqual([2]);
    expect(entriesOf([plain, death])[0]?.values).toEqual(['death collision', 'score 4']);
    expect(entriesOf([plain, death], { all: true }).map((e) => e.seq)).toEqual([1, 2]);
  });
});
