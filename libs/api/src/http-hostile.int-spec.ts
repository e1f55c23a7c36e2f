/**
 * HTTP API fuzz (seeded, real Postgres + Redis): for every read route, N hostile values per parameter — path
 * traversal, SQL/NoSQL injection, very long strings, unicode and lone surrogates, NUL bytes, numbers out of range,
 * repeated parameters (`?a=1&a=2`), bracket syntax, bad UUIDs, bad cursors (base64 garbage and well-formed JSON of
 * the wrong shape). Given any of them: never a 5xx; a 4xx is JSON with `error` or `message`; no body carries a
 * stack trace or a database error; and the database is unchanged afterwards.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { Pool } from 'pg';
import { EventStore, NewEvent } from '@rewind/event-store';
import { createMigratedScratchDatabase, ScratchDatabase, testRedisUrl } from '@rewind/testing';
import { fuzz, HOSTILE_STRINGS } from '@rewind/fuzz';
import { startApi } from './api';

const SEED = 'api-fuzz-1';
/** Hostile values per parameter (on top of the fixed list's pass below). */
const PER_PARAM = 14;
const KEY = `key-${randomBytes(12).toString('hex')}`;

/** What a body must never show: a stack frame, a file of ours, a database or driver error. */
const LEAKS = [
  /\n\s+at [^\n]+:\d+:\d+/,
  /node_modules/,
  /\/work\/|\/src\/[\w/-]+\.ts/,
  /syntax error at or near/i,
  /invalid input syntax for/i,
  /out of range for type/i,
  /relation "[^"]+" does not exist/i,
  /violates .* constraint/i,
  /QueryFailed|PrismaClient|DatabaseError|error: column/i,
  /ECONNREFUSED|ETIMEDOUT/,
];

/** Bad cursors: base64 of garbage and of JSON with the wrong shape, and not-base64 at all. */
const CURSORS = [
  '!!!!',
  '====',
  'eyJ9',
  Buffer.from('{"t":"2026-01-01T00:00:00Z","id":"not-a-uuid"}').toString('base64url'),
  Buffer.from('{"t":"never","id":"00000000-0000-0000-0000-000000000000"}').toString('base64url'),
  Buffer.from('{"t":"-271821-04-20T00:00:00.000Z","id":"00000000-0000-4000-8000-000000000000"}').toString('base64url'),
  Buffer.from('{"t":"+275760-09-13T00:00:00.000Z","id":"00000000-0000-4000-8000-000000000000"}').toString('base64url'),
  Buffer.from('{"seq":-1}').toString('base64url'),
  Buffer.from('{"seq":1e308}').toString('base64url'),
  Buffer.from('{"seq":9007199254740993}').toString('base64url'),
  Buffer.from('{"seq":"1"}').toString('base64url'),
  Buffer.from('{"seq":2147483647}').toString('base64url'),
  Buffer.from('{"seq":2147483648}').toString('base64url'),
  Buffer.from('[]').toString('base64url'),
  Buffer.from('null').toString('base64url'),
  Buffer.from('{"__proto__":{"seq":1}}').toString('base64url'),
  randomBytes(64).toString('base64url'),
  'A'.repeat(10_000),
];

/** Percent-encodes every byte but the unreserved ones; a lone surrogate goes as its raw WTF-8 bytes (ED A0 80…), which are invalid UTF-8. */
function pct(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < value.length && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    const ch = pair ? value.slice(i, i + 2) : value[i]!;
    if (pair) i++;
    if (/^[A-Za-z0-9\-._~]$/.test(ch)) out += ch;
    else if (!pair && c >= 0xd800 && c <= 0xdfff) out += `%${(0xe0 | (c >> 12)).toString(16)}%${(0x80 | ((c >> 6) & 0x3f)).toString(16)}%${(0x80 | (c & 0x3f)).toString(16)}`.toUpperCase();
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).padStart(2, '0').toUpperCase()}`;
  }
  return out;
}

/** Raw (already encoded) values that no encoder produces: bad percent-encoding, overlong UTF-8, NUL. */
const RAW_VALUES = ['%', '%F', '%ZZ', '%FF', '%C0%AE%C0%AE', '%ED%A0%80', '%00', 'a%00b', '%2e%2e%2f', '%0d%0aSet-Cookie:x=1'];
/** Times JavaScript accepts but Postgres may not (its timestamptz spans 4713 BC – 294276 AD). */
const TIME_EXTREMES = [
  '-271821-04-20T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '-004714-01-01T00:00:00Z',
  '0000-01-01',
  '9999-12-31T23:59:59.999Z',
  '1',
  '-1',
  '0',
  '2026-13-01',
  'Tue, 01 Jan 2026 00:00:00 GMT',
];

interface Answer {
  path: string;
  status: number;
  type: string;
  text: string;
}

describe(`HTTP API fuzz (seed ${SEED}, real Postgres)`, () => {
  let api: INestApplication;
  let base: string;
  let pool: Pool;
  let store: EventStore;
  const sessionId = randomUUID();

  async function counts(): Promise<Record<string, string>> {
    const { rows } = await pool.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM sessions)::text AS sessions, (SELECT count(*) FROM events)::text AS events,
              (SELECT coalesce(sum(head_seq), 0) FROM sessions)::text AS head_seqs, (SELECT count(*) FROM outbox)::text AS outbox,
              (SELECT string_agg(encode(head_hash, 'hex'), ',' ORDER BY id) FROM sessions)::text AS heads`,
    );
    return rows[0]!;
  }

  async function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${KEY}`, ...headers } });
    return { path, status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  }

  /** The contract of every answer; returns the problems (empty = fine) so one run reports all of them. */
  function problems(a: Answer): string[] {
    const out: string[] = [];
    const show = `${a.status} ${a.path.slice(0, 160)}`;
    if (a.status >= 500) out.push(`${show}: 5xx ${a.text.slice(0, 200)}`);
    // 414/431: node's HTTP layer refuses a URL or head over its 16 KiB limit before Nest sees it (empty body).
    if (a.status >= 400 && a.status < 500 && a.status !== 414 && a.status !== 431) {
      let body: unknown = null;
      try {
        body = JSON.parse(a.text);
      } catch {
        out.push(`${show}: a ${a.status} that is not JSON: ${a.text.slice(0, 120)}`);
      }
      if (!/json/.test(a.type)) out.push(`${show}: content-type ${a.type}`);
      if (body && typeof body === 'object' && !('error' in body) && !('message' in body)) out.push(`${show}: no error/message: ${a.text.slice(0, 120)}`);
    }
    for (const re of LEAKS) if (re.test(a.text)) out.push(`${show}: body leaks ${re}: ${a.text.slice(0, 200)}`);
    return out;
  }

  /** Hostile values for one parameter: the fixed list once over all parameters + PER_PARAM seeded ones. */
  function valuesFor(f: ReturnType<typeof fuzz>, i: number): string[] {
    const fixed = HOSTILE_STRINGS.filter((_, k) => k % 5 === i % 5);
    return [...fixed, ...Array.from({ length: PER_PARAM }, () => f.hostileString())];
  }

  /** `?name=value` in every encoding a client could use: encoded, repeated, bracketed, and raw (where fetch allows). */
  function queries(name: string, value: string): string[] {
    const enc = pct(value);
    return [`${name}=${enc}`, `${name}=${enc}&${name}=${enc}`, `${name}=1&${name}=${enc}`, `${name}[]=${enc}`, `${name}[a]=${enc}`];
  }

  // A database of its own: "the database is unchanged" must not see what other test files write meanwhile.
  let db: ScratchDatabase;
  beforeAll(async () => {
    db = await createMigratedScratchDatabase();
    pool = db.pool;
    store = new EventStore(pool);
    await store.openSession({ id: sessionId, platform: 'moltstation', game: 'flappybots', agent: 'fuzz-agent', startedAt: new Date(), metadata: { stream: 'run' } });
    const ev = (seq: number): NewEvent => ({
      sessionId,
      seq,
      kind: 'frame',
      direction: 'platform_to_client',
      channel: 'play_ws',
      recordedAtUs: Date.now() * 1000 + seq,
      offsetUs: seq * 1000,
      format: 'json',
      body: `{"t":"frame","frame":{"tick":${seq}}}`,
      tick: seq,
    });
    await store.append(Array.from({ length: 30 }, (_, i) => ev(i + 1)));
    api = await startApi({
      databaseUrl: db.url,
      redisUrl: testRedisUrl(),
      queuePrefix: `fuzz-${randomUUID().slice(0, 6)}`,
      port: 0,
      logger: false,
      replay: { apiKeys: [KEY], secret: randomBytes(32) },
    });
    base = (await api.getUrl()).replace('[::1]', '127.0.0.1');
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('given the routes with sane parameters, then 200 JSON (the control case)', async () => {
    for (const p of [
      '/api/sessions?limit=5',
      `/api/sessions/${sessionId}`,
      `/api/sessions/${sessionId}/events?limit=5`,
      '/api/analytics/runs?limit=5',
      '/api/pipeline/dead-letters',
      '/docs-json',
      '/health/live',
    ]) {
      const a = await get(p);
      expect([p, a.status]).toEqual([p, 200]);
      expect(() => JSON.parse(a.text)).not.toThrow();
    }
  });

  it(`given ${PER_PARAM}+ hostile values per query parameter of every route (seeded), then never a 5xx, JSON errors, no leaks, and the database unchanged`, async () => {
    const before = await counts();
    const f = fuzz(SEED);
    const routes: [string, string[]][] = [
      ['/api/sessions', ['platform', 'game', 'status', 'agent', 'platformSessionId', 'from', 'to', 'limit', 'cursor']],
      [`/api/sessions/${sessionId}/events`, ['kind', 'channel', 'direction', 'fromSeq', 'toSeq', 'limit', 'cursor']],
      ['/api/analytics/runs', ['platform', 'game', 'agent', 'auditStatus', 'from', 'to', 'groupBy', 'limit']],
      [`/api/sessions/${sessionId}/audit`, ['x']],
      ['/api/pipeline/dead-letters', ['limit', 'queue']],
      ['/docs-json', ['x']],
      ['/health/live', ['x']],
      ['/health', ['x']],
    ];
    const found: string[] = [];
    const check = async (path: string, headers: Record<string, string> = {}): Promise<void> => {
      found.push(...problems(await get(path, headers)));
    };
    let requests = 0;
    let i = 0;
    for (const [route, params] of routes) {
      for (const param of params) {
        const values = [...valuesFor(f.fork(`${route}/${param}`), i++), ...(param === 'cursor' ? CURSORS : []), ...(param === 'from' || param === 'to' ? TIME_EXTREMES : [])];
        for (const [k, value] of values.entries()) {
          const qs = queries(param, value);
          const q = qs[k % qs.length]!;
          await check(`${route}?${q}`);
          requests++;
        }
      }
      for (const param of params) {
        for (const raw of RAW_VALUES) {
          await check(`${route}?${param}=${raw}`);
          requests++;
        }
      }
      // every parameter at once, each hostile
      const all = params.map((p) => `${p}=${pct(f.hostileString())}`).join('&');
      await check(`${route}?${all}`);
    }
    // the NDJSON variant of /events with hostile ranges
    for (const q of ['fromSeq=0', 'fromSeq=2147483648', 'toSeq=-1', 'fromSeq=20&toSeq=10', 'kind=%00', 'fromSeq=1e3', 'fromSeq=%F0%9F%92%A5']) {
      await check(`/api/sessions/${sessionId}/events?${q}`, { accept: 'application/x-ndjson' });
      requests++;
    }
    expect(found).toEqual([]);
    expect(requests).toBeGreaterThan(300);
    expect(await counts()).toEqual(before);
  }, 120_000);

  it('given hostile path ids (traversal, injection, bad UUIDs, encoded slashes and NULs, 10 KB ids) on /:id, /:id/events and /:id/audit, then 404/400 JSON, no leaks, database unchanged', async () => {
    const before = await counts();
    const f = fuzz(`${SEED}/ids`);
    const ids = [
      ...HOSTILE_STRINGS.filter((s) => s.length > 0),
      ...Array.from({ length: 40 }, () => f.hostileString()),
      sessionId.toUpperCase(),
      `${sessionId} `,
      `${sessionId}%00`,
      sessionId.replace(/-/g, ''),
      `{${sessionId}}`,
      `${sessionId}/../${sessionId}`,
      '..%2f..%2fhealth',
      '%2e%2e',
      'x'.repeat(10_000),
    ];
    const found: string[] = [];
    for (const id of ids) {
      const seg = pct(id);
      for (const tail of ['', '/events', '/audit', '/events?limit=1']) {
        const a = await get(`/api/sessions/${seg}${tail}`);
        found.push(...problems(a));
        // an id that is not this session's exact uuid never reads it
        if (a.status === 200 && id.toLowerCase() !== sessionId) found.push(`${a.status} for id ${JSON.stringify(id).slice(0, 80)}${tail}`);
      }
    }
    // traversal spelled raw in the path (fetch normalises ../, so the raw request goes through node:http)
    const http = await import('node:http');
    for (const raw of ['/api/sessions/../../health', '/api/sessions/..%2f..%2fdocs-json', '/api/sessions/%2e%2e/%2e%2e/metrics', '//api/sessions', '/api/sessions/%00', '/api/sessions/%ZZ']) {
      const a = await new Promise<Answer>((resolve) => {
        const u = new URL(base);
        const req = http.request({ host: u.hostname, port: u.port, path: raw, headers: { authorization: `Bearer ${KEY}` } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ path: raw, status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text }));
        });
        req.end();
      });
      found.push(...problems(a));
    }
    expect(found).toEqual([]);
    expect(await counts()).toEqual(before);
  }, 120_000);

  it('given a NUL byte in a text filter (game, agent, platformSessionId), then 400 invalid_parameter naming it (Postgres text cannot hold NUL)', async () => {
    for (const p of ['/api/sessions?game=a%00b', '/api/sessions?agent=%00', '/api/sessions?platformSessionId=%00', '/api/analytics/runs?game=%00']) {
      const a = await get(p);
      expect([p, a.status]).toEqual([p, 400]);
    }
  });
});
