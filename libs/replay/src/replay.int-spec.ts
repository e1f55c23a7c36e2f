import { Pool } from 'pg';
import { EventStore, NewEvent, StoredEvent } from '@rewind/event-store';
import { aFrame, aSession, createTestPool } from '@rewind/testing';
import { LatenessProbe } from './lateness';
import { ReplayEmission, ReplaySession } from './replay-session';
import { replayRowSource, storeSource } from './sources';
import { ReplayableEvent, ReplayErrorCode } from './types';

const T0_US = Date.UTC(2026, 10, 23, 10, 0, 0) * 1000;

/** ~20 Hz frames with an input after every 4th frame, and one 2 s silence after the 80th frame. */
function realisticSession(sessionId: string, frameCount: number): NewEvent[] {
  const events: NewEvent[] = [];
  let offsetUs = 1_234;
  for (let f = 1; f <= frameCount; f++) {
    offsetUs += f === 81 ? 2_000_000 : 50_000 + ((f * 7919) % 900); // jitter like a real socket
    events.push({ ...aFrame(sessionId, events.length + 1), offsetUs, recordedAtUs: T0_US + offsetUs, tick: f });
    if (f % 4 === 0) {
      const inputOffset = offsetUs + 8_000 + ((f * 31) % 3_000);
      events.push({
        sessionId,
        seq: events.length + 1,
        kind: 'input',
        direction: 'client_to_platform',
        channel: 'play_ws',
        recordedAtUs: T0_US + inputOffset,
        offsetUs: inputOffset,
        format: 'json',
        body: JSON.stringify({ type: 'input', tick: f, action: f % 8 === 0 ? 'left' : 'right' }),
        msgType: 'input',
        tick: f,
      });
    }
  }
  return events;
}

describe('replay from the event store (real clock, real database)', () => {
  let pool: Pool;
  let store: EventStore;
  beforeAll(() => {
    pool = createTestPool(4);
    store = new EventStore(pool);
  });
  afterAll(() => pool.end());

  it('replays ~200 events at speed 4 in seq order, on time (p50 ≤ 5 ms, p95 ≤ 40 ms, no drift)', async () => {
    const { id } = await store.openSession(aSession());
    const events = realisticSession(id, 160);
    await store.append(events);
    expect(events).toHaveLength(200);

    // Warm-up (JIT, pool connections) at top speed, so the measurement is of the steady state.
    const warm = new ReplaySession(storeSource(store, id, { pageSize: 50 }), { speed: 32 });
    await warm.start();
    expect((await warm.done).emitted).toBe(200);

    const source = storeSource(store, id, { pageSize: 50 });
    const replay = new ReplaySession(source, { speed: 4 });
    const probe = new LatenessProbe();
    const emitted: ReplayEmission<StoredEvent>[] = [];
    replay.on('event', (e) => {
      probe.record(e);
      emitted.push(e);
    });
    await replay.start();
    const summary = await replay.done;

    expect(emitted.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    expect(emitted.every((e, i) => e.event.body === events[i]?.body)).toBe(true);
    expect(source.stats.pagesRead).toBe(5); // 4 full pages + the empty one that ends the read
    const stats = probe.stats();
    console.log(`replay lateness at speed 4 over ${stats.count} events: ${JSON.stringify(stats)}; wall ${summary.wallMs.toFixed(1)} ms`);
    console.log(
      `worst: ${JSON.stringify(
        [...probe.samples]
          .sort((a, b) => b.latenessMs - a.latenessMs)
          .slice(0, 4)
          .map((s) => [s.seq, +s.latenessMs.toFixed(1)]),
      )}`,
    );
    // The bounds hold on a loaded CI machine (Jest runs two workers beside Postgres): the typical event is on
    // time, a stall (GC, a busy core) delays a few, and lateness never accumulates — the last events are on
    // time again. The tight goal (p99 ≤ 5 ms at 500 streams) is the benchmark's (`rewind bench replay`).
    expect(stats.count).toBe(200);
    expect(stats.p50Ms).toBeLessThanOrEqual(5);
    expect(stats.p95Ms).toBeLessThanOrEqual(40);
    expect(stats.maxMs).toBeLessThanOrEqual(250);
    const tail = probe.samples
      .slice(-50)
      .map((x) => x.latenessMs)
      .sort((a, b) => a - b);
    expect(tail[25]).toBeLessThanOrEqual(5);

    // Real timing follows the recording: the 2 s silence lasts ~500 ms at speed 4, and the whole run
    // lasts the recorded span / 4.
    const spanMs = ((events[events.length - 1] as NewEvent).offsetUs - (events[0] as NewEvent).offsetUs) / 1000;
    expect(summary.wallMs).toBeGreaterThanOrEqual(spanMs / 4 - 1);
    expect(summary.wallMs).toBeLessThanOrEqual(spanMs / 4 + 150);
    const silenceAt = events.findIndex((e, i) => i > 0 && e.offsetUs - (events[i - 1] as NewEvent).offsetUs > 1_000_000);
    const silenceWall = (emitted[silenceAt] as ReplayEmission).emittedAtMs - (emitted[silenceAt - 1] as ReplayEmission).emittedAtMs;
    const silenceRecorded = ((events[silenceAt] as NewEvent).offsetUs - (events[silenceAt - 1] as NewEvent).offsetUs) / 1000;
    expect(Math.abs(silenceWall - silenceRecorded / 4)).toBeLessThan(15);
  });

  it('skips idle time against the store too (a 2 s silence with --skip-idle 100 lasts 100 ms / speed)', async () => {
    const { id } = await store.openSession(aSession());
    const events = realisticSession(id, 84).slice(0, 103); // frames 1..84 with inputs: the silence is in it
    await store.append(events);
    const replay = new ReplaySession(storeSource(store, id), { speed: 8, skipIdleMs: 100 });
    const emitted: ReplayEmission[] = [];
    replay.on('event', (e) => emitted.push(e));
    await replay.start();
    const summary = await replay.done;
    expect(emitted).toHaveLength(103);
    const silenceAt = events.findIndex((e, i) => i > 0 && e.offsetUs - (events[i - 1] as NewEvent).offsetUs > 1_000_000);
    // Against the schedule (anchored at the first event), not the previous emission: an event before the
    // silence that was emitted late on a busy machine must not make the silence look short.
    const before = ((events[silenceAt - 1] as NewEvent).offsetUs - (events[0] as NewEvent).offsetUs) / 1000 / 8;
    const at = (emitted[silenceAt] as ReplayEmission).emittedAtMs - (emitted[0] as ReplayEmission).emittedAtMs;
    expect(at - before).toBeGreaterThanOrEqual(12.5 - 1);
    expect(at - before).toBeLessThan(12.5 + 15);
    expect(summary.wallMs).toBeLessThan(1_000); // without skip-idle it would take > 250 ms of silence alone + ~500 ms
  });

  // Both store sources: the full rows (`rewind replay`) and the lean rows the gateway streams.
  describe.each([
    ['storeSource', storeSource],
    ['replayRowSource', replayRowSource],
  ] as const)('a large session (20k events), %s', (_name, makeSource) => {
    let id: string;
    const total = 20_000;
    beforeAll(async () => {
      ({ id } = await store.openSession(aSession()));
      for (let from = 1; from <= total; from += 5_000) {
        await store.append(Array.from({ length: 5_000 }, (_, i) => aFrame(id, from + i)));
      }
    }, 120_000);

    async function pausedReplay() {
      const source = makeSource(store, id, { pageSize: 500 });
      const replay = new ReplaySession(source);
      const emitted: ReplayEmission<ReplayableEvent>[] = [];
      replay.on('event', (e) => emitted.push(e));
      await replay.start();
      replay.pause();
      return { source, replay, emitted };
    }

    const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;

    it('seeks to the middle by offset in well under 100 ms (median of 5) without reading from the beginning', async () => {
      const { source, replay, emitted } = await pausedReplay();
      expect(emitted.map((e) => e.seq)).toEqual([1]);
      const times: number[] = [];
      for (const seq of [12_345, 9_001, 15_555, 10_500, 11_111]) {
        const before = { ...source.stats };
        const t0 = performance.now();
        await replay.seek({ offsetUs: aFrame(id, seq).offsetUs - 3 }); // just before that seq's offset
        times.push(performance.now() - t0);
        expect(source.stats.opens).toBe(before.opens + 1);
        expect(source.stats.pagesRead - before.pagesRead).toBe(1); // one round trip, not seq 1..N
        expect(source.stats.eventsRead - before.eventsRead).toBe(100);
        expect(source.stats.firstSeqOfLastOpen).toBe(seq);
      }
      console.log(`seek by offset into ${total} events: ${times.map((t) => t.toFixed(1)).join(', ')} ms (median ${median(times).toFixed(1)})`);
      expect(median(times)).toBeLessThan(100);

      const next = new Promise<ReplayEmission<ReplayableEvent>>((resolve) => replay.on('event', resolve));
      replay.resume();
      const first = await next;
      expect(first.seq).toBe(11_111);
      expect(emitted.map((e) => e.seq)).toEqual([1, 11_111]);
      replay.stop();
    });

    it('seeks to the middle by seq in well under 100 ms (median of 5), one page read each', async () => {
      const { source, replay, emitted } = await pausedReplay();
      const times: number[] = [];
      for (const seq of [10_001, 13_000, 7_777, 16_001, 10_002]) {
        const pagesBefore = source.stats.pagesRead;
        const t0 = performance.now();
        await replay.seek({ seq });
        times.push(performance.now() - t0);
        expect(source.stats.pagesRead - pagesBefore).toBe(1);
        expect(source.stats.firstSeqOfLastOpen).toBe(seq);
      }
      console.log(`seek by seq into ${total} events: ${times.map((t) => t.toFixed(1)).join(', ')} ms (median ${median(times).toFixed(1)})`);
      expect(median(times)).toBeLessThan(100);
      const next = new Promise<ReplayEmission<ReplayableEvent>>((resolve) => replay.on('event', resolve));
      replay.resume();
      expect((await next).seq).toBe(10_002);
      expect(emitted.map((e) => e.seq)).toEqual([1, 10_002]);
      replay.stop();
      expect((await replay.done).stopped).toBe(true);
    });

    it('refuses a seek past the end, naming the last event', async () => {
      const { replay } = await pausedReplay();
      await expect(replay.seek({ seq: total + 1 })).rejects.toThrow(
        `cannot seek to seq ${total + 1}: past the end (the session ends at seq ${total}, offset ${(aFrame(id, total).offsetUs / 1e6).toFixed(6)} s)`,
      );
      await expect(replay.seek({ offsetUs: aFrame(id, total).offsetUs + 1 })).rejects.toMatchObject({ code: ReplayErrorCode.SeekPastEnd });
      replay.stop();
    });
  });

  it.each([storeSource, replayRowSource])('refuses an unknown session (SESSION_NOT_FOUND), also for a malformed id (%p)', async (makeSource) => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const replay = new ReplaySession(makeSource(store, id));
      await expect(replay.start()).rejects.toMatchObject({ code: ReplayErrorCode.SessionNotFound, message: `session ${id} not found` });
    }
  });

  it('says "no events" for a session that exists but is empty', async () => {
    const { id } = await store.openSession(aSession());
    const replay = new ReplaySession(storeSource(store, id));
    await expect(replay.start()).rejects.toThrow('cannot seek to the start: past the end (the session has no events)');
  });
});
