import { createHash, createHmac } from 'node:crypto';
import { bytesToFloat, hmacFloats, sha256Hex } from './hmac-floats';

describe('hmac-floats', () => {
  const serverSeed = 'a'.repeat(64);

  it('given the byte stream, when 9 floats are drawn, then 8 come from cursor 0 and the 9th from cursor 1', () => {
    // given
    const block0 = createHmac('sha256', serverSeed).update('client:7:0').digest();
    const block1 = createHmac('sha256', serverSeed).update('client:7:1').digest();
    // when
    const floats = hmacFloats(serverSeed, 'client', 7, 9);
    // then
    expect(floats).toHaveLength(9);
    for (let i = 0; i < 8; i++) expect(floats[i]).toBe(bytesToFloat(block0[4 * i]!, block0[4 * i + 1]!, block0[4 * i + 2]!, block0[4 * i + 3]!));
    expect(floats[8]).toBe(bytesToFloat(block1[0]!, block1[1]!, block1[2]!, block1[3]!));
  });

  it('given 4 bytes, when converted, then the float is big-endian base-256 in [0, 1)', () => {
    expect(bytesToFloat(0, 0, 0, 0)).toBe(0);
    expect(bytesToFloat(128, 0, 0, 0)).toBe(0.5);
    expect(bytesToFloat(0, 128, 0, 0)).toBe(0.5 / 256);
    expect(bytesToFloat(255, 255, 255, 255)).toBeLessThan(1);
  });

  it('given a different client seed or nonce, when drawing, then the stream differs', () => {
    const base = hmacFloats(serverSeed, 'c', 1, 4);
    expect(hmacFloats(serverSeed, 'c', 2, 4)).not.toEqual(base);
    expect(hmacFloats(serverSeed, 'd', 1, 4)).not.toEqual(base);
    expect(hmacFloats(serverSeed, 'c', 1, 4)).toEqual(base);
  });

  it('given a seed text, when hashed, then it is the hex SHA-256 of its UTF-8 text', () => {
    expect(sha256Hex(serverSeed)).toBe(createHash('sha256').update(Buffer.from(serverSeed, 'utf8')).digest('hex'));
  });
});
