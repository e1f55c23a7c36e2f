import type { ReplayRow } from '@rewind/event-store';
import { markersOf } from '@rewind/replay';
import { encodeRow, envelope } from './gateway';

const row = (over: Partial<ReplayRow>): ReplayRow =>
  ({
    seq: 7,
    offsetUs: 350_000,
    kind: 'frame',
    direction: 'platform_to_client',
    channel: 'spectate_ws',
    format: 'json',
    body: '{"t":"frame","tick":3,"events":[]}',
    msgType: 'frame',
    tick: 3,
    meta: null,
    ...over,
  }) as ReplayRow;

describe('the gateway encodes /replay rows as their page arrives', () => {
  it("holds the envelope's exact bytes, text and binary bodies alike", () => {
    for (const r of [row({}), row({ format: 'binary', body: Buffer.from([0, 1, 2, 255]) }), row({ body: 'with "quotes" and é' })]) {
      const e = encodeRow(r);
      expect(e.frame.toString('utf8')).toBe(JSON.stringify(envelope(r)));
      expect(e.seq).toBe(r.seq);
      expect(e.offsetUs).toBe(r.offsetUs);
    }
  });

  it('drops the stored body unless the row is a marker, so the markers stay those of the stored row', () => {
    const plain = row({});
    expect(encodeRow(plain).body).toBe('');
    const cases = [
      plain,
      row({ body: '{"t":"frame","events":[{"t":"death"},{"t":"game_over"}]}' }),
      row({ format: 'ndjson', body: '{"events":["death"]}\n{"events":[]}' }),
      row({ body: '{"note":"death is only a word here"}' }),
      row({ kind: 'marker', msgType: 'checkpoint', body: null }),
      row({ kind: 'gap', msgType: 'capture_restart', body: null }),
      row({ kind: 'lifecycle', msgType: 'ws_close', body: '{"code":1000}' }),
      row({ kind: 'outcome', msgType: null, body: '{"score":3}' }),
    ];
    for (const r of cases) expect(markersOf(encodeRow(r))).toEqual(markersOf(r));
    expect(markersOf(encodeRow(cases[1] as ReplayRow)).map((m) => m.name)).toEqual(['death', 'game_over']);
  });
});
