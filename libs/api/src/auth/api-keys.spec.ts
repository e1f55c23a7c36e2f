import { ApiKeys, apiKeyOfHeaders, parseApiKeyEntry } from './api-keys';

describe('API keys with scopes', () => {
  it('given REWIND_API_KEYS entries, then a bare key has every scope and a suffix names its scopes', () => {
    expect(parseApiKeyEntry('k-0123456789abcdef')).toEqual({ key: 'k-0123456789abcdef', scopes: ['read', 'replay', 'admin'] });
    expect(parseApiKeyEntry('k-0123456789abcdef:read+replay')).toEqual({ key: 'k-0123456789abcdef', scopes: ['read', 'replay'] });
    expect(parseApiKeyEntry('k-0123456789abcdef:admin+admin')).toEqual({ key: 'k-0123456789abcdef', scopes: ['admin'] });
    // A suffix that names no scope is part of the key (keys may contain ':').
    expect(parseApiKeyEntry('k:0123456789abcdef:write')).toEqual({ key: 'k:0123456789abcdef:write', scopes: ['read', 'replay', 'admin'] });
  });

  it('given a request, then 401 without a key or with an unknown one, 403 with a key lacking the scope, ok otherwise', () => {
    const keys = new ApiKeys(['reader-0123456789abcdef:read', 'ops-0123456789abcdef']);
    expect(keys.check(undefined, 'read')).toEqual({ ok: false, status: 401, reason: 'an API key with the "read" scope is required (Authorization: Bearer <key>)' });
    expect(keys.check('nobody-0123456789abcdef', 'read')).toEqual({ ok: false, status: 401, reason: 'the API key is not valid' });
    expect(keys.check('reader-0123456789abcdef', 'admin')).toEqual({ ok: false, status: 403, reason: 'this API key lacks the "admin" scope' });
    expect(keys.check('reader-0123456789abcdef', 'read')).toEqual({ ok: true });
    expect(keys.check('ops-0123456789abcdef', 'admin')).toEqual({ ok: true });
  });

  it('takes the key from Authorization: Bearer, then X-API-Key, then the viewer cookie', () => {
    expect(apiKeyOfHeaders({ authorization: 'Bearer abc', 'x-api-key': 'def' })).toBe('abc');
    expect(apiKeyOfHeaders({ authorization: 'Basic abc', 'x-api-key': 'def' })).toBe('def');
    expect(apiKeyOfHeaders({ cookie: 'a=1; rewind_api_key=k%3Dx; b=2' })).toBe('k=x');
    expect(apiKeyOfHeaders({})).toBeUndefined();
  });
});
