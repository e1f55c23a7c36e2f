import { redact } from './protocol';

describe('redact (tokens in log lines)', () => {
  it('shows a stable fingerprint and none of the token', () => {
    const token = 'pt_9f8e7d6c5b4a39281706';
    expect(redact(token)).toMatch(/^tok#[0-9a-f]{8}$/);
    expect(redact(token)).toBe(redact(token));
    expect(redact(token)).not.toBe(redact(`${token}x`));
    for (let i = 0; i + 4 <= token.length; i++) expect(redact(token)).not.toContain(token.slice(i, i + 4));
  });
});
