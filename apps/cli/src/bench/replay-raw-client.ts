import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A receive-only WebSocket client for `rewind bench replay`'s 500 streams, lighter than `ws`: one TCP socket, the
 * HTTP upgrade written by hand, and the server's frames cut out of each read as they are (a view of the read, no
 * copy unless a frame spans two reads; no per-message event or Buffer concatenation). Every frame of one read gets
 * the read's arrival time (they arrived together). The bench's clients share one process and one event loop with
 * every other stream's: what this saves per message is time every other stream's arrival does not wait behind.
 *
 * It sends only what the protocol asks of a client: the answer to a close (a masked close frame) and pongs.
 */
export interface RawSocket {
  terminate(): void;
}

export interface RawSocketHandlers {
  /** A complete text or binary message (a view valid during the call). */
  message(payload: Buffer, arrivedAt: number): void;
  /** The socket is gone: the close code received (1005 when none, 1006 when the connection was cut). */
  close(code: number): void;
  error(message: string): void;
}

/** Opens `ws://127.0.0.1:{port}{path}` with the given request headers. */
export function rawReplaySocket(port: number, path: string, headers: Record<string, string>, on: RawSocketHandlers): RawSocket {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  let upgraded = false;
  let pending: Buffer | null = null;
  let closeCode: number | null = null;
  let done = false;
  const finish = (code: number): void => {
    if (done) return;
    done = true;
    on.close(code);
  };
  socket.on('connect', () => {
    const lines = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
    ];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    socket.write(lines.join('\r\n') + '\r\n\r\n');
  });
  socket.on('data', (chunk: Buffer) => {
    const now = performance.now();
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    let at = 0;
    if (!upgraded) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return void (pending = buf);
      const status = buf.toString('latin1', 0, buf.indexOf('\r\n'));
      if (!/^HTTP\/1\.1 101 /.test(status)) {
        on.error(`upgrade refused: ${status}`);
        return void socket.destroy();
      }
      upgraded = true;
      at = end + 4;
    }
    while (buf.length - at >= 2) {
      const b0 = buf[at] as number;
      let len = (buf[at + 1] as number) & 0x7f;
      let head = 2;
      if (len === 126) {
        if (buf.length - at < 4) break;
        len = buf.readUInt16BE(at + 2);
        head = 4;
      } else if (len === 127) {
        if (buf.length - at < 10) break;
        len = Number(buf.readBigUInt64BE(at + 2));
        head = 10;
      }
      if (buf.length - at < head + len) break;
      const payload = buf.subarray(at + head, at + head + len);
      at += head + len;
      const opcode = b0 & 0x0f;
      if (opcode === 1 || opcode === 2) on.message(payload, now);
      else if (opcode === 8) {
        closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        // Answer the close (a client's frames are masked) and let the server end the connection.
        socket.write(maskedFrame(0x88, payload.subarray(0, 2)));
      } else if (opcode === 9) socket.write(maskedFrame(0x8a, payload));
    }
    if (at < buf.length) pending = Buffer.from(buf.subarray(at));
  });
  socket.on('error', (e) => on.error(e.message));
  socket.on('close', () => finish(closeCode ?? 1006));
  return { terminate: () => void socket.destroy() };
}

/** A client frame (FIN, the given first byte) with a masked payload of under 126 bytes. */
function maskedFrame(b0: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const out = Buffer.allocUnsafe(6 + payload.length);
  out[0] = b0;
  out[1] = 0x80 | payload.length;
  mask.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return out;
}
