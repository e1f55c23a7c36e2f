import { randomBytes } from 'node:crypto';
import { closePayload, encodeFrame, WsFrameParser } from './ws-frame-parser';

const TEXT = 0x1;
const BINARY = 0x2;
const CONT = 0x0;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

/** One frame as a peer would write it: masked (client) with a random key, or not (server); length claimed as asked. */
function frame(opcode: number, payload: Buffer | string, opts: { fin?: boolean; masked?: boolean; rsv?: number; claimLength?: bigint } = {}): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const f = encodeFrame(opcode, body, opts.masked ?? true, opts.masked === false ? undefined : randomBytes(4));
  if (opts.fin === false) f[0] = (f[0] as number) & 0x7f;
  if (opts.rsv) f[0] = (f[0] as number) | opts.rsv;
  if (opts.claimLength !== undefined) {
    const head = Buffer.alloc(10);
    head[0] = f[0] as number;
    head[1] = ((f[1] as number) & 0x80) | 127;
    head.writeBigUInt64BE(opts.claimLength, 2);
    const key = randomBytes(4);
    return Buffer.concat([head, key, Buffer.from(body.map((b, k) => b ^ (key[k & 3] as number)))]);
  }
  return f;
}

type Event =
  | { kind: 'message'; data: Buffer; binary: boolean; forwarded: boolean; forwardedSoFar: number }
  | { kind: 'control'; opcode: number; data: Buffer }
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'error'; code: number; wsCode: string };

/** Feeds `chunks` to a parser; collects what it forwards and what it reports, with how many bytes had gone when each message was reported. */
function run(chunks: Buffer[], opts: { masked?: boolean; maxMessageBytes?: number; maxFragments?: number; stopForwardingAfter?: number } = {}) {
  const forwarded: Buffer[] = [];
  let forwardedBytes = 0;
  const events: Event[] = [];
  const parser = new WsFrameParser(
    { masked: opts.masked ?? true, maxMessageBytes: opts.maxMessageBytes ?? 1 << 20, ...(opts.maxFragments ? { maxFragments: opts.maxFragments } : {}) },
    {
      forward: (b) => {
        forwarded.push(Buffer.from(b));
        forwardedBytes += b.length;
      },
      message: (data, binary, fwd) => {
        events.push({ kind: 'message', data: Buffer.from(data), binary, forwarded: fwd, forwardedSoFar: forwardedBytes });
        if (opts.stopForwardingAfter !== undefined && events.filter((e) => e.kind === 'message').length >= opts.stopForwardingAfter) parser.forwarding = false;
      },
      control: (opcode, data) => events.push({ kind: 'control', opcode, data: Buffer.from(data) }),
      close: (code, reason) => events.push({ kind: 'close', code, reason: reason.toString() }),
      error: (code, wsCode) => events.push({ kind: 'error', code, wsCode }),
    },
  );
  for (const c of chunks) parser.push(c);
  return { out: Buffer.concat(forwarded), events, parser };
}

/** Every way to cut `buf` in two, then one byte at a time. */
function splits(buf: Buffer): Buffer[][] {
  const out: Buffer[][] = [[buf]];
  for (let k = 1; k < buf.length; k++) out.push([buf.subarray(0, k), buf.subarray(k)]);
  out.push(Array.from(buf, (b) => Buffer.from([b])));
  return out;
}

const messages = (events: Event[]) => events.filter((e): e is Extract<Event, { kind: 'message' }> => e.kind === 'message').map((e) => [e.binary ? 'bin' : 'text', e.data.toString('latin1')]);

describe('WsFrameParser', () => {
  it('relays every byte unchanged and reports each message unmasked, whatever the cut (masked client frames)', () => {
    const frames = [frame(TEXT, 'hello ✓'), frame(BINARY, Buffer.from([0, 255, 1])), frame(PING, 'p'), frame(TEXT, '')];
    const stream = Buffer.concat(frames);
    for (const chunks of splits(stream)) {
      const { out, events } = run(chunks);
      expect(out).toEqual(stream);
      expect(messages(events)).toEqual([
        ['text', Buffer.from('hello ✓').toString('latin1')],
        ['bin', '\u0000ÿ\u0001'],
        ['text', ''],
      ]);
      expect(events.filter((e) => e.kind === 'control')).toEqual([{ kind: 'control', opcode: PING, data: Buffer.from('p') }]);
    }
  });

  it('reports a message before the bytes that complete it are forwarded, and holds a final text frame until it is checked', () => {
    const a = frame(BINARY, Buffer.alloc(300, 7));
    const b = frame(TEXT, 'x'.repeat(200));
    const stream = Buffer.concat([a, b]);
    for (const chunks of splits(stream)) {
      const { out, events } = run(chunks);
      expect(out).toEqual(stream);
      const [ma, mb] = events as Extract<Event, { kind: 'message' }>[];
      // binary: streamed, but its last byte not before it was recorded
      expect(ma!.forwardedSoFar).toBeLessThan(a.length);
      // text: nothing of the final frame forwarded before it was checked and recorded
      expect(mb!.forwardedSoFar).toBeLessThanOrEqual(a.length);
    }
  });

  it('joins fragments with control frames interleaved, unmasking across cuts (server frames: unmasked, views of the read)', () => {
    const frames = [frame(TEXT, 'frag-1 ', { fin: false }), frame(PING, 'mid'), frame(CONT, 'frag-2 ✓', { fin: false }), frame(PONG, ''), frame(CONT, ' end')];
    for (const masked of [true, false]) {
      const stream = Buffer.concat(
        masked
          ? frames
          : [
              frame(TEXT, 'frag-1 ', { fin: false, masked: false }),
              frame(PING, 'mid', { masked: false }),
              frame(CONT, 'frag-2 ✓', { fin: false, masked: false }),
              frame(PONG, '', { masked: false }),
              frame(CONT, ' end', { masked: false }),
            ],
      );
      for (const chunks of splits(stream)) {
        const { out, events } = run(chunks, { masked });
        expect(out).toEqual(stream);
        expect(events.map((e) => (e.kind === 'message' ? `msg ${e.data.toString()}` : e.kind === 'control' ? `ctl ${e.opcode} ${e.data.toString()}` : e.kind))).toEqual([
          `ctl ${PING} mid`,
          `ctl ${PONG} `,
          'msg frag-1 frag-2 ✓ end',
        ]);
      }
    }
  });

  it('reads 16-bit and 64-bit lengths', () => {
    const mid = randomBytes(70_000);
    const small = randomBytes(300);
    const stream = Buffer.concat([frame(BINARY, small), frame(BINARY, mid), frame(BINARY, small, { claimLength: 300n })]);
    expect(stream[1]! & 0x7f).toBe(126);
    for (const cut of [1, 2, 3, 4, 5, 8, 310, 320, 70_000, stream.length - 305, stream.length - 1]) {
      const { out, events } = run([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(out).toEqual(stream);
      expect(events.map((e) => (e.kind === 'message' ? e.data : e))).toEqual([small, mid, small]);
    }
  });

  it('a message that lies whole in one unmasked read is handed over without a copy', () => {
    const chunk = frame(BINARY, Buffer.alloc(800, 3), { masked: false });
    let got: Buffer | undefined;
    const p = new WsFrameParser(
      { masked: false, maxMessageBytes: 1 << 20 },
      { forward: () => undefined, message: (d) => (got = d), control: () => undefined, close: () => undefined, error: () => undefined },
    );
    p.push(chunk);
    expect(got!.buffer).toBe(chunk.buffer);
  });

  it('a close is reported with its code and reason and never forwarded; frames before it are, nothing after it is', () => {
    const before = frame(TEXT, 'last words');
    const stream = Buffer.concat([before, frame(CLOSE, closePayload(4321, Buffer.from('bye now'))), frame(TEXT, 'after')]);
    for (const chunks of splits(stream)) {
      const { out, events } = run(chunks);
      expect(out).toEqual(before);
      expect(events.slice(1)).toEqual([{ kind: 'close', code: 4321, reason: 'bye now' }]);
    }
    expect(run([frame(CLOSE, Buffer.alloc(0))]).events).toEqual([{ kind: 'close', code: 1005, reason: '' }]);
  });

  it('once forwarding stops, later frames are still reported (forwarded: false) but not forwarded', () => {
    const a = frame(TEXT, 'one');
    const stream = Buffer.concat([a, frame(TEXT, 'two'), frame(PING, 'x')]);
    for (const chunks of splits(stream)) {
      const { out, events } = run(chunks, { stopForwardingAfter: 1 });
      expect(out).toEqual(a);
      expect(events.map((e) => (e.kind === 'message' ? [e.data.toString(), e.forwarded] : e.kind))).toEqual([['one', true], ['two', false], 'control']);
    }
  });

  it('a held text frame that completes after forwarding stopped is dropped, not released (a close crossed it)', () => {
    const a = frame(BINARY, 'before');
    const held = frame(TEXT, 'held '.repeat(50));
    const stream = Buffer.concat([a, held]);
    for (let cut = a.length + 1; cut < stream.length; cut++) {
      const forwarded: Buffer[] = [];
      const got: [string, boolean][] = [];
      const p = new WsFrameParser(
        { masked: true, maxMessageBytes: 1 << 20 },
        { forward: (b) => forwarded.push(Buffer.from(b)), message: (d, _b, fwd) => got.push([d.toString(), fwd]), control: () => undefined, close: () => undefined, error: () => undefined },
      );
      p.push(stream.subarray(0, cut));
      p.forwarding = false;
      p.push(stream.subarray(cut));
      expect(Buffer.concat(forwarded)).toEqual(a);
      expect(got).toEqual([
        ['before', true],
        ['held '.repeat(50), false],
      ]);
    }
  });

  it.each<[string, Buffer, boolean, number, string]>([
    ['unmasked client frame', frame(TEXT, 'hi', { masked: false }), true, 1002, 'WS_ERR_EXPECTED_MASK'],
    ['masked server frame', frame(TEXT, 'hi'), false, 1002, 'WS_ERR_UNEXPECTED_MASK'],
    ['stray continuation', frame(CONT, 'hi'), true, 1002, 'WS_ERR_INVALID_OPCODE'],
    ['new message inside a fragmented one', Buffer.concat([frame(TEXT, 'a', { fin: false }), frame(BINARY, 'b')]), true, 1002, 'WS_ERR_INVALID_OPCODE'],
    ['reserved opcode', frame(0x3, 'x'), true, 1002, 'WS_ERR_INVALID_OPCODE'],
    ['reserved control opcode', frame(0xb, 'x'), true, 1002, 'WS_ERR_INVALID_OPCODE'],
    ['RSV1 without an extension', frame(TEXT, 'x', { rsv: 0x40 }), true, 1002, 'WS_ERR_UNEXPECTED_RSV_1'],
    ['RSV2', frame(TEXT, 'x', { rsv: 0x20 }), true, 1002, 'WS_ERR_UNEXPECTED_RSV_2_3'],
    ['control frame over 125 bytes', frame(PING, Buffer.alloc(126)), true, 1002, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'],
    ['fragmented control frame', frame(PING, 'x', { fin: false }), true, 1002, 'WS_ERR_EXPECTED_FIN'],
    ['1-byte close payload', frame(CLOSE, Buffer.from([3])), true, 1002, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'],
    ['invalid close code', frame(CLOSE, closePayload(1006, Buffer.alloc(0))), true, 1002, 'WS_ERR_INVALID_CLOSE_CODE'],
    ['bad UTF-8 close reason', frame(CLOSE, Buffer.concat([closePayload(1000, Buffer.alloc(0)), Buffer.from([0xc0, 0xaf])])), true, 1007, 'WS_ERR_INVALID_UTF8'],
    ['bad UTF-8 text', frame(TEXT, Buffer.from([0xed, 0xa0, 0x80])), true, 1007, 'WS_ERR_INVALID_UTF8'],
    ['bad UTF-8 across fragments', Buffer.concat([frame(TEXT, Buffer.from([0xe2, 0x9c]), { fin: false }), frame(CONT, Buffer.from([0x41]))]), true, 1007, 'WS_ERR_INVALID_UTF8'],
    ['64-bit length over 2^53 - 1', frame(BINARY, Buffer.alloc(4), { claimLength: 2n ** 62n }), true, 1009, 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'],
    ['message over the limit', frame(BINARY, Buffer.alloc(2000)), true, 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'],
    [
      'fragments adding up over the limit',
      Buffer.concat(Array.from({ length: 4 }, (_, i) => frame(i ? CONT : TEXT, Buffer.alloc(300, 0x61), { fin: i === 3 }))),
      true,
      1009,
      'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    ],
    ['too many fragments', Buffer.concat(Array.from({ length: 6 }, (_, i) => frame(i ? CONT : TEXT, Buffer.alloc(0), { fin: false }))), true, 1008, 'WS_ERR_TOO_MANY_BUFFERED_PARTS'],
  ])('refuses %s with its close code; nothing of the offending frame is forwarded, whatever the cut', (_what, bad, masked, code, wsCode) => {
    const good = masked ? frame(BINARY, 'ok') : frame(BINARY, 'ok', { masked: false });
    const stream = Buffer.concat([good, bad, good]);
    for (const chunks of splits(stream).slice(0, 400)) {
      const { out, events } = run(chunks, { masked, maxMessageBytes: 1024, maxFragments: 5 });
      expect(events.filter((e) => e.kind === 'error')).toEqual([{ kind: 'error', code, wsCode }]);
      expect(events.at(-1)).toEqual({ kind: 'error', code, wsCode });
      // forwarded: a prefix of the stream that ends on a frame boundary before the offending frame
      expect(stream.subarray(0, out.length)).toEqual(out);
      expect(out.length).toBeGreaterThanOrEqual(chunks.length === 1 ? good.length : 0);
      expect(out.length).toBeLessThanOrEqual(good.length + bad.length - lastFrameLength(bad));
    }
  });

  it('refuses an oversized message at its header, before its payload arrives', () => {
    const head = frame(BINARY, Buffer.alloc(2000)).subarray(0, 8);
    const { events, out } = run([head], { maxMessageBytes: 1024 });
    expect(events).toEqual([{ kind: 'error', code: 1009, wsCode: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' }]);
    expect(out.length).toBe(0);
  });

  it('encodeFrame writes masked frames a parser reads back, with 7-, 16- and 64-bit lengths', () => {
    for (const len of [0, 125, 126, 65_535, 65_536]) {
      const payload = randomBytes(len);
      for (const masked of [true, false]) expect(run([encodeFrame(BINARY, payload, masked)], { masked }).events).toEqual([expect.objectContaining({ kind: 'message', data: payload })]);
    }
  });
});

/** The length of the last frame in `buf` (the offending one in the refusal cases). */
function lastFrameLength(buf: Buffer): number {
  let at = 0;
  let last = buf.length;
  while (at < buf.length) {
    const b1 = buf[at + 1] as number;
    const len7 = b1 & 0x7f;
    const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const len = len7 === 126 ? buf.readUInt16BE(at + 2) : len7 === 127 ? Math.min(Number(buf.readBigUInt64BE(at + 2)), buf.length) : len7;
    const size = 2 + ext + ((b1 & 0x80) !== 0 ? 4 : 0) + len;
    last = Math.min(size, buf.length - at);
    at += size;
  }
  return last;
}
