import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { moltstation } from '@rewind/agents';
import { RunningSimulator, startSimulator } from '@rewind/simulator';
import { LiveMoltStationSession, listLiveMoltStationSessions, MoltStationApiError, MoltStationDiscovery } from './live-list';
import { waitFor } from './test-support';

describe('MoltStation live list and discovery (real simulator)', () => {
  let sim: RunningSimulator;
  let base: string;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 'spectator-discovery' });
    base = sim.baseUrl('moltstation');
  });
  afterEach(() => sim.faults.clear());
  afterAll(() => sim.close());

  const start = async (seed: string, slug: moltstation.MoltSlug, source: 'agent_api' | 'browser_ws'): Promise<{ id: string; client: moltstation.MoltClient }> => {
    const client = new moltstation.MoltClient({ baseUrl: base });
    await client.login(slug, moltstation.walletFor(seed));
    return { id: await client.startSession(slug, source), client };
  };

  it('listLiveMoltStationSessions parses the list and throws a clear error on a non-200 answer', async () => {
    const a = await start('list-a', 'shellrunners', 'agent_api');
    await start('list-b', 'shellrunners', 'browser_ws');
    const list = await listLiveMoltStationSessions(base, 'shellrunners');
    expect(list.map((s) => s.sessionId)).toEqual([a.id]);
    expect(list[0]).toMatchObject({ sessionId: a.id, slug: 'shellrunners', source: 'agent_api', status: 'created', tick: 0, spectators: { current: 0, max: 25 } });
    sim.faults.add({ platform: 'moltstation', fault: 'status-503', params: { path: 'sessions/live' }, times: 1 });
    const err = await listLiveMoltStationSessions(base, 'shellrunners').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MoltStationApiError);
    expect(err).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect((err as Error).message).toContain('503');
    await expect(listLiveMoltStationSessions(base, 'nosuchgame')).rejects.toMatchObject({ status: 404, code: 'GAME_NOT_FOUND' });
    // Ended sessions leave the list (and keep the next test's simulator clean).
    await a.client.requestOk('POST', `/api/games/shellrunners/sessions/${a.id}/end`);
    expect(await listLiveMoltStationSessions(base, 'shellrunners')).toEqual([]);
  });

  it('reports each live agent_api session once (not browser_ws), survives a run of 503s, forgets ended sessions', async () => {
    const seen: LiveMoltStationSession[] = [];
    const lines: string[] = [];
    const discovery = new MoltStationDiscovery({
      baseUrl: base,
      slugs: ['flappybots', 'shellrunners'],
      intervalMs: 20,
      onLive: (s) => seen.push(s),
      log: (l) => lines.push(l),
    });
    const fb = await start('disc-fb', 'flappybots', 'agent_api');
    const browser = await start('disc-browser', 'flappybots', 'browser_ws');
    discovery.start();
    try {
      await waitFor(() => seen.some((s) => s.sessionId === fb.id), 'the first agent_api session');
      const sr = await start('disc-sr', 'shellrunners', 'agent_api');
      await waitFor(() => seen.some((s) => s.sessionId === sr.id), 'the second agent_api session');
      const rounds = discovery.stats.rounds;
      await waitFor(() => discovery.stats.rounds >= rounds + 5, '5 more rounds');
      expect(seen.map((s) => s.sessionId).sort()).toEqual([fb.id, sr.id].sort());
      expect(seen.find((s) => s.sessionId === sr.id)).toMatchObject({ slug: 'shellrunners', status: 'created' });
      expect(seen.some((s) => s.sessionId === browser.id)).toBe(false);

      // The platform answers 503 for a while: logged (not per poll), polling goes on, nothing re-reported.
      sim.faults.add({ platform: 'moltstation', fault: 'status-503', params: { path: 'sessions/live' }, times: 12 });
      await waitFor(() => discovery.stats.errors >= 12, '12 failed polls');
      const late = await start('disc-late', 'flappybots', 'agent_api');
      await waitFor(() => seen.some((s) => s.sessionId === late.id), 'a session started during/after the outage');
      expect(seen.map((s) => s.sessionId).sort()).toEqual([fb.id, sr.id, late.id].sort());
      const warns = lines.filter((l) => l.includes('failed'));
      expect(warns.length).toBeGreaterThanOrEqual(1);
      expect(warns.length).toBeLessThan(12);
      expect(warns[0]).toContain('503');
      expect(lines.some((l) => l.includes('back after'))).toBe(true);

      // An ended session leaves the list and is forgotten.
      expect(discovery.knownSessions('flappybots')).toContain(fb.id);
      await fb.client.requestOk('POST', `/api/games/flappybots/sessions/${fb.id}/end`);
      await waitFor(() => !discovery.knownSessions('flappybots').includes(fb.id), 'the ended session to be forgotten');
      expect(discovery.knownSessions('flappybots')).toContain(late.id);
      expect(seen.filter((s) => s.sessionId === fb.id)).toHaveLength(1);
    } finally {
      await discovery.stop();
    }
    const afterStop = discovery.stats.rounds;
    const probe = await start('disc-after-stop', 'shellrunners', 'agent_api');
    // Stopped: a new session is visible on the list but never reported.
    await waitFor(async () => (await listLiveMoltStationSessions(base, 'shellrunners')).some((s) => s.sessionId === probe.id), 'the probe on the list');
    expect(discovery.stats.rounds).toBe(afterStop);
    expect(seen.some((s) => s.sessionId === probe.id)).toBe(false);
  });

  it('reads the live lists on kept connections, not one per read; closes them when stopped', async () => {
    // A platform that answers the live list and counts the connections it is asked on.
    let connections = 0;
    let requests = 0;
    const open = new Set<Socket>();
    const server = http.createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sessions: [] }));
    });
    server.on('connection', (socket) => {
      connections++;
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const discovery = new MoltStationDiscovery({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/moltstation`,
      slugs: ['flappybots', 'shellrunners'],
      intervalMs: 10,
      onLive: () => undefined,
    });
    discovery.start();
    try {
      await waitFor(() => discovery.stats.rounds >= 20, '20 rounds of the two lists');
      expect(discovery.stats.errors).toBe(0);
      expect(requests).toBeGreaterThanOrEqual(40);
      // One kept connection per game at most (before: one per read, 40 and more).
      expect(connections).toBeLessThanOrEqual(2);
    } finally {
      await discovery.stop();
    }
    await waitFor(() => open.size === 0, 'the kept connections closed by the stop');
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
