/**
 * Encoding of rows for `COPY ... FROM STDIN` in Postgres' text format: tab-separated, newline-terminated,
 * `\N` for NULL, backslash escapes for backslash, newline, carriage return and tab.
 */
const SPECIAL = /[\\\n\r\t]/;
const SPECIAL_ALL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export const COPY_NULL = '\\N';

export function copyText(value: string | null | undefined): string {
  if (value == null) return COPY_NULL;
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c] as string) : value;
}

/** bytea in hex form, with its backslash escaped for COPY. */
export function copyBytea(value: Buffer | null | undefined): string {
  if (value == null) return COPY_NULL;
  return '\\\\x' + value.toString('hex');
}

/** µs since the epoch → a timestamptz literal with all six fractional digits. */
export function usToTimestamp(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}+00`;
}
