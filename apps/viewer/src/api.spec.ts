import { API_KEY_STORAGE, hashWithoutKey, readKeyFromHash, sessionsQuery, takeApiKey, type KeyEnv } from './api.js';

function env(hash: string, stored: Record<string, string> = {}) {
  const store = { ...stored };
  const replaced: (string | null | undefined)[] = [];
  const e: KeyEnv = {
    location: { hash, pathname: '/session.html', search: '?id=abc' },
    history: { replaceState: (_d, _u, url) => void replaced.push(url) },
    storage: { getItem: (k) => store[k] ?? null, setItem: (k, v) => void (store[k] = v), removeItem: (k) => void delete store[k] },
  };
  return { e, store, replaced };
}

describe('API key handling', () => {
  it('given #key=<key>, when read, then the key is returned (also among other params)', () => {
    expect(readKeyFromHash('#key=abc123')).toBe('abc123');
    expect(readKeyFromHash('#seq=4&key=k%2B1')).toBe('k+1');
    expect(readKeyFromHash('#seq=4')).toBeNull();
    expect(readKeyFromHash('')).toBeNull();
  });

  it('given a key in the hash, when taken, then it is stored and removed from the URL (other hash params kept)', () => {
    const { e, store, replaced } = env('#key=secret&seq=9');
    expect(takeApiKey(e)).toBe('secret');
    expect(store[API_KEY_STORAGE]).toBe('secret');
    expect(replaced).toEqual(['/session.html?id=abc#seq=9']);
  });

  it('given no hash key, when taken, then the stored key is used and the URL is left alone', () => {
    const { e, replaced } = env('', { [API_KEY_STORAGE]: 'stored-key' });
    expect(takeApiKey(e)).toBe('stored-key');
    expect(replaced).toEqual([]);
  });

  it('given neither, when taken, then there is no key', () => {
    expect(takeApiKey(env('').e)).toBeNull();
    expect(hashWithoutKey('#key=a')).toBe('');
  });
});

describe('sessionsQuery', () => {
  it('given filters, when turned into a query, then empty values are left out and times are ISO', () => {
    const q = sessionsQuery({ platform: 'moltstation', game: ' flappybots ', status: '', agent: undefined, from: '2024-05-01T10:30:00Z', limit: 50, cursor: 'c1' });
    const p = new URLSearchParams(q.slice(1));
    expect(q.startsWith('?')).toBe(true);
    expect(p.get('platform')).toBe('moltstation');
    expect(p.get('game')).toBe('flappybots');
    expect(p.has('status')).toBe(false);
    expect(p.has('agent')).toBe(false);
    expect(p.get('from')).toBe('2024-05-01T10:30:00.000Z');
    expect(p.get('limit')).toBe('50');
    expect(p.get('cursor')).toBe('c1');
  });

  it('given a datetime-local value, when turned into a query, then it is sent as a valid ISO time', () => {
    const p = new URLSearchParams(sessionsQuery({ to: '2024-05-01T10:30' }).slice(1));
    expect(p.get('to')).toBe(new Date('2024-05-01T10:30').toISOString());
  });

  it('given no filters, when turned into a query, then it is empty', () => {
    expect(sessionsQuery({})).toBe('');
  });
});
