/**
 * A URL with its password replaced by `***`, for logs and messages:
 * `postgresql://rewind:s3cret@127.0.0.1:54329/rewind` → `postgresql://rewind:***@127.0.0.1:54329/rewind`.
 * Text that is not a URL still has any `scheme://user:password@` part masked.
 */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@]*@/gi, '$1***@');
  }
}

/** Replaces every occurrence of the given secrets (and any URL password) in a line of text. */
export function scrubSecrets(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const secret of secrets) {
    if (!secret) continue;
    out = out.split(secret).join('***');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join('***');
  }
  return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)(?!\*\*\*@)[^\s@]*@/gi, '$1***@');
}
