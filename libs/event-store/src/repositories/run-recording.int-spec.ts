import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createTestPool } from '@rewind/db/test-support';
import { EventStore } from '../event-store';
import type { NewEvent } from '../types';
import { SessionsRepository } from './sessions.repository';

/**
 * Which recording a replay of a run uses (`runRecording`, real Postgres): the most complete one — covering the
 * run's earliest tick and its final frame — whichever capturer made it; the tie-breaks as docs/replay.md says.
 */
describe('SessionsRepository.runRecording: the most complete recording of a run', () => {
  let pool: Pool;
  let store: EventStore;
  let sessions: SessionsRepository;

  beforeAll(() => {
    pool = createTestPool(2);
    store = new EventStore(pool);
    sessions = new SessionsRepository(pool);
  });
  afterAll(async () => {
    await pool.end();
  });

  /** A recording of run `run` made by `capturedBy`: platform frames of ticks `ticks` (an agent's input after each on the proxy's), optionally a gap marker. */
  async function recording(run: string, capturedBy: 'proxy' | 'spectator', ticks: number[], o: { gap?: boolean; game?: string } = {}): Promise<string> {
    const id = randomUUID();
    await store.openSession({ id, platform: 'moltstation', game: o.game ?? 'flappybots', platformSessionId: run, startedAt: new Date(), metadata: { stream: 'run', capturedBy } });
    const t0 = Date.now() * 1000;
    const events: NewEvent[] = [];
    const add = (e: Omit<NewEvent, 'sessionId' | 'seq' | 'recordedAtUs' | 'offsetUs'>) => {
      const seq = events.length + 1;
      events.push({ sessionId: id, seq, recordedAtUs: t0 + seq * 1000, offsetUs: seq * 1000, ...e });
    };
    if (o.gap) add({ kind: 'gap', direction: 'internal', channel: 'spectate_ws', format: 'json', body: '{"reason":"reconnect"}', msgType: 'gap', tick: null });
    for (const tick of ticks) {
      add({ kind: 'frame', direction: 'platform_to_client', channel: capturedBy === 'spectator' ? 'spectate_ws' : 'play_ws', format: 'json', body: `{"t":"frame","frame":{"tick":${tick}}}`, tick });
      if (capturedBy === 'proxy') add({ kind: 'input', direction: 'client_to_platform', channel: 'play_ws', format: 'json', body: '{"t":"input","flap":true}', tick });
    }
    await store.append(events);
    await store.endSession(id, new Date());
    return id;
  }
  const run = () => `ms_rr_${randomBytes(5).toString('hex')}`;
  const ticks = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it("given the proxy's recording from tick 0 and the spectator's that joined at tick 3, then the proxy's (it covers the earliest tick)", async () => {
    const r = run();
    const proxy = await recording(r, 'proxy', ticks(0, 40));
    await recording(r, 'spectator', ticks(3, 40));
    expect(await sessions.runRecording('moltstation', r)).toBe(proxy);
    expect(await sessions.runRecording('moltstation', r, 'flappybots')).toBe(proxy);
  });

  it("given the spectator's recording of the whole run and the proxy's that was cut before the final frame, then the spectator's", async () => {
    const r = run();
    await recording(r, 'proxy', ticks(0, 30));
    const spectator = await recording(r, 'spectator', ticks(0, 40));
    expect(await sessions.runRecording('moltstation', r)).toBe(spectator);
  });

  it('given one recording with the start and another with the end (neither complete), then the one with the final frame', async () => {
    const r = run();
    await recording(r, 'proxy', ticks(0, 30));
    const end = await recording(r, 'spectator', ticks(5, 40));
    expect(await sessions.runRecording('moltstation', r)).toBe(end);
  });

  it("given both complete, then the spectator's; given both complete but the spectator's with a gap (it reconnected), then the proxy's", async () => {
    const r = run();
    await recording(r, 'proxy', ticks(0, 40));
    const spectator = await recording(r, 'spectator', ticks(0, 40));
    expect(await sessions.runRecording('moltstation', r)).toBe(spectator);

    const g = run();
    const proxy = await recording(g, 'proxy', ticks(0, 40));
    await recording(g, 'spectator', ticks(0, 40), { gap: true });
    expect(await sessions.runRecording('moltstation', g)).toBe(proxy);
  });

  it('given another game, another platform session id, or no recording, then not that one (null when there is none)', async () => {
    const r = run();
    await recording(r, 'proxy', ticks(0, 40), { game: 'shellrunners' });
    expect(await sessions.runRecording('moltstation', r, 'flappybots')).toBeNull();
    expect(await sessions.runRecording('moltstation', run())).toBeNull();
    expect(await sessions.runRecording('spacemolt', r)).toBeNull();
  });
});
