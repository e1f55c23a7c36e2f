import { randomBytes } from 'node:crypto';
import { ReplayAuth } from './replay-auth';

describe('ReplayAuth', () => {
  const secret = randomBytes(32);
  let now = 1_000_000;
  const auth = new ReplayAuth(['key-0123456789abcdef'], secret, () => now);

  it('given an API key, accepts it for any session; refuses a wrong or missing one', () => {
    expect(auth.check('s1', { apiKey: 'key-0123456789abcdef' })).toEqual({ ok: true, via: 'api-key' });
    expect(auth.check('s1', { apiKey: 'key-0123456789abcdeX' })).toEqual({ ok: false, reason: 'the API key is not valid' });
    expect(auth.check('s1', {})).toEqual({ ok: false, reason: 'an API key or a replay token is required' });
  });

  it('given keys with scopes, then only a key with the replay scope watches replays', () => {
    const scoped = new ReplayAuth(['reader-0123456789abcdef:read', 'watcher-0123456789abcdef:read+replay'], randomBytes(32), () => now);
    expect(scoped.check('s1', { apiKey: 'watcher-0123456789abcdef' })).toEqual({ ok: true, via: 'api-key' });
    expect(scoped.check('s1', { apiKey: 'reader-0123456789abcdef' })).toEqual({ ok: false, reason: 'this API key lacks the "replay" scope' });
    expect(scoped.check('s1', { apiKey: 'reader-0123456789abcdef:read' })).toEqual({ ok: false, reason: 'the API key is not valid' }); // the suffix is no part of the key
  });

  it('given a replay token, accepts it for its session until it expires; refuses forged, tampered, foreign and expired ones', () => {
    const { token } = auth.mint('s1', 60_000);
    expect(auth.check('s1', { token })).toEqual({ ok: true, via: 'replay-token' });
    expect(auth.check('s2', { token })).toEqual({ ok: false, reason: 'replay token is for another session' });
    const [v, payload, sig] = token.split('.') as [string, string, string];
    const otherPayload = Buffer.from(JSON.stringify({ sid: 's2', exp: now + 60_000 })).toString('base64url');
    expect(auth.check('s2', { token: `${v}.${otherPayload}.${sig}` })).toEqual({ ok: false, reason: 'replay token signature is invalid' });
    const forger = new ReplayAuth([], randomBytes(32), () => now);
    expect(auth.check('s1', { token: forger.mint('s1', 60_000).token })).toEqual({ ok: false, reason: 'replay token signature is invalid' });
    expect(auth.check('s1', { token: 'hello' })).toEqual({ ok: false, reason: 'not a replay token' });
    expect(payload.length).toBeGreaterThan(0);
    now += 61_000;
    expect(auth.check('s1', { token })).toEqual({ ok: false, reason: 'replay token has expired' });
  });
});
