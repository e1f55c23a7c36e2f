/**
 * Replaces the values of credential query parameters in a path-and-query string, keeping the order of
 * the parameters and every other character (including the fragment) exactly as it was.
 */
export function redactQueryValues(pathAndQuery: string, isSensitive: (name: string) => boolean, replace: (value: string) => string): string {
  const q = pathAndQuery.indexOf('?');
  if (q < 0) return pathAndQuery;
  const hash = pathAndQuery.indexOf('#', q);
  const queryEnd = hash < 0 ? pathAndQuery.length : hash;
  const query = pathAndQuery.slice(q + 1, queryEnd);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const value = pair.slice(eq + 1);
      if (value.length === 0 || !isSensitive(decodeComponent(pair.slice(0, eq)))) return pair;
      return pair.slice(0, eq + 1) + replace(decodeComponent(value));
    })
    .join('&');
  return pathAndQuery.slice(0, q + 1) + redacted + pathAndQuery.slice(queryEnd);
}

export function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
