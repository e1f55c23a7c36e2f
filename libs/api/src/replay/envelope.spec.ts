import type { ReplayRow } from '@rewind/event-store';
import { envelope, envelopeJson } from './gateway';

const row = (over: Partial<ReplayRow> = {}): ReplayRow => ({
  seq: 42,
  offsetUs: 1_234_567,
  kind: 'frame',
  direction: 'platform_to_client',
  channel: 'spectate_ws',
  format: 'json',
  body: '{"t":"frame","x":"a \\"quoted\\" \\u2028 line\\nbreak","é":1}',
  msgType: 'frame',
  tick: 17,
  meta: null,
  ...over,
});

describe('envelopeJson', () => {
  it('writes exactly the text of JSON.stringify(envelope(row)), for text, binary and empty bodies and null columns', () => {
    const rows = [
      row(),
      row({ body: Buffer.from([0, 1, 2, 250, 255]), format: 'binary' }),
      row({ body: null, format: 'empty', kind: 'lifecycle', msgType: 'ws-close "x"', tick: null, direction: 'internal', channel: 'internal' }),
      row({ body: 'plain text with </script> and \t tab', format: 'text' }),
    ] as ReplayRow[];
    for (const r of rows) {
      expect(envelopeJson(r)).toBe(JSON.stringify(envelope(r)));
      expect(JSON.parse(envelopeJson(r))).toEqual(envelope(r));
    }
  });
});
