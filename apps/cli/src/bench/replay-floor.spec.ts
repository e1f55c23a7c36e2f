import { dueAt, envelopeText, serveDue, serverFrame, type FloorSession, type FloorStream } from './replay-floor';

const session = (id: string, n: number, stepUs = 50_000): FloorSession => ({
  id,
  frames: Array.from({ length: n }, (_, i) => Buffer.from(`e${i + 1}`)),
  offsetsUs: Float64Array.from({ length: n }, (_, i) => (i + 1) * stepUs),
  seqs: Int32Array.from({ length: n }, (_, i) => i + 1),
  hello: '{}',
});

const stream = (s: FloorSession, anchorMs: number, start = 0, speed = 1): FloorStream => ({ session: s, start, next: start, anchorMs, speed });

describe('bench replay floor: the shared timer', () => {
  it('puts event i at anchor + (offset_i − offset_start)/speed', () => {
    const s = stream(session('a', 5), 1000, 2, 2);
    expect(dueAt(s, 2)).toBe(1000);
    expect(dueAt(s, 4)).toBe(1050); // 100 ms recorded, at speed 2
  });

  it('sends every due event of every stream in seq order, once, and says when the next is due', () => {
    const a = stream(session('a', 4), 0);
    const b = stream(session('b', 4), 20);
    const streams = [a, b];
    const sent: string[] = [];
    const ended: string[] = [];
    const send = (s: FloorStream, i: number) => sent.push(`${s.session.id}${s.session.seqs[i]}`);
    const end = (s: FloorStream) => ended.push(s.session.id);

    expect(serveDue(streams, 0, send, end)).toBe(20); // a1 sent; b1 due at 20
    expect(serveDue(streams, 10, send, end)).toBe(20); // nothing due: nothing sent twice
    expect(serveDue(streams, 120, send, end)).toBe(150); // late wake-up: a2, a3 and b1, b2, b3 all go, in order
    expect(sent).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);
    expect(serveDue(streams, 150, send, end)).toBe(170);
    expect(ended).toEqual(['a']);
    expect(streams).toEqual([b]);
    expect(serveDue(streams, 1000, send, end)).toBe(Infinity);
    expect(ended).toEqual(['a', 'b']);
    expect(streams).toEqual([]);
    expect(sent).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'a4', 'b4']);
  });

  it("encodes an event as the gateway's /replay envelope", () => {
    const text = envelopeText({ seq: 7, offsetUs: 350_000, kind: 'ws_frame', direction: 'in', channel: 'ws', format: 'json', body: '{"t":1}', msgType: 'frame', tick: 3, meta: null } as never);
    expect(JSON.parse(text)).toEqual({
      type: 'event',
      seq: 7,
      offsetUs: 350_000,
      kind: 'ws_frame',
      direction: 'in',
      channel: 'ws',
      msgType: 'frame',
      tick: 3,
      format: 'json',
      encoding: 'utf8',
      data: '{"t":1}',
    });
    // The bench's clients read seq and offset from the first bytes, as they do from the gateway's frames.
    expect(text.startsWith('{"type":"event","seq":7,"offsetUs":350000')).toBe(true);
    expect(
      JSON.parse(envelopeText({ seq: 1, offsetUs: 0, kind: 'ws_frame', direction: 'in', channel: null, format: 'binary', body: Buffer.from([1, 2]), msgType: null, tick: null, meta: null } as never)),
    ).toMatchObject({ encoding: 'base64', data: 'AQI=' });
  });

  it('frames each event as a server text frame (FIN, opcode 1, unmasked, 7- / 16- / 64-bit length) in one buffer', () => {
    const small = serverFrame(1, Buffer.from('hi'));
    expect([...small]).toEqual([0x81, 2, 0x68, 0x69]);
    const mid = serverFrame(1, Buffer.alloc(600, 0x61));
    expect([mid[0], mid[1], mid.readUInt16BE(2), mid.length]).toEqual([0x81, 126, 600, 604]);
    expect(mid.subarray(4).equals(Buffer.alloc(600, 0x61))).toBe(true);
    const big = serverFrame(1, Buffer.alloc(70_000));
    expect([big[1], Number(big.readBigUInt64BE(2)), big.length]).toEqual([127, 70_000, 70_010]);
    expect([...serverFrame(8, Buffer.from([0x03, 0xe8]))]).toEqual([0x88, 2, 0x03, 0xe8]);
  });
});
