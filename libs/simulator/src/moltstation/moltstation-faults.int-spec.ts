import { waitFor } from '@rewind/testing';
import { RunningSimulator, startSimulator } from '../index';
import { http, login, rawSocket, RawSocket, sleep } from './test-helpers';

describe('MoltStation faults', () => {
  let sim: RunningSimulator;
  let base: string;
  let token: string;
  const open: RawSocket[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 'faults' });
    base = sim.baseUrl('moltstation');
    token = await login(base, '0x4444444444444444444444444444444444444444', 'shellrunners');
  });
  afterEach(() => {
    sim.faults.clear();
    for (const s of open.splice(0)) s.ws.terminate();
  });
  afterAll(() => sim.close());

  const session = async (slug = 'shellrunners'): Promise<string> => (await http(base, 'POST', `/api/games/${slug}/sessions/start`, { source: 'browser_ws' }, token)).json.sessionId;
  const play = async (id: string, slug = 'shellrunners'): Promise<RawSocket> => {
    const t = (await http(base, 'POST', `/api/games/${slug}/sessions/${id}/play-token`, undefined, token)).json.playToken;
    const s = rawSocket(`${base.replace(/^http/, 'ws')}/ws/${slug}/play?sessionId=${id}&token=${t}`);
    open.push(s);
    return s;
  };
  const frameTicks = (s: RawSocket): number[] => s.messages.filter((m) => m.t === 'frame').map((m) => m.frame.tick);

  it('status-429 / status-503 answer the documented-shape error, honour target, path and times', async () => {
    const id = await session();
    sim.faults.add({ platform: 'moltstation', fault: 'status-429', target: id, params: { path: 'play-token' }, times: 1 });
    const hb = await http(base, 'POST', `/api/games/shellrunners/sessions/${id}/heartbeat`, undefined, token);
    expect(hb.status).toBe(200);
    const limited = await http(base, 'POST', `/api/games/shellrunners/sessions/${id}/play-token`, undefined, token);
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({ error: 'Too many requests', code: 'RATE_LIMITED' });
    expect(limited.headers.get('retry-after')).toBe('1');
    expect((await http(base, 'POST', `/api/games/shellrunners/sessions/${id}/play-token`, undefined, token)).status).toBe(200);
    sim.faults.add({ platform: 'moltstation', fault: 'status-503', times: 2 });
    const down = await http(base, 'GET', `/api/games/shellrunners/sessions/live`);
    expect([down.status, down.json.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
    expect((await http(base, 'GET', `/api/games/shellrunners/sessions/${id}`)).status).toBe(503);
    expect((await http(base, 'GET', `/api/games/shellrunners/sessions/${id}`)).status).toBe(200);
  });

  it('drop-socket {afterTicks} drops the play socket without a close frame (1006); the session keeps running', async () => {
    const id = await session();
    sim.faults.add({ platform: 'moltstation', fault: 'drop-socket', target: id, params: { afterTicks: 3 }, times: 1 });
    const s = await play(id);
    expect((await s.closed).code).toBe(1006);
    expect(frameTicks(s)).toEqual([0, 1, 2]);
    const detail = await waitFor('the session ticking on after the drop', () => http(base, 'GET', `/api/games/shellrunners/sessions/${id}`), {
      until: (d) => d.json.tick > 2 || d.json.status !== 'live',
    });
    expect(detail.json.status).toBe('live');
    expect(detail.json.tick).toBeGreaterThan(2);
    const again = await play(id);
    await again.waitFor((m) => m.t === 'frame' && m.frame.tick > detail.json.tick);
  });

  it('close-4001 and close-1000 close the play socket after {afterTicks}', async () => {
    const id = await session();
    sim.faults.add({ platform: 'moltstation', fault: 'close-4001', target: id, params: { afterTicks: 2 }, times: 1 });
    const a = await play(id);
    expect(await a.closed).toEqual({ code: 4001, reason: 'INVALID_TOKEN' });
    expect(frameTicks(a)).toHaveLength(2);
    sim.faults.add({ platform: 'moltstation', fault: 'close-1000', target: id, params: { afterTicks: 1 }, times: 1 });
    const b = await play(id);
    expect(await b.closed).toEqual({ code: 1000, reason: '' });
    expect(frameTicks(b)).toHaveLength(1);
  });

  it('delay-frames {ms} delays frames but keeps their order', async () => {
    const id = await session();
    const s = await play(id);
    await s.waitFor((m) => m.t === 'frame' && m.frame.tick >= 2);
    sim.faults.add({ platform: 'moltstation', fault: 'delay-frames', target: id, params: { ms: 400 } });
    const startedAt = Date.now();
    const seenAt = frameTicks(s).length;
    await sleep(300); // deliberate: the fault holds frames 400 ms; 300 ms later they must still be held
    // Frames produced in the last 300 ms are still held (at most the one in flight when the fault was added).
    expect(frameTicks(s).length - seenAt).toBeLessThanOrEqual(1);
    await s.waitFor((m) => m.t === 'frame' && m.frame.tick >= 12, 3000);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(400);
    const ticks = frameTicks(s);
    expect(ticks).toEqual([...ticks].sort((x, y) => x - y));
    expect(new Set(ticks).size).toBe(ticks.length);
  });

  it('batch-frames {n} delivers frames in bursts of n', async () => {
    const id = await session();
    sim.faults.add({ platform: 'moltstation', fault: 'batch-frames', target: id, params: { n: 4 } });
    const s = await play(id);
    const arrivals: number[] = [];
    s.ws.on('message', () => arrivals.push(Date.now()));
    await s.waitFor((m) => m.t === 'frame' && m.frame.tick >= 11, 3000);
    const ticks = frameTicks(s);
    expect(ticks.slice(0, 12)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // hello + 12 frames; frames 0-3, 4-7, 8-11 arrive together: gaps inside a burst are tiny, between bursts ~200 ms.
    const frameArrivals = arrivals.slice(arrivals.length - ticks.length);
    const gaps = frameArrivals.slice(1).map((t, i) => t - (frameArrivals[i] as number));
    expect(gaps.filter((g) => g >= 120).length).toBeGreaterThanOrEqual(2);
    expect(gaps.filter((g) => g < 30).length).toBeGreaterThanOrEqual(6);
  });

  it('slow-consumer skips {ticks} frames then closes 1013 SLOW_CONSUMER', async () => {
    const id = await session();
    sim.faults.add({ platform: 'moltstation', fault: 'slow-consumer', target: id, params: { afterTicks: 2, ticks: 3 } });
    const s = await play(id);
    expect(await s.closed).toEqual({ code: 1013, reason: 'SLOW_CONSUMER' });
    expect(frameTicks(s)).toEqual([0, 1]);
  });

  it('faults can be injected over HTTP (POST /admin/faults) too', async () => {
    const id = await session();
    const added = await http(sim.url, 'POST', '/admin/faults', { platform: 'moltstation', fault: 'status-503', target: id, times: 1 });
    expect(added.status).toBe(201);
    expect((await http(base, 'GET', `/api/games/shellrunners/sessions/${id}`)).status).toBe(503);
    expect((await http(base, 'GET', `/api/games/shellrunners/sessions/${id}`)).status).toBe(200);
  });

  it('faults for another session leave this one alone', async () => {
    const id = await session();
    sim.faults.add({ platform: 'moltstation', fault: 'drop-socket', target: 'someone-else', params: { afterTicks: 0 } });
    const s = await play(id);
    await s.waitFor((m) => m.t === 'frame' && m.frame.tick >= 4);
    expect(s.ws.readyState).toBe(s.ws.OPEN);
  });
});
