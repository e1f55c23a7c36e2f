/** Small readers of wire data the platform modules share (headers, JSON bodies, paths and queries). */

export function header(pairs: readonly [string, string][], name: string): string | undefined {
  const lower = name.toLowerCase();
  return pairs.find(([k]) => k.toLowerCase() === lower)?.[1];
}

export function bearerOf(pairs: readonly [string, string][]): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header(pairs, 'authorization') ?? '');
  return m?.[1];
}

/** A body's bytes as one JSON object, or null (empty, not JSON, not an object). */
export function bodyObject(bytes: Buffer | undefined): Record<string, unknown> | null {
  if (!bytes || bytes.length === 0) return null;
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A non-empty string, or undefined. */
export const nonEmpty = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
/** A 2xx status. */
export const ok2xx = (status: number | undefined): boolean => status !== undefined && status >= 200 && status < 300;

export function queryParam(path: string, name: string): string | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(path.slice(q + 1)).get(name) ?? undefined;
}

export function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}
