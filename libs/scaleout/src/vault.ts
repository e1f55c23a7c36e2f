import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import type { CaptureTaskLogger } from '@rewind/capture-facts';
import { ErrorOnce, RedisUnavailableError, fastFailRedis, isConnectionError, whenReady } from './redis';
import { assertKeySafe } from './target';

export const VAULT_KEY_INFO = 'rewind capture credential vault v1';
export const VAULT_SECRET_BYTES = 32;
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface CredentialVaultOptions {
  /** A Redis URL (the vault opens and closes its own connection) or a connection to share. */
  redis: string | Redis;
  /**
   * At least 32 secret bytes, the same in every recorder process (e.g. the installation's key file,
   * `loadOrCreateRedactionKey(dataDir)`): the AES key is derived from it with HKDF, so reusing that key
   * here does not weaken the redaction fingerprints.
   */
  secret: Buffer;
  /** Redis key prefix, default `rewind:vault`. */
  prefix?: string;
  log: Pick<CaptureTaskLogger, 'warn'>;
}

/**
 * The latest credentials per capture target (the RGS session token the proxy saw last, the cloud-play
 * bearer…), shared by recorder processes through Redis and encrypted at rest: AES-256-GCM with a random
 * 96-bit IV per value, the target id and credential name as associated data (a value moved to another key
 * does not decrypt), the key derived with HKDF-SHA256 (info `rewind capture credential vault v1`).
 * Values are never logged. A value that does not decrypt (tampered, other key) reads as undefined with
 * a warning.
 */
export class CredentialVault {
  private readonly key: Buffer;
  private readonly redis: Redis;
  private readonly ownsRedis: boolean;
  private readonly prefix: string;
  private readonly errors: ErrorOnce;

  constructor(private readonly opts: CredentialVaultOptions) {
    if (!Buffer.isBuffer(opts.secret) || opts.secret.length < VAULT_SECRET_BYTES) {
      throw new Error(`credential vault: the secret must be at least ${VAULT_SECRET_BYTES} bytes`);
    }
    this.key = Buffer.from(hkdfSync('sha256', opts.secret, Buffer.alloc(0), VAULT_KEY_INFO, 32));
    this.prefix = opts.prefix ?? 'rewind:vault';
    this.errors = new ErrorOnce((m) => opts.log.warn(m));
    if (typeof opts.redis === 'string') {
      this.redis = fastFailRedis(opts.redis);
      this.redis.on('error', (e: Error) => this.errors.error('credential vault: redis', e));
      this.redis.on('ready', () => this.errors.reset());
      this.ownsRedis = true;
    } else {
      this.redis = opts.redis;
      this.ownsRedis = false;
    }
  }

  /** The Redis key a credential is stored under (ids and names are not secret). */
  redisKey(targetId: string, name: string): string {
    assertKeySafe('credential vault: target id', targetId);
    assertKeySafe('credential vault: name', name);
    return `${this.prefix}:${targetId}:${name}`;
  }

  /** Stores (replaces) a credential for `ttlMs`. */
  async put(targetId: string, name: string, value: string, ttlMs: number): Promise<void> {
    const key = this.redisKey(targetId, name);
    if (typeof value !== 'string') throw new Error('credential vault: value must be a string');
    if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new Error('credential vault: ttlMs must be a positive integer');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(aad(targetId, name));
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const sealed = `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
    await this.call(`put ${targetId}/${name}`, () => this.redis.set(key, sealed, 'PX', ttlMs));
  }

  /** The credential, or undefined when absent, expired or unreadable (tampered, another key). */
  async get(targetId: string, name: string): Promise<string | undefined> {
    const key = this.redisKey(targetId, name);
    const sealed = await this.call(`get ${targetId}/${name}`, () => this.redis.get(key));
    if (sealed === null) return undefined;
    const value = this.open(targetId, name, sealed);
    if (value === undefined) this.opts.log.warn(`credential vault: ${targetId}/${name} does not decrypt (tampered, or sealed with another key); ignoring it`);
    return value;
  }

  /**
   * Several credentials of one target in one round trip (MGET): what `get` gives for each name, in order. A run's
   * follower reads all four of its signals every half second; four GETs each were most of the vault's share of
   * the recorder's time in the soak (issue 18).
   */
  async getMany(targetId: string, names: readonly string[]): Promise<(string | undefined)[]> {
    if (names.length === 0) return [];
    const keys = names.map((name) => this.redisKey(targetId, name));
    const sealed = await this.call(`get ${targetId}/${names.join(',')}`, () => this.redis.mget(...keys));
    return names.map((name, i) => {
      const one = sealed[i];
      if (one === null || one === undefined) return undefined;
      const value = this.open(targetId, name, one);
      if (value === undefined) this.opts.log.warn(`credential vault: ${targetId}/${name} does not decrypt (tampered, or sealed with another key); ignoring it`);
      return value;
    });
  }

  async delete(targetId: string, name: string): Promise<void> {
    const key = this.redisKey(targetId, name);
    await this.call(`delete ${targetId}/${name}`, () => this.redis.del(key));
  }

  /** Closes the connection the vault opened (a shared one is left alone). */
  async close(): Promise<void> {
    if (this.ownsRedis) this.redis.disconnect();
  }

  private open(targetId: string, name: string, sealed: string): string | undefined {
    const dot = sealed.indexOf('.');
    if (dot < 0 || sealed.slice(0, dot) !== VERSION) return undefined;
    const raw = Buffer.from(sealed.slice(dot + 1), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(aad(targetId, name));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (!(await whenReady(this.redis, 1000))) throw new RedisUnavailableError(`credential vault ${what}`);
    try {
      return await fn();
    } catch (e) {
      if (isConnectionError(e) || this.redis.status !== 'ready') throw new RedisUnavailableError(`credential vault ${what}`, e);
      throw e;
    }
  }
}

function aad(targetId: string, name: string): Buffer {
  return Buffer.from(`${targetId}\0${name}`, 'utf8');
}
