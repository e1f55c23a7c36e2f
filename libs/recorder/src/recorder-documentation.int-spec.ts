import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredEvent } from '@rewind/event-store';
import { RecorderStack, startRecorderStack } from './test-support/stack';

/** The files the simulator serves, as shipped with the repository (SpaceMolt's official specs at v0.327.2). */
const SPEC_DIR = join(__dirname, '../../simulator/assets/spacemolt');

/**
 * Redaction is exact about what a credential is (issue 17): SpaceMolt's OpenAPI documents describe
 * `password`, `token` and `registration_code` in their schemas, and a client that downloads them through the
 * proxy must find them stored byte for byte — while the credentials of the same client's authentication
 * exchange are still redacted.
 */
describe('Recorder: API documentation fetched through the proxy is stored byte-exact', () => {
  let stack: RecorderStack;

  beforeEach(async () => {
    stack = await startRecorderStack({ seed: 'documentation', platforms: ['spacemolt'], simulator: { spacemolt: { tickMs: 50 } } });
  });
  afterEach(() => stack.close());

  /** The stored response of the exchange whose request path is `path` (the stream the recorder put it in, whichever). */
  function storedResponse(streams: Map<string, StoredEvent[]>, path: string): StoredEvent {
    for (const events of streams.values()) {
      const i = events.findIndex((e) => e.kind === 'request' && typeof e.meta === 'string' && ((JSON.parse(e.meta) as { path?: string }).path ?? '').endsWith(path));
      if (i < 0) continue;
      const request = events[i]!;
      const response = events.find((e) => e.kind === 'response' && e.requestId === request.requestId);
      if (response) return response;
    }
    throw new Error(`no stored exchange for ${path}`);
  }

  it('a v2 client registers, logs in and downloads /api/v2/openapi.json and /api/openapi.json: both bodies are stored equal to the served files, the credentials are not stored', async () => {
    const base = `${stack.proxy.url}/spacemolt`;
    const created = (await (await fetch(`${base}/api/v2/session`, { method: 'POST' })).json()) as { session: { id: string } };
    const headers = { 'content-type': 'application/json', 'x-session-id': created.session.id };
    const registrationCode = 'doc-registration-code-1';
    const reg = await fetch(`${base}/api/v2/spacemolt_auth/register`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ username: 'doc-reader', empire: 'solarian', registration_code: registrationCode }),
    });
    expect(reg.status).toBe(200);
    const registered = (await reg.json()) as { structuredContent?: { password?: string } };
    const password = registered.structuredContent?.password;
    expect(typeof password).toBe('string');
    const served: Record<string, Buffer> = {};
    for (const [path, file] of [
      ['/api/v2/openapi.json', 'openapi-v2.v0.327.2.json'],
      ['/api/openapi.json', 'openapi-v1.v0.327.2.json'],
    ] as const) {
      const res = await fetch(`${base}${path}`, { headers: { 'x-session-id': created.session.id } });
      expect(res.status).toBe(200);
      served[path] = Buffer.from(await res.arrayBuffer());
      // The simulator serves the official file byte for byte, and the proxy relays it so.
      expect(served[path]!.equals(readFileSync(join(SPEC_DIR, file)))).toBe(true);
    }
    await (await fetch(`${base}/api/v2/spacemolt_auth/logout`, { method: 'POST', headers })).text();

    const streams = await stack.settle();
    for (const path of ['/api/v2/openapi.json', '/api/openapi.json']) {
      const response = storedResponse(streams, path);
      expect(response.format).toBe('json');
      const body = response.body;
      expect(body).not.toBeNull();
      const stored = Buffer.isBuffer(body) ? body : Buffer.from(body as string, 'utf8');
      expect(stored.length).toBe(served[path]!.length);
      expect(stored.equals(served[path]!)).toBe(true);
      expect(stored.toString('utf8')).not.toContain('[redacted:');
    }

    // The authentication exchange of the same client is still redacted, wherever its secrets went.
    const { rows } = await stack.pool.query<{ row: string }>('SELECT e::text AS row FROM events e');
    expect(rows.length).toBeGreaterThan(0);
    for (const { row } of rows) {
      for (const secret of [registrationCode, password!, created.session.id]) expect(row).not.toContain(secret);
    }
    expect(rows.some((r) => r.row.includes('[redacted:'))).toBe(true);
  });
});
