import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { moltstation, runCloudplayLauncher, runRgsBot, runSpaceMoltHttpMiner, runSpaceMoltWsMiner, TrafficLog } from '@rewind/agents';
import { EventStore, StoredEvent, verifySession } from '@rewind/event-store';
import { createTestPool, waitFor } from '@rewind/testing';
import { Ingest } from '@rewind/ingest';
import { withRig, RigOptions, Rig } from '@rewind/proxy/test-support';
import { Redactor } from '@rewind/redaction';
import { Recorder, TaskOffer } from './recorder';
import { byDirection, httpExchanges, readStreams, wsSequences } from './test-support/compare';

interface Recorded {
  recorder: Recorder;
  redactor: Redactor;
  streams: Map<string, StoredEvent[]>;
  tasks: TaskOffer[];
  logs: string[];
}

describe('Recorder: bots play through the recording proxy; the store holds exactly what they exchanged', () => {
  let pool: Pool;
  let store: EventStore;
  const dirs: string[] = [];

  beforeAll(() => {
    pool = createTestPool();
    store = new EventStore(pool);
  });
  afterAll(async () => {
    await pool.end();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** Runs `play` against a simulator behind a proxy whose sink is a Recorder; waits until every stream is sealed. */
  async function record(rig: Omit<RigOptions, 'viaProxy' | 'sink'>, play: (r: Rig) => Promise<unknown>, options: { rgsSessionTtlMs?: number } = {}): Promise<Recorded> {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-recorder-'));
    dirs.push(dir);
    const logs: string[] = [];
    const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(`ERROR ${m}`) };
    const ingest = await Ingest.open({ store, journalDir: dir, log });
    const redactor = new Redactor(randomBytes(32));
    const tasks: TaskOffer[] = [];
    const recorder = new Recorder({ ingest, store, redactor, log, sealAfterMs: 150, accountIdleMs: 150, onTask: (t) => tasks.push(t), ...options });
    await withRig({ ...rig, viaProxy: true, sink: recorder }, play);
    // Runs end on their own signals; account streams after their idle time; everything is sealed after that.
    await waitFor('every stream sealed', () => recorder.stats(), { until: (s) => s.openStreams === 0 }).catch(() => undefined); // the expect below says what is left
    expect(recorder.stats()).toMatchObject({ openStreams: 0, failures: 0 });
    await ingest.waitUntilStored();
    await ingest.close();
    const streams = await readStreams(
      store,
      recorder.openedStreams().map((s) => s.id),
    );
    for (const id of streams.keys()) {
      expect(await verifySession(store, id)).toMatchObject({ ok: true });
      expect((await store.getSession(id))?.status).toBe('sealed');
    }
    expect(logs.filter((l) => l.startsWith('ERROR'))).toEqual([]);
    return { recorder, redactor, streams, tasks, logs };
  }

  const runs = (r: Recorded) => r.recorder.openedStreams().filter((s) => s.kind === 'run');
  const outcomeOf = (events: StoredEvent[]) => {
    const o = events.filter((e) => e.kind === 'outcome');
    expect(o).toHaveLength(1);
    return JSON.parse(o[0]!.body as string) as Record<string, unknown>;
  };
  const outboxOf = async (sessionId: string) =>
    (await pool.query<{ queue: string; dedupe_key: string }>('SELECT queue, dedupe_key FROM outbox WHERE session_id = $1 ORDER BY queue', [sessionId])).rows;

  it('MoltStation Flappy Bots: one run stream, frames and inputs byte for byte, final frame → outcome + outbox, spectator offered', async () => {
    const traffic = new TrafficLog();
    let summary: moltstation.MoltBotSummary | undefined;
    const r = await record({ seed: 'rec-molt', platform: 'moltstation' }, async (rig) => {
      summary = await moltstation.runFlappyBotsFlapper({ baseUrl: rig.base, seed: 'rec', traffic, stopAfterTick: 30 });
    });
    const ws = wsSequences(r.streams, traffic, r.redactor);
    expect(ws.stored.length).toBeGreaterThan(30);
    expect(byDirection(ws.stored)).toEqual(byDirection(ws.bot));
    const http = httpExchanges(r.streams, traffic, r.redactor);
    expect(http.stored).toEqual(http.bot);
    const [run] = runs(r);
    expect(runs(r)).toHaveLength(1);
    const events = r.streams.get(run!.id)!;
    const session = await store.getSession(run!.id);
    expect(session).toMatchObject({ platform: 'moltstation', game: 'flappybots', platformSessionId: summary!.sessionId, source: 'agent_api' });
    const outcome = outcomeOf(events);
    expect(outcome).toMatchObject({ reason: 'GAME_OVER', phase: 'ended', score: summary!.score });
    expect(session?.outcome).toMatchObject({ reason: 'GAME_OVER' });
    expect((await outboxOf(run!.id)).map((o) => o.queue)).toEqual(['reward-handoff', 'run-audit', 'snapshot-submission']);
    // Inputs carry the tick of the last frame the agent had seen.
    let lastTick: number | null = null;
    for (const e of events) {
      if (e.kind === 'frame') lastTick = e.tick;
      if (e.kind === 'input') expect(e.tick).toBe(lastTick);
    }
    expect(events.some((e) => e.kind === 'input')).toBe(true);
    // The snapshot the bot made after GAME_OVER belongs to the run too (ended, not yet sealed, when it came).
    expect(events.some((e) => e.kind === 'request' && e.msgType === 'POST /api/rewards/snapshot')).toBe(true);
    expect(r.tasks.map((t) => t.kind)).toEqual(['moltstation-spectate']);
    expect(r.tasks[0]!.params).toMatchObject({ slug: 'flappybots', platformSessionId: summary!.sessionId });
  });

  it('SpaceMolt WebSocket: one stream per connection named after the login, ended by the close', async () => {
    const traffic = new TrafficLog();
    const r = await record({ seed: 'rec-smws', platform: 'spacemolt', platformOptions: { spacemolt: { tickMs: 50 } } }, (rig) =>
      runSpaceMoltWsMiner({ baseUrl: rig.base, seed: 'rec', traffic, cycles: 1 }),
    );
    const ws = wsSequences(r.streams, traffic, r.redactor);
    expect(ws.stored.length).toBeGreaterThan(5);
    expect(byDirection(ws.stored)).toEqual(byDirection(ws.bot));
    const [run] = runs(r);
    const session = await store.getSession(run!.id);
    expect(session?.agent).toMatch(/\S/);
    expect(outcomeOf(r.streams.get(run!.id)!)).toMatchObject({ reason: 'logout' });
  });

  it('SpaceMolt HTTP v2: the X-Session-Id stream (keyed by fingerprint), logout ends it', async () => {
    const traffic = new TrafficLog();
    const r = await record({ seed: 'rec-smhttp', platform: 'spacemolt', platformOptions: { spacemolt: { tickMs: 50 } } }, (rig) =>
      runSpaceMoltHttpMiner({ baseUrl: rig.base, seed: 'rec', traffic, cycles: 1 }),
    );
    const http = httpExchanges(r.streams, traffic, r.redactor);
    expect(http.stored.length).toBeGreaterThan(3);
    expect(http.stored).toEqual(http.bot);
    const run = runs(r).find((s) => s.key.startsWith('session:fp-'));
    expect(run).toBeDefined();
    expect(outcomeOf(r.streams.get(run!.id)!)).toMatchObject({ reason: 'logout' });
  });

  it('cloud-play: launch → stop is one run with the stop statistics as its outcome; poller offered', async () => {
    const traffic = new TrafficLog();
    const r = await record({ seed: 'rec-cp', platform: 'cloudplay', platformOptions: { cloudplay: { timeScale: 0.001 } } }, (rig) =>
      runCloudplayLauncher({ baseUrl: rig.base, seed: 'rec', traffic, token: 'rec-token-0123456789', keepalives: 1, keepaliveIntervalMs: 10, pollIntervalMs: 20 }),
    );
    const http = httpExchanges(r.streams, traffic, r.redactor);
    expect(http.stored).toEqual(http.bot);
    const [run] = runs(r);
    expect(runs(r)).toHaveLength(1);
    expect(outcomeOf(r.streams.get(run!.id)!)).toMatchObject({ reason: 'stopped', duration: expect.anything() });
    expect(r.tasks.map((t) => t.kind)).toEqual(['cloudplay-poll']);
  });

  it('RGS: the launch names the run, the refreshed token stays in it, expiry ends it', async () => {
    const traffic = new TrafficLog();
    const r = await record(
      { seed: 'rec-rgs', platform: 'rgs', platformOptions: { rgs: { sessionTtlMs: 1500 } } },
      (rig) => runRgsBot({ baseUrl: rig.base, seed: 'rec', traffic, diceRounds: 4, minesRounds: 1 }),
      { rgsSessionTtlMs: 1500 },
    );
    const http = httpExchanges(r.streams, traffic, r.redactor);
    expect(http.stored).toEqual(http.bot);
    // The bot launches a Dice and a Mines session: two runs, each keyed by its RGS session id.
    const rgsRuns = runs(r);
    expect(rgsRuns.map((s) => s.key)).toEqual([expect.stringMatching(/^session:rgs-/), expect.stringMatching(/^session:rgs-/)]);
    const all = rgsRuns.map((s) => r.streams.get(s.id)!);
    // The Dice run's token is refreshed half-way: the calls with the new token stay in the same run.
    const dice = all.find((events) => events.some((e) => e.msgType === 'POST /session/refresh'))!;
    const refreshAt = dice.findIndex((e) => e.msgType === 'POST /session/refresh');
    expect(dice.slice(refreshAt).some((e) => e.msgType === 'POST /game/play')).toBe(true);
    expect(all.flat().filter((e) => e.msgType === 'POST /game/play' && e.kind === 'request').length).toBeGreaterThanOrEqual(5);
    for (const events of all) expect(outcomeOf(events)).toMatchObject({ reason: 'expired' });
    expect(r.tasks.map((t) => t.kind)).toEqual(['rgs-poll', 'rgs-poll']);
  });
});
