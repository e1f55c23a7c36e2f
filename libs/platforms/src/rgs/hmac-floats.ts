import { createHash, createHmac } from 'node:crypto';

/**
 * The provably-fair byte stream (the widespread Stake-style scheme):
 *   block(cursor) = HMAC-SHA256(key = serverSeed, message = `${clientSeed}:${nonce}:${cursor}`), cursor = 0, 1, 2, …
 * The server seed is used as given (its 64-character hex text, UTF-8), not hex-decoded. The blocks are
 * concatenated; every 4 consecutive bytes b0..b3 make one float in [0, 1):
 *   f = b0/256 + b1/256² + b2/256³ + b3/256⁴
 * so one block yields 8 floats and the cursor advances for more.
 */
export function hmacFloats(serverSeed: string, clientSeed: string, nonce: number, count: number): number[] {
  const floats: number[] = [];
  for (let cursor = 0; floats.length < count; cursor++) {
    const block = createHmac('sha256', serverSeed).update(`${clientSeed}:${nonce}:${cursor}`).digest();
    for (let i = 0; i + 4 <= block.length && floats.length < count; i += 4) {
      floats.push(bytesToFloat(block[i] as number, block[i + 1] as number, block[i + 2] as number, block[i + 3] as number));
    }
  }
  return floats;
}

export function bytesToFloat(b0: number, b1: number, b2: number, b3: number): number {
  return b0 / 256 + b1 / 256 ** 2 + b2 / 256 ** 3 + b3 / 256 ** 4;
}

/** The commitment shown before play: lowercase hex SHA-256 of the server seed's text (UTF-8). */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
