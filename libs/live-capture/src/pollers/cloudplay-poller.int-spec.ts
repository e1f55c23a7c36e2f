import { runCloudplayLauncher } from '@rewind/agents';
import { RunningSimulator, startSimulator } from '@rewind/simulator';
import type { HttpRequestFact, HttpResponseFact } from '@rewind/capture-facts';
import { startRecordingProxy } from '@rewind/proxy';
import { pollCloudplaySession } from './index';
import { FactLog, testContext as newContext, waitFor } from './test-support';

const TOKEN = 'poller-user-token-0001';
/** Real constants shrunk: a launch takes 150–300 ms (so the poller sees `starting`); sessions are not reclaimed during a test… */
const FAST_CLOUDPLAY = { downloadMs: [50, 100], containerStartMs: [150, 200], idleTimeoutMs: 60_000, stoppingMs: 200 };
/** …except with this one: a whole life cycle (launch → running → idle reclaim → stopping → stopped) in about 1.5 s. */
const RECLAIMING_CLOUDPLAY = { ...FAST_CLOUDPLAY, idleTimeoutMs: 1000, stoppingMs: 300 };

async function api(sim: RunningSimulator, method: 'GET' | 'POST', path: string, body?: unknown, token = TOKEN): Promise<{ status: number; json: any }> {
  const res = await fetch(`${sim.baseUrl('cloudplay')}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const statusExchanges = (sink: FactLog) => sink.exchanges().filter((e) => e.req.path.startsWith('/api/game/session-status'));
const transitions = (sink: FactLog) => sink.notes('status-transition').map((n) => `${n.detail['from']}→${n.detail['to']}`);

describe('cloud-play session poller', () => {
  let sim: RunningSimulator;
  const contexts: ReturnType<typeof newContext>[] = [];
  const testContext = (): ReturnType<typeof newContext> => {
    const c = newContext();
    contexts.push(c);
    return c;
  };
  afterEach(() => {
    // A failed test must not leave its poller running.
    for (const c of contexts.splice(0)) c.abort.abort();
  });
  beforeEach(async () => {
    sim = await startSimulator({ port: 0, seed: 'poller', platformOptions: { cloudplay: FAST_CLOUDPLAY } });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('records starting → running → stopping → stopped (idle reclaim after a keepalive), skips identical polls and ends with the final list', async () => {
    await sim.close();
    sim = await startSimulator({ port: 0, seed: 'poller', platformOptions: { cloudplay: RECLAIMING_CLOUDPLAY } });
    const launch = await api(sim, 'POST', '/api/game/launch', { gameSlug: 'the-aleph' });
    expect(launch.status).toBe(202);
    const sessionId: string = launch.json.sessionId;
    const ctx = testContext();
    const done = pollCloudplaySession({ baseUrl: sim.baseUrl('cloudplay'), sessionId, getToken: () => TOKEN, intervalMs: 10 }, ctx);

    await waitFor(() => transitions(ctx.sink).includes('starting→running'), 'running');
    const keepalive = await api(sim, 'POST', '/api/game/keepalive', { sessionId });
    expect(keepalive.status).toBe(200);
    const result = await done;

    expect(result).toMatchObject({ status: 'ended', reason: 'stopped' });
    expect(transitions(ctx.sink)).toEqual(['null→starting', 'starting→running', 'running→stopping', 'stopping→stopped']);

    // One recorded status exchange per distinct answer; every other poll was identical and only counted.
    const recorded = statusExchanges(ctx.sink);
    expect(recorded.map((e) => e.json.status)).toEqual(['starting', 'running', 'stopping', 'stopped']);
    for (let i = 1; i < recorded.length; i++) expect(recorded[i]!.res!.body.equals(recorded[i - 1]!.res!.body)).toBe(false);
    const summary = (result as { summary: Record<string, any> }).summary;
    expect(summary['skippedPolls']).toBeGreaterThan(0);
    expect(summary['polls']).toBe(recorded.length + summary['skippedPolls']);
    const skippedInMarkers = ctx.sink.notes('status-transition').reduce((n, m) => n + (m.detail['skippedPolls'] as number), 0);
    expect(skippedInMarkers).toBe(summary['skippedPolls']);
    expect(ctx.sink.notes('status-transition').find((m) => m.detail['to'] === 'stopping')!.detail['skippedPolls']).toBeGreaterThan(0);

    // Facts mirror the proxy's: origin poller, platform path with query, exact bytes, raw header pairs.
    const first = recorded[0]!;
    expect(first.req).toMatchObject({ type: 'http-request', origin: 'poller', platform: 'cloudplay', method: 'GET', path: `/api/game/session-status?sessionId=${sessionId}` });
    expect(first.req.headers).toContainEqual(['authorization', `Bearer ${TOKEN}`]);
    expect(first.req.body.length).toBe(0);
    expect(first.res).toMatchObject({ type: 'http-response', origin: 'poller', status: 200 });
    expect(first.res!.headers.some(([k, v]) => k.toLowerCase() === 'content-type' && v.startsWith('application/json'))).toBe(true);
    expect(first.req.connectionId).toMatch(/^poll-\d+-\d+$/);
    expect(new Set(ctx.sink.requests().map((r) => r.connectionId)).size).toBe(ctx.sink.requests().length);

    // After the end: the session list, once (a stopped session is not listed).
    const last = ctx.sink.exchanges().at(-1)!;
    expect(last.req.path).toBe('/api/game/sessions');
    expect(last.json).toEqual({ sessions: [] });
    expect(ctx.sink.exchanges().filter((e) => e.req.path === '/api/game/sessions')).toHaveLength(1);
    expect(ctx.lines.join('\n')).not.toContain(TOKEN);
  });

  it('follows the launcher bot through the recording proxy: token and session id from the proxy facts', async () => {
    const proxyFacts = new FactLog();
    let sessionId: string | undefined;
    let token: string | undefined;
    const proxy = await startRecordingProxy({
      port: 0,
      upstreams: { cloudplay: sim.baseUrl('cloudplay') },
      sink: {
        capture(f) {
          proxyFacts.capture(f);
          if (f.type === 'http-request') token = /^Bearer (.+)$/.exec(f.headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? '')?.[1] ?? token;
          if (f.type === 'http-response' && f.status === 202) sessionId = JSON.parse(f.body.toString()).sessionId;
        },
      },
    });
    try {
      const bot = runCloudplayLauncher({ baseUrl: `${proxy.url}/cloudplay`, token: TOKEN, pollIntervalMs: 5, keepaliveIntervalMs: 60, keepalives: 3 });
      const id = await waitFor(() => sessionId, 'the launch answer through the proxy');
      const ctx = testContext();
      const result = await pollCloudplaySession({ baseUrl: sim.baseUrl('cloudplay'), sessionId: id, getToken: () => token, intervalMs: 10 }, ctx);
      const botResult = await bot;
      expect(result).toMatchObject({ status: 'ended', reason: 'stopped' });
      expect(botResult.sessionId).toBe(id);
      expect(transitions(ctx.sink)).toEqual(['null→starting', 'starting→running', 'running→stopped']);
      // The poller's own calls never went through the proxy.
      expect(proxyFacts.requests().filter((r) => r.origin === 'poller')).toHaveLength(0);
    } finally {
      await proxy.close();
    }
  });

  it('honours Retry-After on 503 and 429 status faults, recording both answers, then goes on', async () => {
    const launch = await api(sim, 'POST', '/api/game/launch', { gameSlug: 'tlon-uqbar' });
    const sessionId: string = launch.json.sessionId;
    const ctx = testContext();
    const done = pollCloudplaySession({ baseUrl: sim.baseUrl('cloudplay'), sessionId, getToken: () => TOKEN, intervalMs: 10 }, ctx);
    await waitFor(() => transitions(ctx.sink).includes('starting→running'), 'running');
    sim.faults.add({ platform: 'cloudplay', fault: 'status-503', target: sessionId, params: { retryAfter: 1, endpoints: ['session-status'] }, times: 1 });
    await waitFor(() => ctx.sink.responses().some((r) => r.status === 503), 'the 503');
    await waitFor(() => ctx.sink.responses().filter((r) => r.status === 200).length >= 3, 'a 200 after the 503', 5000);
    sim.faults.add({ platform: 'cloudplay', fault: 'status-429', target: sessionId, params: { retryAfter: 1, endpoints: ['session-status'] }, times: 1 });
    await waitFor(() => ctx.sink.responses().some((r) => r.status === 429), 'the 429', 5000);
    await waitFor(() => ctx.sink.responses().filter((r) => r.status === 200).length >= 4, 'a 200 after the 429', 5000);
    expect((await api(sim, 'POST', '/api/game/stop', { sessionId })).status).toBe(200);
    const result = await done;
    expect(result).toMatchObject({ status: 'ended', reason: 'stopped' });

    const statuses = statusExchanges(ctx.sink).map((e) => e.res!.status);
    expect(statuses).toEqual([200, 200, 503, 200, 429, 200, 200]);
    const markers = ctx.sink.notes('retry-after');
    expect(markers.map((m) => [m.detail['status'], m.detail['retryAfterHeader'], m.detail['waitMs']])).toEqual([
      [503, '1', 1000],
      [429, '1', 1000],
    ]);
    // The next request came no sooner than Retry-After after each busy answer.
    const reqs = ctx.sink.requests();
    for (const busy of ctx.sink.responses().filter((r) => r.status === 503 || r.status === 429)) {
      const next = reqs.find((r) => r.wallUs > busy.wallUs)!;
      expect(next.wallUs - busy.wallUs).toBeGreaterThanOrEqual(990_000);
    }
    // The answers after each fault differ from the fault answer, so they are recorded (and count as no transition).
    expect(transitions(ctx.sink)).toEqual(['null→starting', 'starting→running', 'running→stopped']);
  });

  it('waits without calling while it has no token, and after a 401 until getToken returns a different token (marker once)', async () => {
    const launch = await api(sim, 'POST', '/api/game/launch', { gameSlug: 'library-of-babel' });
    expect(launch.status).toBe(202);
    const sessionId: string = launch.json.sessionId;
    let token: string | undefined;
    let tokenReads = 0;
    const ctx = testContext();
    const done = pollCloudplaySession(
      {
        baseUrl: sim.baseUrl('cloudplay'),
        sessionId,
        getToken: () => {
          tokenReads++;
          return token;
        },
        intervalMs: 5,
      },
      ctx,
    );
    await waitFor(() => tokenReads >= 10, 'ten ticks without a token');
    expect(ctx.sink.facts).toHaveLength(0);

    token = 'bad!'; // not a bearer token the platform accepts: 401
    await waitFor(() => ctx.sink.notes('token-rejected').length === 1, 'the token-rejected marker');
    const readsAtRejection = tokenReads;
    await waitFor(() => tokenReads >= readsAtRejection + 10, 'ten ticks with the rejected token');
    expect(ctx.sink.responses().filter((r) => r.status === 401)).toHaveLength(1);
    expect(ctx.sink.notes('token-rejected')).toHaveLength(1);

    token = TOKEN; // the proxy saw the agent's real token
    // On a busy machine the launch may already be running when the first good poll lands (null→running).
    await waitFor(() => transitions(ctx.sink).some((t) => t.endsWith('→running')), 'running with the new token');
    expect((await api(sim, 'POST', '/api/game/stop', { sessionId })).status).toBe(200);
    const result = await done;
    expect(result).toMatchObject({ status: 'ended', reason: 'stopped', summary: { tokenRejections: 1 } });
    const authHeaders = ctx.sink.requests().map((r) => r.headers.find(([k]) => k === 'authorization')?.[1]);
    expect(authHeaders[0]).toBe('Bearer bad!');
    expect(authHeaders.slice(1).every((h) => h === `Bearer ${TOKEN}`)).toBe(true);
    expect(ctx.lines.join('\n')).not.toMatch(/bad!|poller-user-token/);
  });

  it('aborts promptly mid-wait, leaving no timer behind', async () => {
    const launch = await api(sim, 'POST', '/api/game/launch', { gameSlug: 'the-aleph' });
    const ctx = testContext();
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const done = pollCloudplaySession({ baseUrl: sim.baseUrl('cloudplay'), sessionId: launch.json.sessionId, getToken: () => TOKEN, intervalMs: 60_000 }, ctx);
    await waitFor(() => ctx.sink.responses().length === 1, 'the first poll');
    const t0 = Date.now();
    ctx.abort.abort();
    await expect(done).resolves.toEqual({ status: 'aborted' });
    expect(Date.now() - t0).toBeLessThan(5_000); // promptly against the 60 s poll interval: a bound a loaded machine keeps
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(timersBefore);
    // Not ended: no session list read.
    expect(ctx.sink.requests().every((r: HttpRequestFact) => r.path.startsWith('/api/game/session-status'))).toBe(true);
    expect(ctx.sink.responses().every((r: HttpResponseFact) => r.status === 200)).toBe(true);
  });
});
