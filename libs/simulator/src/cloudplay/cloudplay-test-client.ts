/** Test helper (not shipped behaviour): raw HTTP calls against the simulator's cloud-play base URL. */
import { httpCall, RawResponse } from '@rewind/testing';

export type { RawResponse };
export interface CallOptions {
  token?: string | null;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export const TOKEN_A = 'test-token-alice-0001';
export const TOKEN_B = 'test-token-bob-0002';

export function client(baseUrl: string) {
  return async function call(method: string, path: string, opts: CallOptions = {}): Promise<RawResponse> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const token = opts.token === undefined ? TOKEN_A : opts.token;
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    return httpCall(`${baseUrl}${path}`, { method, headers, body: opts.body, raw: opts.rawBody });
  };
}

export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}
