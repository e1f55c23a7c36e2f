/**
 * Hostile clients of the replay gateway (real Postgres):
 * - slow readers: a client that opens `/replay/{id}?speed=32` on a large session and stops reading must not make
 *   the gateway buffer the session in memory; the stream goes on, complete and in order, when it reads again;
 *   other streams are unaffected; a reader stalled for too long is closed 1008 "slow reader";
 * - forged credentials: bit-flipped signatures, other sessions' tokens, expired ones, wrong prefixes, huge tokens,
 *   wrong or missing API keys → a clear 4401 close (and MoltStation's own 4001/4410 on its endpoint).
 */
import type { AddressInfo } from 'node:net';
import { createHmac, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Pool } from 'pg';
import { PG_POOL } from '@rewind/db';
import { EventStore, NewEvent } from '@rewind/event-store';
import { createTestPool, testDatabaseUrl, testRedisUrl, waitFor } from '@rewind/testing';
import { startApi } from '../api';
import { REPLAY_FLOW, ReplayFlowOptions, ReplayGateway } from './gateway';
import { ReplayWsAdapter } from './ws-adapter';
import { REPLAY_TOKEN_INFO, ReplayAuth } from './replay-auth';
import { fuzz } from '@rewind/fuzz';

const KEY = `key-${randomBytes(12).toString('hex')}`;
const SECRET = randomBytes(32);
/** The large session: 3000 events × ~8 KiB ≈ 25 MB of envelopes, 0.1 ms apart (all due at once at speed 32). */
const EVENTS = 3000;
const BODY_BYTES = 8 * 1024;

interface Reader {
  ws: WebSocket;
  texts: string[];
  close: { code: number; reason: string } | null;
}

function open(url: string, headers: Record<string, string> = {}, opts: { pauseOnOpen?: boolean } = {}): Promise<Reader> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, maxPayload: 1024 * 1024 * 1024 });
    const r: Reader = { ws, texts: [], close: null };
    ws.on('message', (d) => r.texts.push(d.toString()));
    ws.on('close', (code, reason) => (r.close = { code, reason: reason.toString() }));
    ws.on('error', () => undefined);
    ws.once('open', () => {
      // Stop reading the socket at once: the kernel buffers fill, then the server's send buffer would.
      if (opts.pauseOnOpen) (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      resolve(r);
    });
    ws.once('unexpected-response', (_q, res) => reject(new Error(`refused ${res.statusCode}`)));
  });
}
const resumeReading = (r: Reader): void => void (r.ws as unknown as { _socket: { resume(): void } })._socket.resume();
const parsed = (r: Reader) => r.texts.map((t) => JSON.parse(t) as { type: string; seq?: number; message?: string });
const eventSeqs = (r: Reader) =>
  parsed(r)
    .filter((m) => m.type === 'event')
    .map((m) => m.seq as number);

async function largeSession(store: EventStore): Promise<string> {
  const id = randomUUID();
  await store.openSession({ id, platform: 'moltstation', game: 'flappybots', startedAt: new Date(), metadata: { stream: 'run', capturedBy: 'hostile-test' } });
  const t0 = Date.now() * 1000;
  const pad = 'x'.repeat(BODY_BYTES);
  const ev = (seq: number): NewEvent => ({
    sessionId: id,
    seq,
    kind: 'frame',
    direction: 'platform_to_client',
    channel: 'play_ws',
    recordedAtUs: t0 + seq * 100,
    offsetUs: seq * 100,
    format: 'json',
    body: `{"t":"frame","frame":{"tick":${seq}},"pad":"${pad}"}`,
    tick: seq,
  });
  for (let s = 1; s <= EVENTS; s += 500) await store.append(Array.from({ length: Math.min(500, EVENTS - s + 1) }, (_, i) => ev(s + i)));
  await store.endSession(id, new Date());
  return id;
}

describe('replay gateway: slow readers (the gateway alone in a small Nest app, real Postgres)', () => {
  let pool: Pool;
  let store: EventStore;
  let sessionId: string;
  const apps: INestApplication[] = [];

  /**
   * The gateway with its own (test) flow limits, as a Nest provider on its own HTTP server (the same adapter as
   * the API's); its server-side sockets are sampled through the gateway's ws server.
   */
  async function gatewayWith(flow?: ReplayFlowOptions): Promise<{ base: string; gateway: ReplayGateway; serverSockets: () => WebSocket[] }> {
    @Module({
      providers: [
        ReplayGateway,
        { provide: EventStore, useValue: store },
        { provide: PG_POOL, useValue: pool },
        { provide: ReplayAuth, useValue: new ReplayAuth([KEY], SECRET) },
        { provide: REPLAY_FLOW, useValue: flow ?? {} },
      ],
    })
    class GatewayOnly {}
    const app = await NestFactory.create(GatewayOnly, { logger: false, abortOnError: false });
    app.useWebSocketAdapter(new ReplayWsAdapter(app));
    await app.listen(0, '127.0.0.1');
    apps.push(app);
    const gateway = app.get(ReplayGateway);
    return { base: `ws://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`, gateway, serverSockets: () => [...gateway.server.clients] };
  }

  beforeAll(async () => {
    pool = createTestPool(6);
    store = new EventStore(pool);
    sessionId = await largeSession(store);
  }, 60_000);
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(() => pool.end());

  it('given a reader that stops reading at speed=32, then the server-side send buffer stays near 1 MiB (not the ~25 MB session), and when it reads again every event arrives once, in order, then end; a second stream is unaffected', async () => {
    const gw = await gatewayWith();
    const heapBefore = process.memoryUsage().heapUsed;
    const slow = await open(`${gw.base}/replay/${sessionId}?speed=32`, { authorization: `Bearer ${KEY}` }, { pauseOnOpen: true });
    let maxBuffered = 0;
    const sampler = setInterval(() => {
      for (const s of gw.serverSockets()) maxBuffered = Math.max(maxBuffered, s.bufferedAmount);
    }, 10);
    try {
      // Deliberate, the subject of the test: long enough for the whole session to have been sent, were there no
      // flow control (it is due in ~10 ms); what is asserted is that it was not.
      await new Promise((r) => setTimeout(r, 2_500));
      const heapWhilePaused = process.memoryUsage().heapUsed;
      // Another stream of the same session, read normally, completes meanwhile.
      const other = await open(`${gw.base}/replay/${sessionId}?speed=32`, { authorization: `Bearer ${KEY}` });
      await waitFor('the normal reader to finish', () => other.close ?? undefined, 30_000);
      expect(other.close).toEqual({ code: 1000, reason: 'end of session' });
      expect(eventSeqs(other)).toEqual(Array.from({ length: EVENTS }, (_, i) => i + 1));
      expect(slow.close).toBeNull();
      expect(maxBuffered).toBeGreaterThan(0);
      expect(maxBuffered).toBeLessThan(1024 * 1024 + 64 * 1024);
      expect(heapWhilePaused - heapBefore).toBeLessThan(16 * 1024 * 1024);
      // The slow reader reads again: the rest follows, complete and in order.
      resumeReading(slow);
      await waitFor('the slow reader to finish', () => slow.close ?? undefined, 30_000);
      expect(slow.close).toEqual({ code: 1000, reason: 'end of session' });
      expect(eventSeqs(slow)).toEqual(Array.from({ length: EVENTS }, (_, i) => i + 1));
      expect(parsed(slow).at(-1)).toMatchObject({ type: 'end', emitted: EVENTS, lastSeq: EVENTS });
    } finally {
      clearInterval(sampler);
    }
  }, 90_000);

  it('given a paused slow reader, when it sends pause then resume controls, then the user pause is kept until resume and the stream still completes in order', async () => {
    const gw = await gatewayWith();
    const r = await open(`${gw.base}/replay/${sessionId}?speed=32`, { authorization: `Bearer ${KEY}` }, { pauseOnOpen: true });
    await new Promise((res) => setTimeout(res, 800)); // deliberate: the reader stays paused a while, so the server's window fills (the scenario)
    r.ws.send(JSON.stringify({ type: 'pause' }));
    resumeReading(r);
    // Drained, but paused by the user: the stream does not go on by itself.
    await waitFor('the pause answer', () => parsed(r).some((m) => m.type === 'state') || undefined, 10_000);
    // Deliberate, the subject: events already in flight land first, then nothing more arrives for 500 ms.
    await new Promise((res) => setTimeout(res, 500));
    const atPause = eventSeqs(r).length;
    await new Promise((res) => setTimeout(res, 500));
    expect(eventSeqs(r).length).toBe(atPause);
    expect(atPause).toBeLessThan(EVENTS);
    r.ws.send(JSON.stringify({ type: 'resume' }));
    await waitFor('the end', () => r.close ?? undefined, 30_000);
    expect(r.close?.code).toBe(1000);
    expect(eventSeqs(r)).toEqual(Array.from({ length: EVENTS }, (_, i) => i + 1));
  }, 60_000);

  it('given a reader that stays stalled past the stall timeout, then the gateway closes it (1008 "slow reader"), stops its replay and frees its buffer; the gateway keeps serving', async () => {
    const gw = await gatewayWith({ stallTimeoutMs: 1_500 });
    const stalled = await open(`${gw.base}/replay/${sessionId}?speed=32`, { authorization: `Bearer ${KEY}` }, { pauseOnOpen: true });
    await waitFor('the stalled connection to be closed by the server', () => (gw.serverSockets().length === 0 ? true : undefined), 10_000);
    expect(gw.gateway.stats()).toMatchObject({ replays: 0, slowReaderCloses: 1 });
    resumeReading(stalled);
    const close = await waitFor('the client to see the close', () => stalled.close ?? undefined, 10_000);
    // The close frame queues behind the unread data, which is dropped with the connection: 1008 if it got
    // through, else 1006. Never a normal end.
    expect([1008, 1006]).toContain(close.code);
    if (close.code === 1008) expect(close.reason).toBe('slow reader');
    expect(parsed(stalled).some((m) => m.type === 'end')).toBe(false);
    const fine = await open(`${gw.base}/replay/${sessionId}?speed=32`, { authorization: `Bearer ${KEY}` });
    await waitFor('a normal stream', () => fine.close ?? undefined, 30_000);
    expect(fine.close?.code).toBe(1000);
    expect(eventSeqs(fine)).toHaveLength(EVENTS);
  }, 60_000);
});

describe('replay gateway: forged tokens and bad API keys (the API, real Postgres)', () => {
  let pool: Pool;
  let store: EventStore;
  let api: INestApplication;
  let base: string;
  const sessionId = randomUUID();
  const otherSessionId = randomUUID();
  const platformSessionId = `ms_hostile_${randomBytes(4).toString('hex')}`;
  /** Tokens signed with the API's own secret, at any clock. */
  const minter = (nowMs: number) => new ReplayAuth([], SECRET, () => nowMs);
  /** A correctly signed token around any payload text (to reach the checks after the signature). */
  const signed = (payloadText: string): string => {
    const key = Buffer.from(hkdfSync('sha256', SECRET, Buffer.alloc(0), REPLAY_TOKEN_INFO, 32));
    const payload = Buffer.from(payloadText).toString('base64url');
    return `rt1.${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
  };

  beforeAll(async () => {
    pool = createTestPool(2);
    store = new EventStore(pool);
    for (const id of [sessionId, otherSessionId]) {
      await store.openSession({ id, platform: 'moltstation', game: 'flappybots', platformSessionId: id === sessionId ? platformSessionId : null, startedAt: new Date(), metadata: { stream: 'run' } });
      await store.append([
        {
          sessionId: id,
          seq: 1,
          kind: 'frame',
          direction: 'platform_to_client',
          channel: 'play_ws',
          recordedAtUs: Date.now() * 1000,
          offsetUs: 0,
          format: 'json',
          body: '{"t":"frame","frame":{"tick":1}}',
          tick: 1,
        },
      ]);
      await store.endSession(id, new Date());
    }
    api = await startApi({
      databaseUrl: testDatabaseUrl(),
      redisUrl: testRedisUrl(),
      queuePrefix: `hostile-gw-${randomUUID().slice(0, 6)}`,
      port: 0,
      logger: false,
      replay: { apiKeys: [KEY], secret: SECRET },
    });
    base = (await api.getUrl()).replace('[::1]', '127.0.0.1').replace('http', 'ws');
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await pool.end();
  });

  /** Opens /replay/<id>?token=…, waits for the close; returns it with the first message. */
  async function attempt(path: string, headers: Record<string, string> = {}) {
    const r = await open(`${base}${path}`, headers);
    const close = await waitFor(`close of ${path.slice(0, 80)}`, () => r.close ?? undefined, 10_000);
    return { close, first: parsed(r)[0] };
  }
  /** The wording differs before/after the API-key rework; both name the API key or the token, with 4401. */
  const BAD_KEY = /API key|replay token/i;
  const refused = (reason: string | RegExp) => ({
    close: { code: 4401, reason: typeof reason === 'string' ? reason : expect.stringMatching(reason) },
    first: { type: 'error', message: typeof reason === 'string' ? reason : expect.stringMatching(reason) },
  });

  it('given a genuine token, then the stream plays (the control case for everything below)', async () => {
    const { token } = minter(Date.now()).mint(sessionId, 60_000);
    const r = await attempt(`/replay/${sessionId}?token=${encodeURIComponent(token)}`);
    expect(r.close.code).toBe(1000);
    expect(r.first).toMatchObject({ type: 'hello' });
  });

  it('given bit-flipped signatures and payloads (seeded), then 4401 "signature is invalid" every time', async () => {
    const f = fuzz('replay-token-flips-1');
    const { token } = minter(Date.now()).mint(sessionId, 60_000);
    const [, payload, sig] = token.split('.') as [string, string, string];
    const flip = (s: string): string => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const at = f.int(0, s.length - 1);
      const c = alphabet[(alphabet.indexOf(s[at] as string) + f.int(1, 63)) % 64] as string;
      return s.slice(0, at) + c + s.slice(at + 1);
    };
    for (let i = 0; i < 12; i++) {
      const forged = i % 2 === 0 ? `rt1.${payload}.${flip(sig)}` : `rt1.${flip(payload)}.${sig}`;
      expect(await attempt(`/replay/${sessionId}?token=${encodeURIComponent(forged)}`)).toMatchObject(refused('replay token signature is invalid'));
    }
    // A signature one character short or long, or empty
    for (const s of [sig.slice(0, -1), `${sig}A`, ''])
      expect(await attempt(`/replay/${sessionId}?token=${encodeURIComponent(`rt1.${payload}.${s}`)}`)).toMatchObject(refused('replay token signature is invalid'));
  }, 60_000);

  it("given another session's token, an expired one, or correctly signed hostile claims, then 4401 with the reason", async () => {
    const other = minter(Date.now()).mint(otherSessionId, 60_000).token;
    expect(await attempt(`/replay/${sessionId}?token=${encodeURIComponent(other)}`)).toMatchObject(refused('replay token is for another session'));
    const expired = minter(Date.now() - 3_600_000).mint(sessionId, 1_000).token;
    expect(await attempt(`/replay/${sessionId}?token=${encodeURIComponent(expired)}`)).toMatchObject(refused('replay token has expired'));
    for (const [claims, reason] of [
      ['not json', 'replay token is malformed'],
      ['[]', 'replay token is malformed'],
      [JSON.stringify({ sid: sessionId }), 'replay token has expired'],
      [JSON.stringify({ sid: sessionId, exp: 'never' }), 'replay token has expired'],
      [JSON.stringify({ sid: sessionId, exp: null }), 'replay token has expired'],
      [JSON.stringify({ sid: [sessionId], exp: 1e300 }), 'replay token is for another session'],
      [JSON.stringify({ sid: sessionId.toUpperCase(), exp: 1e300 }), 'replay token is for another session'],
    ] as [string, string | RegExp][]) {
      expect({ claims, ...(await attempt(`/replay/${sessionId}?token=${encodeURIComponent(signed(claims))}`)) }).toMatchObject({ claims, ...refused(reason) });
    }
  }, 60_000);

  it('given a correctly signed token whose payload is `null`, then 4401 "malformed", not an internal error', async () => {
    expect(await attempt(`/replay/${sessionId}?token=${encodeURIComponent(signed('null'))}`)).toMatchObject(refused('replay token is malformed'));
  });

  it('given wrong prefixes, extra parts, huge tokens, wrong or huge API keys, then a clear 4401; a token too big for HTTP is refused by the HTTP layer and the gateway keeps serving', async () => {
    const { token } = minter(Date.now()).mint(sessionId, 60_000);
    const [, payload, sig] = token.split('.') as [string, string, string];
    for (const t of [`rt2.${payload}.${sig}`, `RT1.${payload}.${sig}`, `${payload}.${sig}`, `rt1.${payload}.${sig}.x`, 'rt1..', '....', `Bearer ${token}`]) {
      expect([t.slice(0, 12), await attempt(`/replay/${sessionId}?token=${encodeURIComponent(t)}`)]).toEqual([
        t.slice(0, 12),
        expect.objectContaining({ close: expect.objectContaining({ code: 4401 }) }),
      ]);
    }
    expect(await attempt(`/replay/${sessionId}?token=${'A'.repeat(8_000)}`)).toMatchObject(refused('not a replay token'));
    expect(await attempt(`/replay/${sessionId}?token=rt1.${'A'.repeat(6_000)}.${'B'.repeat(43)}`)).toMatchObject(refused('replay token signature is invalid'));
    expect(await attempt(`/replay/${sessionId}?token=`)).toMatchObject(refused('an API key or a replay token is required'));
    expect(await attempt(`/replay/${sessionId}`, { authorization: `Bearer ${KEY}x` })).toMatchObject(refused(BAD_KEY));
    expect(await attempt(`/replay/${sessionId}`, { authorization: `Basic ${KEY}` })).toMatchObject(refused(BAD_KEY));
    expect(await attempt(`/replay/${sessionId}?apiKey=${encodeURIComponent(KEY.slice(0, -1))}`)).toMatchObject(refused(BAD_KEY));
    expect(await attempt(`/replay/${sessionId}`, { authorization: `Bearer ${'k'.repeat(10_000)}` })).toMatchObject(refused(BAD_KEY));
    // 1 MB in the URL: over node's header limit → an HTTP error before any WebSocket (no crash, no hang).
    const tooBig = await open(`${base}/replay/${sessionId}?token=${'A'.repeat(1_000_000)}`).then(
      () => 'opened',
      (e: Error) => e.message,
    );
    expect(tooBig).toMatch(/refused 431|socket hang up|ECONNRESET|EPIPE/);
    const ok = await attempt(`/replay/${sessionId}`, { authorization: `Bearer ${KEY}` });
    expect(ok.close.code).toBe(1000);
  }, 60_000);

  it('given the MoltStation spectate endpoint, then forged/foreign tokens → 4001 INVALID_TOKEN, expired → 4410 TOKEN_EXPIRED, a huge auth message → 1009, and a hostile sessionId → 4404', async () => {
    const spectate = `/replay/moltstation/ws/flappybots/spectate?sessionId=${platformSessionId}`;
    const closeOf = async (path: string, authMessage?: string) => {
      const r = await open(`${base}${path}`);
      if (authMessage !== undefined) r.ws.send(authMessage);
      return waitFor('close', () => r.close ?? undefined, 10_000);
    };
    const good = minter(Date.now()).mint(sessionId, 60_000).token;
    expect(await closeOf(`${spectate}&token=${encodeURIComponent(good)}`)).toEqual({ code: 1000, reason: 'GAME_OVER' });
    const [, payload, sig] = good.split('.') as [string, string, string];
    expect(await closeOf(`${spectate}&token=${encodeURIComponent(`rt1.${payload}.${sig.slice(1)}A`)}`)).toEqual({ code: 4001, reason: 'INVALID_TOKEN' });
    expect(await closeOf(`${spectate}&token=${encodeURIComponent(minter(Date.now()).mint(otherSessionId, 60_000).token)}`)).toEqual({ code: 4001, reason: 'INVALID_TOKEN' });
    expect(await closeOf(`${spectate}&token=${encodeURIComponent(minter(Date.now() - 3_600_000).mint(sessionId, 1).token)}`)).toEqual({ code: 4410, reason: 'TOKEN_EXPIRED' });
    expect(await closeOf(spectate, JSON.stringify({ t: 'auth', token: minter(Date.now() - 3_600_000).mint(sessionId, 1).token }))).toEqual({ code: 4410, reason: 'TOKEN_EXPIRED' });
    for (const m of ['{"t":"auth","token":42}', '{"t":"auth"}', '{"t":"hello","token":"x"}', '[]', 'null', '{"t":"auth","token":"' + 'x'.repeat(60_000) + '"}']) {
      expect([m.slice(0, 30), await closeOf(spectate, m)]).toEqual([m.slice(0, 30), { code: 4001, reason: 'INVALID_TOKEN' }]);
    }
    expect(await closeOf(`/replay/moltstation/ws/flappybots/spectate?sessionId=${encodeURIComponent("' OR 1=1 --")}&token=${encodeURIComponent(good)}`)).toEqual({
      code: 4404,
      reason: 'TOKEN_NOT_FOUND',
    });
  }, 60_000);

  it('given an upgrade to a path the gateway does not serve, then HTTP 404 at once (never a hang), and the gateway keeps serving', async () => {
    const answer = (path: string) =>
      Promise.race([
        open(`${base}${path}`).then(
          (r) => {
            r.ws.close();
            return 'opened';
          },
          (e: Error) => e.message,
        ),
        new Promise<string>((r) => setTimeout(() => r('no answer within 5 s'), 5_000).unref()),
      ]);
    for (const path of [
      '/',
      '/ws',
      '/replayed/x',
      '/api/sessions',
      '/socket.io/?EIO=4&transport=websocket',
      `/spacemolt/ws?sessionId=${sessionId}`,
      // What a spectate page builds from the replay base with an absolute path (`new URL('/ws/' + slug + '/spectate', base)` drops the base's prefix).
      new URL(`/ws/flappybots/spectate?sessionId=${platformSessionId}`, 'http://127.0.0.1:8080/replay/moltstation').pathname + `?sessionId=${platformSessionId}`,
    ]) {
      expect([path, await answer(path)]).toEqual([path, 'refused 404']);
    }
    const ok = await attempt(`/replay/${sessionId}`, { authorization: `Bearer ${KEY}` });
    expect(ok.close.code).toBe(1000);
  });

  it('given streams on every endpoint that end, fail to start, or are cut by their client, then the gateway holds no replay and no socket afterwards (one wiring: nothing leaks)', async () => {
    const gateway = api.get(ReplayGateway);
    const empty = randomUUID();
    await store.openSession({ id: empty, platform: 'spacemolt', game: null, startedAt: new Date(), metadata: { stream: 'run' } });
    // A SpaceMolt recording without events: its replay cannot start (4400 with the reason).
    expect(await attempt(`/replay/spacemolt/ws?sessionId=${empty}`, { authorization: `Bearer ${KEY}` })).toMatchObject({ close: { code: 4400, reason: expect.stringMatching(/no events/) } });
    expect(await attempt(`/replay/${empty}`, { authorization: `Bearer ${KEY}` })).toMatchObject({ close: { code: 4400, reason: expect.stringMatching(/no events/) } });
    // Streams cut by their client while they play (the recordings' second events are 30 s away), on each endpoint.
    const playing = { sm: randomUUID(), ms: randomUUID(), msPlatformId: `ms_cut_${randomBytes(4).toString('hex')}` };
    for (const [id, platform] of [
      [playing.sm, 'spacemolt'],
      [playing.ms, 'moltstation'],
    ] as const) {
      await store.openSession({
        id,
        platform,
        game: platform === 'moltstation' ? 'flappybots' : null,
        platformSessionId: platform === 'moltstation' ? playing.msPlatformId : null,
        startedAt: new Date(),
        metadata: { stream: 'run' },
      });
      await store.append(
        [0, 30_000_000].map((offsetUs, i) => ({
          sessionId: id,
          seq: i + 1,
          kind: 'frame' as const,
          direction: 'platform_to_client' as const,
          channel: 'play_ws' as const,
          recordedAtUs: Date.now() * 1000 + offsetUs,
          offsetUs,
          format: 'json' as const,
          body: `{"t":"frame","frame":{"tick":${i + 1}}}`,
          tick: i + 1,
        })),
      );
    }
    const msToken = minter(Date.now()).mint(playing.ms, 60_000).token;
    const cut: Reader[] = [];
    for (const path of [
      `/replay/${playing.sm}`,
      `/replay/spacemolt/ws?sessionId=${playing.sm}`,
      `/replay/moltstation/ws/flappybots/spectate?sessionId=${playing.msPlatformId}&token=${encodeURIComponent(msToken)}`,
    ]) {
      const r = await open(`${base}${path}`, { authorization: `Bearer ${KEY}` });
      await waitFor(`the first message of ${path.slice(0, 40)}`, () => r.texts[0], 10_000);
      cut.push(r);
    }
    expect(gateway.stats().replays).toBeGreaterThanOrEqual(3);
    expect(cut.map((r) => r.close)).toEqual([null, null, null]);
    for (const r of cut) r.ws.terminate();
    // A client gone before its stream was set up.
    (await open(`${base}/replay/${sessionId}`, { authorization: `Bearer ${KEY}` })).ws.terminate();
    const left = await waitFor(
      'no replay and no socket left',
      () => {
        const s = gateway.stats();
        return s.replays === 0 && s.connections === 0 ? s : undefined;
      },
      10_000,
    );
    expect(left).toMatchObject({ replays: 0, connections: 0 });
  });

  it("given a message over the gateway's 64 KiB limit (before or after auth, on every endpoint), then that socket is closed 1009 and the API process keeps serving (no unhandled error)", async () => {
    for (const path of [`/replay/${sessionId}`, `/replay/moltstation/ws/flappybots/spectate?sessionId=${platformSessionId}`, `/replay/spacemolt/ws?sessionId=${sessionId}`, '/replay/nowhere/at/all']) {
      const r = await open(`${base}${path}`, { authorization: `Bearer ${KEY}` });
      r.ws.send(Buffer.alloc(70_000, 1));
      const close = await waitFor('close', () => r.close ?? undefined, 10_000);
      expect([path, close.code === 1009 || close.code === 1000 || close.code >= 4000]).toEqual([path, true]);
    }
    const ok = await attempt(`/replay/${sessionId}`, { authorization: `Bearer ${KEY}` });
    expect(ok.close.code).toBe(1000);
  }, 60_000);
});
