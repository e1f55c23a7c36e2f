import { maskUrl } from './mask-url';
import { scrubSecrets } from './mask-url';

describe('maskUrl', () => {
  it('masks the password of a Postgres URL', () => {
    expect(maskUrl('postgresql://rewind:s3cr3t@127.0.0.1:54329/rewind')).toBe('postgresql://rewind:***@127.0.0.1:54329/rewind');
  });

  it('masks a Redis URL with an empty user name', () => {
    expect(maskUrl('redis://:s3cr3t@127.0.0.1:63790')).toBe('redis://:***@127.0.0.1:63790');
  });

  it('masks percent-encoded passwords and keeps the query', () => {
    expect(maskUrl('rediss://default:p%40ss%2Fw@cache:6380/0?family=4')).toBe('rediss://default:***@cache:6380/0?family=4');
  });

  it('leaves URLs without a password unchanged', () => {
    expect(maskUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(maskUrl('postgres://rewind@db/rewind')).toBe('postgres://rewind@db/rewind');
  });

  it('still masks a password in text that does not parse as a URL', () => {
    const out = maskUrl('connect to postgresql://u:hunter2@db:5432/x failed');
    expect(out).toBe('connect to postgresql://u:***@db:5432/x failed');
    expect(out).not.toContain('hunter2');
  });
});

describe('scrubSecrets', () => {
  it('removes known secrets, raw and percent-encoded, and URL passwords', () => {
    const line = scrubSecrets('pw a/b+c, encoded a%2Fb%2Bc, url redis://:zzz@h:1', ['a/b+c']);
    expect(line).toBe('pw ***, encoded ***, url redis://:***@h:1');
  });
});
