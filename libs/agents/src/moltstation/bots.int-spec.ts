import { waitFor } from '@rewind/testing';
import { isFlappyFrame, RunningSimulator, startSimulator } from '@rewind/simulator';
import { TrafficLog } from '../traffic-log';
import { MoltClient, MoltHttpError, walletFor } from './client';
import { runFlappyBotsFlapper } from './flappybots-flapper';
import { runShellRunnersSteerer } from './shellrunners-steerer';
import { attachSpectator } from './spectator';

describe('MoltStation bots', () => {
  let sim: RunningSimulator;
  let base: string;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 'bots' });
    base = sim.baseUrl('moltstation');
  });
  afterEach(() => sim.faults.clear());
  afterAll(() => sim.close());

  it('Flappy Bots flapper plays an agent_api session to GAME_OVER, logs all traffic, snapshots', async () => {
    const traffic = new TrafficLog();
    const summary = await runFlappyBotsFlapper({ baseUrl: base, seed: 'flapper-1', traffic, stopAfterTick: 40 });
    expect(summary).toMatchObject({ slug: 'flappybots', phase: 'ended', closeCode: 1000, closeReason: 'GAME_OVER', hello: { t: 'hello', role: 'play', tickHz: 20 } });
    expect(summary.gameOverReason).toMatch(/COLLISION$/);
    expect(summary.ticks).toBeGreaterThanOrEqual(40);
    expect(summary.inputsSent).toBeGreaterThan(0);
    expect(summary.snapshot).toMatchObject({ ok: true, sessionId: summary.sessionId });

    const ws = traffic.of('play-ws#1');
    expect(ws[0]).toMatchObject({ channel: 'ws', direction: 'sent', data: expect.stringMatching(/^\{"t":"auth","token":"pt_[0-9a-f]+"\}$/) });
    expect(ws[1]).toMatchObject({ direction: 'received', data: '{"t":"hello","role":"play","tickHz":20}' });
    const frames = ws.filter((e) => e.direction === 'received' && typeof e.data === 'string' && e.data.startsWith('{"t":"frame"'));
    expect(frames).toHaveLength(summary.framesReceived);
    for (const f of frames) expect(isFlappyFrame(JSON.parse(f.data as string).frame)).toBe(true);
    expect(ws.filter((e) => e.direction === 'sent').length).toBe(summary.inputsSent + 1);
    expect(ws[ws.length - 1]).toMatchObject({ data: '', meta: { event: 'close', code: 1000, reason: 'GAME_OVER' } });
    const start = traffic.of('POST /api/games/flappybots/sessions/start');
    expect(start.map((e) => e.direction)).toEqual(['sent', 'received']);
    expect(start[0]).toMatchObject({ channel: 'http', data: '{"source":"agent_api"}', meta: { method: 'POST', path: '/api/games/flappybots/sessions/start' } });
    expect(start[1]).toMatchObject({ meta: { status: 200 }, data: expect.stringContaining(summary.sessionId) });
    const pt = traffic.of(`POST /api/games/flappybots/sessions/${summary.sessionId}/play-token`);
    expect(pt[0]?.data).toBe('');
  });

  it('ShellRunners steerer (legacy query auth) plays to GAME_OVER with a small hungerMax; a second run snapshots first', async () => {
    const traffic = new TrafficLog();
    const opts = { baseUrl: base, seed: 'steerer-1', traffic, authStyle: 'query' as const, snapshot: false, simulatorOptions: { hungerMax: 5, ghostMs: 100 } };
    const summary = await runShellRunnersSteerer(opts);
    expect(summary).toMatchObject({ slug: 'shellrunners', phase: 'ended', closeReason: 'GAME_OVER' });
    expect(summary.gameOverReason).toBeUndefined(); // SR frames carry no gameOverReason
    expect(summary.inputsSent).toBe(summary.framesReceived - 1); // one input per frame except the final one
    const ws = traffic.of('play-ws#1');
    expect(ws.some((e) => e.direction === 'sent' && String(e.data).startsWith('{"t":"auth"'))).toBe(false);
    expect(ws.filter((e) => e.direction === 'sent').every((e) => /^\{"t":"input","dir":"(left|right|none)"\}$/.test(e.data as string))).toBe(true);
    // The un-snapshotted agent_api session gates the next start: the bot snapshots it and retries.
    const second = await runShellRunnersSteerer({ ...opts, traffic: new TrafficLog(), snapshot: true });
    expect(second.closeReason).toBe('GAME_OVER');
    const detail = (await (await fetch(`${base}/api/games/shellrunners/sessions/${summary.sessionId}`)).json()) as { snapshotted: boolean };
    expect(detail.snapshotted).toBe(true);
  });

  it('stops early on signal abort (closes its socket 1000, no reconnect, no snapshot)', async () => {
    const ac = new AbortController();
    const traffic = new TrafficLog();
    const timer = setTimeout(() => ac.abort(), 400);
    const summary = await runShellRunnersSteerer({ baseUrl: base, seed: 'aborted', traffic, signal: ac.signal });
    clearTimeout(timer);
    expect(summary.connections).toBe(1);
    expect(summary.closeCode).toBe(1000);
    expect(summary.phase).toBe('running');
    expect(summary.snapshot).toBeUndefined();
    expect(traffic.entries.some((e) => e.stream === 'POST /api/rewards/snapshot')).toBe(false);
  });

  it('recovers from a token-recovery close (INVALID_TOKEN) by re-issuing a play token and reconnecting', async () => {
    sim.faults.add({ platform: 'moltstation', fault: 'close-4001', params: { afterTicks: 3 }, times: 1 });
    const traffic = new TrafficLog();
    const summary = await runFlappyBotsFlapper({ baseUrl: base, seed: 'flapper-2', traffic, stopAfterTick: 10 });
    expect(summary.connections).toBe(2);
    expect(traffic.of('play-ws#1').pop()).toMatchObject({ meta: { code: 4001, reason: 'INVALID_TOKEN' } });
    expect(summary.closeReason).toBe('GAME_OVER');
  });

  it('spectator helper attaches (public and authenticated), collects live frames, and surfaces 409 SPECTATORS_FULL', async () => {
    const traffic = new TrafficLog();
    const collected: any[] = [];
    let spectatorDone: Promise<unknown> | undefined;
    const playing = runShellRunnersSteerer({
      baseUrl: base,
      seed: 'steerer-spectated',
      snapshot: false,
      simulatorOptions: { hungerMax: 5, ghostMs: 100 },
      log: (line) => {
        const m = /session (ms_[0-9a-f]+)/.exec(line);
        if (m && !spectatorDone) {
          spectatorDone = attachSpectator({ baseUrl: base, slug: 'shellrunners', sessionId: m[1] as string, traffic, onFrame: (f) => collected.push(f) }).then((h) => h.done);
        }
      },
    });
    const summary = await playing;
    const run: any = await spectatorDone;
    expect(run.hello).toEqual({ t: 'hello', role: 'spectate', tickHz: 20 });
    expect(run.closeReason).toBe('GAME_OVER');
    expect(collected.length).toBeGreaterThan(10);
    expect(collected[collected.length - 1].tick).toBe(summary.ticks);
    expect(collected.every((f) => f.spectators.current === 1)).toBe(true);
    expect(traffic.of('spectate-ws#1')[0]?.data).toMatch(/^\{"t":"auth","token":"st_/);

    const client = new MoltClient({ baseUrl: base });
    await client.login('flappybots', walletFor('owner'));
    const live = await client.startSession('flappybots', 'browser_ws');
    sim.faults.add({ platform: 'moltstation', fault: 'spectators-full', target: live, times: 1 });
    const refused = await attachSpectator({ baseUrl: base, slug: 'flappybots', sessionId: live }).catch((e) => e);
    expect(refused).toBeInstanceOf(MoltHttpError);
    expect((refused as MoltHttpError).status).toBe(409);
    expect((refused as MoltHttpError).body).toEqual({ error: '25/25 spectators limit reached for this livestream', code: 'SPECTATORS_FULL', spectatorsCurrent: 25, spectatorsMax: 25 });
    // Authenticated spectate-token flow works too (not started yet: the hello comes, frames follow once play starts).
    const authed = await attachSpectator({ baseUrl: base, slug: 'flappybots', sessionId: live, public: false, seed: 'viewer', stream: 'spectate-ws#2', traffic });
    await waitFor('the hello on the authenticated spectate socket', () => traffic.of('spectate-ws#2').some((e) => e.direction === 'received' && e.data.includes('"hello"')));
    authed.close();
    const run2 = await authed.done;
    expect(run2.hello).toEqual({ t: 'hello', role: 'spectate', tickHz: 20 });
    expect(traffic.of('POST /api/games/flappybots/sessions/' + live + '/spectate-token')[1]?.meta).toMatchObject({ status: 200 });
  });
});
