import { isUtf8 } from 'node:buffer';

/**
 * An incremental RFC 6455 frame parser for one direction of a byte-relayed WebSocket. It does not sit on the bytes:
 * the relay writes each chunk it reads on to the other socket unchanged (client frames stay masked, server frames
 * unmasked), and this parser, fed the same chunks, says which bytes may go now, finds the message boundaries (FIN,
 * fragments, continuation, control frames interleaved), unmasks a copy of client payloads for the record, and hands
 * each complete message to `onMessage` before the bytes that complete it are released to `forward`: the recorder's
 * write-ahead log relies on "recorded before relayed".
 *
 * What it holds back (never forwarded before it is complete and checked, so a refused frame leaves the other side's
 * stream at a frame boundary, where the relay can write its own close frame):
 * - a frame header split over reads (at most 14 bytes);
 * - the final frame of a text message, until its payload is complete and the whole message is valid UTF-8. The
 *   earlier fragments of a fragmented text message are already forwarded by then (ws, on a direct connection,
 *   validates incrementally and would have failed earlier); the peer never sees the message complete, so it never
 *   surfaces there;
 * - close frames: never forwarded as they came; the relay writes its own (same code and reason) once it decided.
 * Everything else (binary frames, non-final text fragments, ping, pong) is released as it arrives, without a copy.
 *
 * Checks, with the close code and the `ws` error code of each (kept so facts and logs read as they did when `ws`
 * terminated both legs): RSV2/3 set (1002 WS_ERR_UNEXPECTED_RSV_2_3), RSV1 without a negotiated extension (1002
 * WS_ERR_UNEXPECTED_RSV_1), reserved opcodes, a continuation without a message or a new message inside a fragmented
 * one (1002 WS_ERR_INVALID_OPCODE), a fragmented control frame (1002 WS_ERR_EXPECTED_FIN), a control payload over 125
 * bytes or a 1-byte close payload (1002 WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH), a mask bit other than the direction
 * requires (1002 WS_ERR_EXPECTED_MASK / WS_ERR_UNEXPECTED_MASK), a 64-bit length over 2^53 - 1 (1009
 * WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH), a message over `maxMessageBytes`, refused at the frame header that crosses
 * it, before any of its payload is buffered (1009 WS_ERR_UNSUPPORTED_MESSAGE_LENGTH), more than `maxFragments` data
 * frames in one message (1008 WS_ERR_TOO_MANY_BUFFERED_PARTS), invalid UTF-8 in a text message or a close reason
 * (1007 WS_ERR_INVALID_UTF8), an invalid close code (1002 WS_ERR_INVALID_CLOSE_CODE).
 */
export interface FrameParserEvents {
  /** Bytes to write on, in order, unchanged. */
  forward(bytes: Buffer): void;
  /**
   * A complete data message: its unmasked payload (a view of the read chunk when it lay whole in one unmasked read, else
   * a fresh buffer; either way the caller may keep it), whether it is binary, and whether its bytes are being forwarded
   * (false once the relay stopped forwarding, e.g. after a close).
   */
  message(payload: Buffer, binary: boolean, forwarded: boolean): void;
  /** A complete ping (0x9) or pong (0xA); already released to `forward` when `forwarded`. */
  control(opcode: number, payload: Buffer, forwarded: boolean): void;
  /** A valid close frame (never forwarded): code 1005 when it had no payload, the reason's raw bytes. The parser stops. */
  close(code: number, reason: Buffer): void;
  /** A protocol violation: nothing of the offending frame was forwarded. The parser stops. */
  error(closeCode: number, wsCode: string): void;
}

export interface FrameParserOptions {
  /** Client-to-server frames (must be masked; their payloads are unmasked into a copy), or server-to-client ones (must not be). */
  masked: boolean;
  maxMessageBytes: number;
  /** Data frames per message, as `ws`'s server default (16384). */
  maxFragments?: number;
}

export const DEFAULT_MAX_FRAGMENTS = 16_384;

const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

const HEAD = 0;
const PAYLOAD = 1;
const STOPPED = 2;

const EMPTY = Buffer.alloc(0);

/** Close codes an endpoint may send (RFC 6455 §7.4, as `ws` checks them). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

export class WsFrameParser {
  /** Cleared by the relay once it stops relaying raw bytes (a close seen, the proxy closing): later frames are parsed and reported, not forwarded. */
  forwarding = true;

  private state = HEAD;
  /** The frame header being read (2 to 14 bytes). */
  private readonly hdr = Buffer.alloc(14);
  private hdrLen = 0;
  private hdrNeed = 2;
  /** Bytes of the current frame read in earlier chunks and not yet released (a split header, a held frame). */
  private held: Buffer[] = [];

  // The current frame.
  private fin = false;
  private opcode = 0;
  private remaining = 0;
  private readonly mask = Buffer.alloc(4);
  private frameMasked = false;
  /** Payload bytes of the current frame seen so far (the mask's phase). */
  private seen = 0;
  /** Released as it arrives (true), held until complete (holdFrame) or dropped (neither). */
  private streamFrame = false;
  private holdFrame = false;

  // The current data message (its fragments so far) and the current control frame's payload.
  private msgOpcode = 0;
  private msgBytes = 0;
  private msgFrames = 0;
  private parts: Buffer[] = [];
  private ctrlParts: Buffer[] = [];

  private readonly maxFragments: number;

  constructor(
    private readonly opts: FrameParserOptions,
    private readonly on: FrameParserEvents,
  ) {
    this.maxFragments = opts.maxFragments ?? DEFAULT_MAX_FRAGMENTS;
  }

  /** True while a forwarded frame is cut between reads: the other side's stream is not at a frame boundary. */
  get midFrame(): boolean {
    return this.state === PAYLOAD && this.streamFrame;
  }

  get stopped(): boolean {
    return this.state === STOPPED;
  }

  /** Stops parsing (the relay gave up on this direction): later chunks are ignored. */
  stop(): void {
    this.state = STOPPED;
    this.held = [];
    this.parts = [];
    this.ctrlParts = [];
  }

  /** Parses one read; releases what may go through `forward` (at most a few writes per read, usually one). */
  push(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    // Start of the run of this chunk's bytes that is pending release (-1: none pending, inside a held or dropped frame).
    let run = this.state === HEAD ? (this.hdrLen === 0 ? 0 : -1) : this.state === PAYLOAD && this.streamFrame ? 0 : -1;
    // Where the current frame began in this chunk (-1: in an earlier chunk).
    let frameStart = this.state === HEAD && this.hdrLen === 0 ? 0 : -1;
    while (i < n) {
      if (this.state === STOPPED) return;
      if (this.state === HEAD) {
        if (this.hdrLen === 0) {
          frameStart = i;
          if (run < 0) run = i;
        }
        while (this.hdrLen < this.hdrNeed && i < n) {
          this.hdr[this.hdrLen++] = chunk[i++] as number;
          if (this.hdrLen === 2) this.hdrNeed = headerLength(this.hdr);
        }
        if (this.hdrLen < this.hdrNeed) {
          // A header cut between reads: held until it can be checked.
          if (frameStart >= 0) {
            if (run >= 0 && frameStart > run) this.on.forward(chunk.subarray(run, frameStart));
            this.held.push(frameStart === 0 ? chunk : chunk.subarray(frameStart));
          } else this.held.push(chunk);
          return;
        }
        const err = this.readHeader();
        if (err !== undefined) {
          // Complete frames before the offending one go on; nothing of it does.
          if (run >= 0 && frameStart > run) this.on.forward(chunk.subarray(run, frameStart));
          this.fail(err[0], err[1]);
          return;
        }
        if (this.streamFrame) {
          if (frameStart < 0) {
            // The frame's header began in an earlier read: release it, the rest of this read follows.
            for (const h of this.held) this.on.forward(h);
            this.held = [];
            run = 0;
          }
        } else {
          // Held or dropped: release what came before it; a held frame's earlier bytes wait in `held`.
          if (run >= 0 && frameStart > run) this.on.forward(chunk.subarray(run, frameStart));
          run = -1;
          if (!this.holdFrame) this.held = [];
        }
        this.state = PAYLOAD;
        this.seen = 0;
      }
      // PAYLOAD (an empty payload completes here too)
      const take = this.remaining < n - i ? this.remaining : n - i;
      if (this.opcode >= OP_CLOSE) this.ctrlParts.push(this.payloadPart(chunk, i, take));
      else if (take > 0) this.parts.push(this.payloadPart(chunk, i, take));
      this.seen += take;
      this.remaining -= take;
      i += take;
      if (this.remaining > 0) {
        // The read ends inside the payload.
        if (this.holdFrame) this.held.push(frameStart > 0 ? chunk.subarray(frameStart) : chunk);
        break;
      }
      if (!this.frameDone()) return;
      if (this.holdFrame) run = this.release(frameStart);
      else if (!this.streamFrame) run = -1;
      this.holdFrame = false;
      this.streamFrame = false;
    }
    if (run >= 0 && n > run && this.state !== STOPPED) this.on.forward(run === 0 ? chunk : chunk.subarray(run, n));
  }

  /** A held frame just completed and passed its checks: its bytes from earlier reads go now; its bytes in this read join the pending run. */
  private release(frameStart: number): number {
    for (const h of this.held) this.on.forward(h);
    this.held = [];
    this.holdFrame = false;
    this.streamFrame = false;
    return frameStart >= 0 ? frameStart : 0;
  }

  /** This frame's payload bytes in `chunk`: a view when unmasked, an unmasked copy when masked. */
  private payloadPart(chunk: Buffer, at: number, len: number): Buffer {
    if (!this.frameMasked) return chunk.subarray(at, at + len);
    const out = Buffer.allocUnsafe(len);
    chunk.copy(out, 0, at, at + len);
    unmask(out, this.mask, this.seen);
    return out;
  }

  /** Decodes and checks a complete header; sets the frame's state. Returns [close code, ws error code] when refused. */
  private readHeader(): [number, string] | undefined {
    const h = this.hdr;
    const b0 = h[0] as number;
    const b1 = h[1] as number;
    this.hdrLen = 0;
    this.hdrNeed = 2;
    if ((b0 & 0x30) !== 0) return [1002, 'WS_ERR_UNEXPECTED_RSV_2_3'];
    if ((b0 & 0x40) !== 0) return [1002, 'WS_ERR_UNEXPECTED_RSV_1'];
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    const len7 = b1 & 0x7f;
    const isControl = opcode >= OP_CLOSE;
    if (opcode === OP_CONT) {
      if (this.msgOpcode === 0) return [1002, 'WS_ERR_INVALID_OPCODE'];
    } else if (opcode === OP_TEXT || opcode === OP_BINARY) {
      if (this.msgOpcode !== 0) return [1002, 'WS_ERR_INVALID_OPCODE'];
    } else if (opcode === OP_CLOSE || opcode === OP_PING || opcode === OP_PONG) {
      if (!fin) return [1002, 'WS_ERR_EXPECTED_FIN'];
      if (len7 > 125 || (opcode === OP_CLOSE && len7 === 1)) return [1002, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'];
    } else return [1002, 'WS_ERR_INVALID_OPCODE'];
    const masked = (b1 & 0x80) !== 0;
    if (this.opts.masked && !masked) return [1002, 'WS_ERR_EXPECTED_MASK'];
    if (!this.opts.masked && masked) return [1002, 'WS_ERR_UNEXPECTED_MASK'];
    let len = len7;
    let at = 2;
    if (len7 === 126) {
      len = h.readUInt16BE(2);
      at = 4;
    } else if (len7 === 127) {
      const hi = h.readUInt32BE(2);
      if (hi > 0x1fffff) return [1009, 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'];
      len = hi * 0x100000000 + h.readUInt32BE(6);
      at = 10;
    }
    if (masked) h.copy(this.mask, 0, at, at + 4);
    if (!isControl) {
      if (len > 0 && this.msgBytes + len > this.opts.maxMessageBytes) return [1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'];
      if (++this.msgFrames > this.maxFragments) return [1008, 'WS_ERR_TOO_MANY_BUFFERED_PARTS'];
      if (opcode !== OP_CONT) this.msgOpcode = opcode;
      this.msgBytes += len;
    }
    this.fin = fin;
    this.opcode = opcode;
    this.remaining = len;
    this.frameMasked = masked;
    // Close frames are never forwarded as they came; the final frame of a text message and a close wait until checked.
    const forwarded = this.forwarding && opcode !== OP_CLOSE;
    this.holdFrame = forwarded && fin && this.msgOpcode === OP_TEXT && !isControl && this.msgBytes > 0;
    this.streamFrame = forwarded && !this.holdFrame;
    return undefined;
  }

  /** The current frame's payload is complete: report it. False when the parser stopped (refused, or a close). */
  private frameDone(): boolean {
    // A held frame completing after the relay stopped forwarding (a close crossed it) is dropped, not released.
    if (this.holdFrame && !this.forwarding) {
      this.holdFrame = false;
      this.held = [];
    }
    const forwarded = this.streamFrame || this.holdFrame;
    this.state = HEAD;
    if (this.opcode >= OP_CLOSE) {
      const payload = joinParts(this.ctrlParts);
      this.ctrlParts = [];
      if (this.opcode !== OP_CLOSE) {
        this.on.control(this.opcode, payload, forwarded);
        return this.state === HEAD;
      }
      if (payload.length === 0) {
        this.stop();
        this.on.close(1005, EMPTY);
        return false;
      }
      const code = payload.readUInt16BE(0);
      if (!isValidCloseCode(code)) return this.fail(1002, 'WS_ERR_INVALID_CLOSE_CODE');
      const reason = payload.subarray(2);
      if (!isUtf8(reason)) return this.fail(1007, 'WS_ERR_INVALID_UTF8');
      this.stop();
      this.on.close(code, reason);
      return false;
    }
    if (!this.fin) return true;
    const binary = this.msgOpcode === OP_BINARY;
    const payload = joinParts(this.parts, this.msgBytes);
    this.parts = [];
    this.msgOpcode = 0;
    this.msgBytes = 0;
    this.msgFrames = 0;
    // Bad UTF-8: the final frame was held, so nothing of it is forwarded (nor recorded).
    if (!binary && !isUtf8(payload)) return this.fail(1007, 'WS_ERR_INVALID_UTF8');
    this.on.message(payload, binary, forwarded);
    return this.state === HEAD;
  }

  private fail(code: number, wsCode: string): false {
    this.stop();
    this.on.error(code, wsCode);
    return false;
  }
}

/** 2 + extended length + mask, from the first two bytes. */
function headerLength(h: Buffer): number {
  const b1 = h[1] as number;
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((b1 & 0x80) !== 0 ? 4 : 0);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * XORs `buf` in place with the 4-byte mask, starting at mask phase `phase` (the payload bytes before it): four bytes at a
 * time through a 32-bit view when the buffer is 4-byte aligned (pool slices are), byte by byte for the rest.
 */
export function unmask(buf: Buffer, mask: Buffer, phase: number): void {
  const len = buf.length;
  let k = 0;
  if (LITTLE_ENDIAN && (buf.byteOffset & 3) === 0 && len >= 16) {
    // The mask as it lines up with this buffer's first byte, read as a little-endian 32-bit word.
    const m32 = ((mask[phase & 3] as number) | ((mask[(phase + 1) & 3] as number) << 8) | ((mask[(phase + 2) & 3] as number) << 16) | ((mask[(phase + 3) & 3] as number) << 24)) >>> 0;
    const words = new Uint32Array(buf.buffer, buf.byteOffset, len >>> 2);
    for (let w = 0; w < words.length; w++) words[w] = (words[w] as number) ^ m32;
    k = words.length << 2;
  }
  for (; k < len; k++) buf[k] = (buf[k] as number) ^ (mask[(phase + k) & 3] as number);
}

function joinParts(parts: Buffer[], total?: number): Buffer {
  if (parts.length === 0) return EMPTY;
  if (parts.length === 1) return parts[0] as Buffer;
  return Buffer.concat(parts, total);
}

/**
 * One frame written by the proxy itself (a close it decides on, or relays): FIN set, unmasked towards a client, masked
 * with a random key towards an upstream (the proxy is the upstream's client).
 */
export function encodeFrame(opcode: number, payload: Buffer, masked: boolean, maskKey?: Buffer): Buffer {
  const len = payload.length;
  const ext = len > 0xffff ? 8 : len > 125 ? 2 : 0;
  const out = Buffer.allocUnsafe(2 + ext + (masked ? 4 : 0) + len);
  out[0] = 0x80 | opcode;
  out[1] = (masked ? 0x80 : 0) | (ext === 8 ? 127 : ext === 2 ? 126 : len);
  let at = 2;
  if (ext === 2) out.writeUInt16BE(len, 2);
  else if (ext === 8) out.writeBigUInt64BE(BigInt(len), 2);
  at += ext;
  if (!masked) {
    payload.copy(out, at);
    return out;
  }
  const key = maskKey ?? randomMask();
  key.copy(out, at, 0, 4);
  at += 4;
  payload.copy(out, at);
  unmask(out.subarray(at), key, 0);
  return out;
}

/** A close frame's payload: the code and the reason bytes, or nothing for 1005 (no code). */
export function closePayload(code: number, reason: Buffer): Buffer {
  if (code === 1005) return EMPTY;
  const out = Buffer.allocUnsafe(2 + reason.length);
  out.writeUInt16BE(code, 0);
  reason.copy(out, 2);
  return out;
}

function randomMask(): Buffer {
  const b = Buffer.allocUnsafe(4);
  for (let k = 0; k < 4; k++) b[k] = (Math.random() * 256) | 0;
  return b;
}
