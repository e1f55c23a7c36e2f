import { randomBytes } from 'node:crypto';
import { testRedisUrl } from '@rewind/testing';
import Redis from 'ioredis';
import { MemoryLog, uniqueName } from './test-support/helpers';
import { CredentialVault } from './vault';

describe('CredentialVault (real Redis)', () => {
  const redisUrl = testRedisUrl();
  let raw: Redis;
  let prefix: string;
  const vaults: CredentialVault[] = [];
  const secret = randomBytes(32);
  const token = 'rgs-session-token-7f3a9c0e1b2d4e5f60718293a4b5c6d7';

  function vault(key = secret, log = new MemoryLog('vault')): CredentialVault {
    const v = new CredentialVault({ redis: redisUrl, secret: key, prefix, log });
    vaults.push(v);
    return v;
  }

  beforeAll(() => {
    raw = new Redis(redisUrl, { maxRetriesPerRequest: null });
  });
  afterAll(() => raw.disconnect());
  beforeEach(() => {
    prefix = uniqueName('vault');
  });
  afterEach(async () => {
    await Promise.all(vaults.splice(0).map((v) => v.close()));
    const keys = await raw.keys(`${prefix}:*`);
    if (keys.length) await raw.del(...keys);
  });

  it('round-trips a credential between processes sharing the secret, with a TTL', async () => {
    const log = new MemoryLog('writer');
    const writer = vault(secret, log);
    const reader = vault(Buffer.from(secret)); // another process, same key file
    await writer.put('rgs:poll:s1', 'sessionToken', token, 60_000);
    expect(await reader.get('rgs:poll:s1', 'sessionToken')).toBe(token);
    expect(await reader.get('rgs:poll:s1', 'bearer')).toBeUndefined();
    const ttl = await raw.pttl(writer.redisKey('rgs:poll:s1', 'sessionToken'));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // Replacing keeps only the latest.
    await writer.put('rgs:poll:s1', 'sessionToken', 'newer-token', 60_000);
    expect(await reader.get('rgs:poll:s1', 'sessionToken')).toBe('newer-token');
    expect(log.lines.join('\n')).not.toContain(token);
  });

  it('reads several credentials of a target in one round trip, each as get reads it (absent, unreadable: undefined)', async () => {
    const log = new MemoryLog('many');
    const writer = vault();
    await writer.put('run:r1', 'bearer', token, 60_000);
    await writer.put('run:r1', 'activity', '1765000000000', 60_000);
    await writer.put('run:r1', 'expires', '1765000360000', 60_000);
    await raw.set(writer.redisKey('run:r1', 'expires'), 'v1.dGFtcGVyZWQtbm90LWEtdmFsaWQtc2VhbGVkLXZhbHVl', 'PX', 60_000);
    // The reader on a connection of its own, watched (not replaced): which commands reach Redis for the read.
    const conn = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const watched = new CredentialVault({ redis: conn, secret: Buffer.from(secret), prefix, log });
    const mget = jest.spyOn(conn, 'mget');
    const get = jest.spyOn(conn, 'get');
    try {
      expect(await watched.getMany('run:r1', ['bearer', 'sessionToken', 'activity', 'expires'])).toEqual([token, undefined, '1765000000000', undefined]);
      expect(mget).toHaveBeenCalledTimes(1);
      expect(get).not.toHaveBeenCalled();
    } finally {
      conn.disconnect();
    }
    expect(log.lines).toEqual([expect.stringMatching(/^warn credential vault: run:r1\/expires does not decrypt/)]);
    expect(log.lines.join('\n')).not.toContain(token);
    expect(await writer.getMany('run:r1', [])).toEqual([]);
  });

  it('stores no clear text: the raw Redis value holds neither the value nor a base64 of it', async () => {
    const v = vault();
    await v.put('cloudplay:poll:c1', 'bearer', token, 60_000);
    const stored = await raw.getBuffer(v.redisKey('cloudplay:poll:c1', 'bearer'));
    expect(stored).not.toBeNull();
    const text = stored!.toString('latin1');
    expect(text.startsWith('v1.')).toBe(true);
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(0, 12));
    expect(text).not.toContain(Buffer.from(token).toString('base64').slice(0, 16));
    expect(Buffer.from(text.slice(3), 'base64').includes(Buffer.from(token.slice(0, 12)))).toBe(false);
    // Same value twice: different ciphertexts (random IV).
    await v.put('cloudplay:poll:c2', 'bearer', token, 60_000);
    expect(await raw.get(v.redisKey('cloudplay:poll:c2', 'bearer'))).not.toBe(text);
  });

  it('another key cannot read it: undefined and a warning, no throw', async () => {
    await vault().put('rgs:poll:s2', 'sessionToken', token, 60_000);
    const log = new MemoryLog('other');
    const other = vault(randomBytes(32), log);
    expect(await other.get('rgs:poll:s2', 'sessionToken')).toBeUndefined();
    expect(log.lines).toEqual([expect.stringMatching(/^warn credential vault: rgs:poll:s2\/sessionToken does not decrypt/)]);
    expect(log.lines.join('\n')).not.toContain(token);
  });

  it('tampered or moved ciphertext reads as undefined with a warning', async () => {
    const log = new MemoryLog('tamper');
    const v = vault(secret, log);
    await v.put('rgs:poll:s3', 'sessionToken', token, 60_000);
    const key = v.redisKey('rgs:poll:s3', 'sessionToken');
    const sealed = (await raw.get(key))!;
    const bytes = Buffer.from(sealed.slice(3), 'base64');
    bytes[bytes.length - 1] ^= 0x01; // flip one bit of the ciphertext
    await raw.set(key, `v1.${bytes.toString('base64')}`, 'PX', 60_000);
    expect(await v.get('rgs:poll:s3', 'sessionToken')).toBeUndefined();

    // A valid ciphertext copied under another target's key does not open either (target id is bound in).
    await raw.set(v.redisKey('rgs:poll:s4', 'sessionToken'), sealed, 'PX', 60_000);
    expect(await v.get('rgs:poll:s4', 'sessionToken')).toBeUndefined();
    await raw.set(v.redisKey('rgs:poll:s5', 'sessionToken'), 'garbage', 'PX', 60_000);
    expect(await v.get('rgs:poll:s5', 'sessionToken')).toBeUndefined();
    expect(log.lines.filter((l) => l.startsWith('warn credential vault:'))).toHaveLength(3);
  });

  it('refuses a short secret and unsafe names', async () => {
    expect(() => new CredentialVault({ redis: redisUrl, secret: randomBytes(16), log: new MemoryLog() })).toThrow(/at least 32 bytes/);
    const v = vault();
    await expect(v.put('rgs:poll:s6', 'a b', 'x', 1000)).rejects.toThrow(/credential vault: name/);
    await expect(v.put('rgs:poll:s6', 'token', 'x', 0)).rejects.toThrow(/ttlMs/);
  });
});
