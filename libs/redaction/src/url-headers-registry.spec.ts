import { Redactor } from './redactor';
import { fingerprintOf } from './fingerprint';

const KEY = Buffer.alloc(32, 3);
const fp = (secret: string): string => fingerprintOf(KEY, secret);

describe('Redactor.redactUrl', () => {
  it('given credential query parameters, when redacted, then only their values change and the order is kept', () => {
    const r = new Redactor(KEY);
    const url = '/ws/shellrunners/play?sessionId=1b2c&Token=tok-11112222&x=1&spectateToken=sp%2B33334444&empty=&key#frag';
    expect(r.redactUrl(url)).toBe(`/ws/shellrunners/play?sessionId=1b2c&Token=${fp('tok-11112222')}&x=1&spectateToken=${fp('sp+33334444')}&empty=&key#frag`);
  });

  it('given a path without a query, then it is unchanged', () => {
    const r = new Redactor(KEY);
    expect(r.redactUrl('/api/v1/games/shellrunners')).toBe('/api/v1/games/shellrunners');
  });
});

describe('Redactor.redactHeaders', () => {
  it('given credential headers, when redacted, then the scheme, cookie names and attributes stay and the rest is unchanged', () => {
    const r = new Redactor(KEY);
    const out = r.redactHeaders([
      ['Host', 'example.test'],
      ['Authorization', 'Bearer eyJhbGciOi.payload.sig'],
      ['x-session-id', 'abcdef0123456789'],
      ['Cookie', 'sid=cookie-value-1; theme=dark'],
      ['Set-Cookie', 'sid=cookie-value-2; Path=/; HttpOnly'],
      ['X-Api-Key', 'k-ABCDEFGHIJ'],
      ['Proxy-Authorization', 'Basic dXNlcjpwYXNz'],
      ['Accept', 'application/json'],
    ]);
    expect(out).toEqual([
      ['Host', 'example.test'],
      ['Authorization', `Bearer ${fp('eyJhbGciOi.payload.sig')}`],
      ['x-session-id', fp('abcdef0123456789')],
      ['Cookie', `sid=${fp('cookie-value-1')}; theme=${fp('dark')}`],
      ['Set-Cookie', `sid=${fp('cookie-value-2')}; Path=/; HttpOnly`],
      ['X-Api-Key', fp('k-ABCDEFGHIJ')],
      ['Proxy-Authorization', `Basic ${fp('dXNlcjpwYXNz')}`],
      ['Accept', 'application/json'],
    ]);
  });

  it('given a bearer token in one header, when another header repeats it, then it is replaced there too', () => {
    const r = new Redactor(KEY);
    const out = r.redactHeaders([
      ['x-forwarded-auth', 'copy of rgs-token-0001'],
      ['authorization', 'Bearer rgs-token-0001'],
    ]);
    expect(out).toEqual([
      ['x-forwarded-auth', `copy of ${fp('rgs-token-0001')}`],
      ['authorization', `Bearer ${fp('rgs-token-0001')}`],
    ]);
  });
});

describe('SecretRegistry (via Redactor)', () => {
  it('given a token first seen in a response body, when it later appears in a URL, another body or a binary frame, then it gets the same fingerprint', () => {
    const r = new Redactor(KEY);
    r.redactText('{"playToken":"pt_5f4e3d2c1b0a","expiresAt":"2026-11-23T10:00:00Z"}');
    const f = fp('pt_5f4e3d2c1b0a');
    expect(r.redactUrl('/ws/play/pt_5f4e3d2c1b0a?t=pt_5f4e3d2c1b0a')).toBe(`/ws/play/${f}?t=${f}`);
    expect(r.redactText('echo: pt_5f4e3d2c1b0a!')).toBe(`echo: ${f}!`);
    const bin = Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from('pt_5f4e3d2c1b0a'), Buffer.from([255])]);
    expect(r.redactBinary(bin)).toEqual(Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(f), Buffer.from([255])]));
    expect(r.redactBinary(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]))).toEqual(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]));
  });

  it('given a secret with URL-encodable characters, when it appears URL-encoded later, then it is replaced', () => {
    const r = new Redactor(KEY);
    r.redactText('{"token":"a+b/c=d&e12"}');
    expect(r.redactUrl('/x?next=a%2Bb%2Fc%3Dd%26e12')).toBe(`/x?next=${fp('a+b/c=d&e12')}`);
  });

  it('given short values, then they are fingerprinted where found but never remembered', () => {
    const r = new Redactor(KEY);
    expect(r.redactText('{"token":"short"}')).toBe(`{"token":"${fp('short')}"}`);
    expect(r.registry.has('short')).toBe(false);
    expect(r.redactText('a short word')).toBe('a short word');
  });

  it('given more secrets than the bound, then the least recently seen is forgotten first', () => {
    const r = new Redactor(KEY, { maxKnownSecrets: 2 });
    r.remember('secret-one-1');
    r.remember('secret-two-2');
    r.remember('secret-one-1'); // touched: now the most recent
    r.remember('secret-three');
    expect(r.registry.size).toBe(2);
    expect(r.redactText('secret-one-1 secret-two-2 secret-three')).toBe(`${fp('secret-one-1')} secret-two-2 ${fp('secret-three')}`);
  });

  it('given a secret learnt once, when a longer secret contains it, then the longer one wins', () => {
    const r = new Redactor(KEY);
    r.remember('abcdefgh');
    r.remember('abcdefgh-ijkl');
    expect(r.redactText('x abcdefgh-ijkl y abcdefgh')).toBe(`x ${fp('abcdefgh-ijkl')} y ${fp('abcdefgh')}`);
  });
});

describe('Redactor.redactForLog', () => {
  it('given objects, errors and bytes, then log lines hold no secret and no raw bytes', () => {
    const r = new Redactor(KEY);
    r.remember('known-secret-42');
    expect(r.redactForLog({ token: 'log-token-123', n: 5n, note: 'uses known-secret-42' })).toBe(`{"token":"${fp('log-token-123')}","n":"5","note":"uses ${fp('known-secret-42')}"}`);
    expect(r.redactForLog(new Error('auth failed for known-secret-42'))).toBe(`Error: auth failed for ${fp('known-secret-42')}`);
    expect(r.redactForLog(Buffer.from('known-secret-42'))).toBe('<15 bytes>');
    expect(r.redactForLog({ frame: Buffer.from([1, 2]) })).toBe('{"frame":"<2 bytes>"}');
  });
});

describe('Redactor construction', () => {
  it('given a key shorter than 32 bytes, then it refuses', () => {
    expect(() => new Redactor(Buffer.alloc(16))).toThrow(/at least 32 bytes/);
  });
});
