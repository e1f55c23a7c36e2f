import { markersOf } from './markers';
import { ev } from './test-support/events';

describe('markersOf', () => {
  it('reports marker, gap and outcome events', () => {
    expect(markersOf(ev(7, 1, { kind: 'marker', msgType: 'capture-stopped' }))).toEqual([{ name: 'capture-stopped', seq: 7, offsetUs: 1000, kind: 'marker' }]);
    expect(markersOf(ev(8, 2, { kind: 'gap', msgType: null }))).toEqual([{ name: 'gap', seq: 8, offsetUs: 2000, kind: 'gap' }]);
    expect(markersOf(ev(9, 3, { kind: 'outcome', msgType: 'outcome' }))).toEqual([{ name: 'outcome', seq: 9, offsetUs: 3000, kind: 'outcome' }]);
  });

  it('reports lifecycle close events, not opens', () => {
    expect(markersOf(ev(1, 0, { kind: 'lifecycle', msgType: 'ws-close', format: 'empty', body: null })).map((m) => m.name)).toEqual(['ws-close']);
    expect(markersOf(ev(1, 0, { kind: 'lifecycle', msgType: 'ws-open', format: 'empty', body: null }))).toEqual([]);
  });

  it('reports frames whose events hold death or game_over (MoltStation), once per name', () => {
    const body = JSON.stringify({
      tick: 90,
      events: [
        { t: 'collect', id: 'a' },
        { t: 'death', reason: 'collision', lives: 0 },
        { t: 'game_over', score: 40, reason: 'no_lives' },
      ],
    });
    expect(markersOf(ev(90, 4_500, { body })).map((m) => m.name)).toEqual(['death', 'game_over']);
    const ndjson = [JSON.stringify({ tick: 1, events: [] }), JSON.stringify({ tick: 2, events: [{ t: 'game_over' }] })].join('\n');
    expect(markersOf(ev(2, 0, { format: 'ndjson', body: ndjson })).map((m) => m.name)).toEqual(['game_over']);
  });

  it('ignores ordinary frames, frames merely mentioning the words, non-JSON and other kinds', () => {
    expect(markersOf(ev(1, 0))).toEqual([]);
    expect(markersOf(ev(1, 0, { body: JSON.stringify({ chat: 'death to all', events: [{ t: 'flap' }] }) }))).toEqual([]);
    expect(markersOf(ev(1, 0, { body: 'game_over {' }))).toEqual([]);
    expect(markersOf(ev(1, 0, { kind: 'input', body: JSON.stringify({ events: [{ t: 'death' }] }) }))).toEqual([]);
  });
});
