import fc from 'fast-check';
import { BODY_FORMATS, CHANNELS, DIRECTIONS, EVENT_KINDS } from '@rewind/platforms';
import type { ReplayRow } from '@rewind/event-store';
import { envelope, envelopeFrame } from './envelope';

// Any UTF-16 text: control characters, quotes, backslashes, astral characters and lone surrogates included.
const anyText = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('"', '\\', '\n', '\u2028', '🦀', 'é', '\u007f'),
  ),
  maxLength: 60,
});

const row: fc.Arbitrary<ReplayRow> = fc.record({
  seq: fc.integer({ min: 1, max: 2_147_483_647 }),
  offsetUs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  kind: fc.constantFrom(...EVENT_KINDS),
  direction: fc.constantFrom(...DIRECTIONS),
  channel: fc.constantFrom(...CHANNELS),
  format: fc.constantFrom(...BODY_FORMATS),
  body: fc.oneof(
    anyText,
    fc.constant(null),
    fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    fc.json(),
  ),
  msgType: fc.option(anyText),
  tick: fc.option(fc.integer({ min: -2_147_483_648, max: 2_147_483_647 })),
  meta: fc.option(anyText),
});

describe("/replay/:id's envelope as bytes", () => {
  it('is JSON.stringify(envelope(row)) in UTF-8, byte for byte (property)', () => {
    fc.assert(
      fc.property(row, (r) => {
        expect(envelopeFrame(r).equals(Buffer.from(JSON.stringify(envelope(r)), 'utf8'))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('holds bodies larger than its working buffer, and each frame is its own copy', () => {
    const big: ReplayRow = {
      seq: 7,
      offsetUs: 350_000,
      kind: 'frame',
      direction: 'platform_to_client',
      channel: 'play_ws',
      format: 'json',
      body: `{"s":"${'"\\é🦀\u0001'.repeat(20_000)}"}`,
      msgType: 'tick',
      tick: 7,
      meta: null,
    };
    const first = envelopeFrame(big);
    expect(first.equals(Buffer.from(JSON.stringify(envelope(big))))).toBe(true);
    const small = envelopeFrame({ ...big, body: '{}', seq: 8 });
    expect(small.toString()).toBe(JSON.stringify(envelope({ ...big, body: '{}', seq: 8 })));
    expect(first.equals(Buffer.from(JSON.stringify(envelope(big))))).toBe(true);
  });

  it('leaves out what JSON.stringify leaves out (an undefined field)', () => {
    const r = { seq: 1, offsetUs: 0, kind: 'frame', direction: 'internal', channel: 'internal', format: 'text', body: 'x' } as unknown as ReplayRow;
    expect(envelopeFrame(r).toString()).toBe(JSON.stringify(envelope(r)));
  });
});
