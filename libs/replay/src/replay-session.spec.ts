import { FakeClock } from './clock';
import { memorySource } from './sources';
import { ReplayEmission, ReplaySession, ReplayOptions } from './replay-session';
import { ev, evenly } from './test-support/events';
import { EventSource, ReplayableEvent, ReplayError, ReplayErrorCode } from './types';

function setup(events: ReplayableEvent[], options: Omit<ReplayOptions, 'clock'> = {}, pageSize = 4) {
  const clock = new FakeClock(1_000);
  const source = memorySource(events, pageSize);
  const replay = new ReplaySession(source, { ...options, clock });
  const emitted: ReplayEmission[] = [];
  replay.on('event', (e) => emitted.push(e));
  return { clock, source, replay, emitted };
}

const gaps = (times: number[]): number[] => times.slice(1).map((t, i) => t - (times[i] as number));
const recordedMs = [0, 50, 100, 400, 1000, 1010, 3010];
const irregular = (): ReplayableEvent[] => recordedMs.map((ms, i) => ev(i + 1, 5_000 + ms));

describe('ReplaySession timing (fake clock)', () => {
  it.each([1, 2, 0.5, 4])('emits with inter-event gaps equal to the recorded gaps / speed %p, in seq order', async (speed) => {
    const { clock, replay, emitted } = setup(irregular(), { speed });
    await replay.start();
    const summary = await clock.runUntil(replay.done);
    expect(emitted.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const expected = gaps(recordedMs).map((g) => g / speed);
    gaps(emitted.map((e) => e.emittedAtMs)).forEach((g, i) => expect(g).toBeCloseTo(expected[i] as number, 6));
    expect(emitted[0]?.emittedAtMs).toBe(1_000); // the first event plays at start, whatever its offset
    expect(emitted.every((e) => e.latenessMs === 0)).toBe(true);
    expect(summary).toMatchObject({ emitted: 7, firstSeq: 1, lastSeq: 7, stopped: false, speed });
    expect(summary.wallMs).toBeCloseTo(3010 / speed, 6);
    expect(replay.state).toBe('ended');
  });

  it('emits nothing before an event is due', async () => {
    const { clock, replay, emitted } = setup(irregular(), { speed: 2 });
    await replay.start();
    await clock.advance(24.9); // event 2 is due 25 ms after start at speed 2
    expect(emitted.map((e) => e.seq)).toEqual([1]);
    await clock.advance(0.1);
    expect(emitted.map((e) => e.seq)).toEqual([1, 2]);
  });

  it('does not count paused time: resume continues where pause left off', async () => {
    const { clock, replay, emitted } = setup(evenly(1, 10, 100));
    await replay.start();
    await clock.advance(250);
    expect(emitted.map((e) => e.seq)).toEqual([1, 2, 3]);
    replay.pause();
    expect(replay.state).toBe('paused');
    await clock.advance(10_000);
    expect(emitted).toHaveLength(3);
    replay.resume();
    await clock.advance(49);
    expect(emitted).toHaveLength(3);
    await clock.advance(1);
    expect(emitted.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(emitted[3]?.emittedAtMs).toBe(1_000 + 250 + 10_000 + 50);
    await clock.runUntil(replay.done);
    expect(gaps(emitted.slice(3).map((e) => e.emittedAtMs))).toEqual([100, 100, 100, 100, 100, 100]);
  });

  it('changes speed mid-way without a jump', async () => {
    const { clock, replay, emitted } = setup(evenly(1, 5, 100));
    await replay.start();
    await clock.advance(150); // seq 1, 2 emitted; position 150 ms
    replay.setSpeed(2);
    await clock.runUntil(replay.done);
    expect(emitted.map((e) => e.emittedAtMs - 1_000)).toEqual([0, 100, 175, 225, 275]); // position 150 ms at the change; 200 is 25 ms away at speed 2;
  });

  it('compresses silences longer than skipIdle to the threshold (recorded time), leaving shorter gaps alone', async () => {
    const events = [...evenly(1, 5, 100), ...evenly(6, 3, 100, 400 + 10_000)];
    const { clock, replay, emitted } = setup(events, { skipIdleMs: 500 });
    await replay.start();
    await clock.runUntil(replay.done);
    expect(gaps(emitted.map((e) => e.emittedAtMs))).toEqual([100, 100, 100, 100, 500, 100, 100]);
  });

  it('applies skipIdle before speed (a 10 s silence at speed 2 with threshold 1 s lasts 0.5 s)', async () => {
    const events = [ev(1, 0), ev(2, 10_000), ev(3, 10_200)];
    const { clock, replay, emitted } = setup(events, { skipIdleMs: 1_000, speed: 2 });
    await replay.start();
    await clock.runUntil(replay.done);
    expect(gaps(emitted.map((e) => e.emittedAtMs))).toEqual([500, 100]);
  });

  it('reads page by page while playing (never the whole session up front)', async () => {
    const { clock, source, replay, emitted } = setup(evenly(1, 100, 10), {}, 10);
    await replay.start();
    expect(source.stats.eventsRead).toBeLessThanOrEqual(20); // first page + at most one prefetched
    await clock.runUntil(replay.done);
    expect(emitted.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(source.stats.pagesRead).toBe(10);
  });
});

describe('ReplaySession seek (fake clock)', () => {
  it('seeks by seq: the next event emitted is that seq, nothing before it, and the source is re-opened there', async () => {
    const { clock, source, replay, emitted } = setup(evenly(1, 100, 100), {}, 10);
    await replay.start();
    await clock.advance(250);
    expect(emitted.map((e) => e.seq)).toEqual([1, 2, 3]);
    const readBefore = source.stats.eventsRead;
    await replay.seek({ seq: 60 });
    expect(source.stats.opens).toBe(2);
    expect(source.stats.firstSeqOfLastOpen).toBe(60);
    expect(source.stats.eventsRead - readBefore).toBeLessThanOrEqual(20); // one page (+ one prefetch), not 1..59
    await clock.advance(0);
    const after = emitted.slice(3);
    expect(after[0]?.seq).toBe(60);
    expect(after[0]?.emittedAtMs).toBe(1_250); // plays at once
    await clock.advance(100);
    expect(emitted.slice(3).map((e) => e.seq)).toEqual([60, 61]);
    await clock.runUntil(replay.done);
    expect(emitted.map((e) => e.seq)).toEqual([1, 2, 3, ...Array.from({ length: 41 }, (_, i) => 60 + i)]);
  });

  it('seeks by offset: the first event at/after the offset comes next, after the recorded time from the target', async () => {
    const events = [ev(1, 0), ev(2, 100), ev(3, 1_000), ev(4, 1_500), ev(5, 2_000)];
    const { clock, replay, emitted } = setup(events);
    await replay.start();
    await clock.advance(10);
    await replay.seek({ offsetUs: 1_200_000 }); // between seq 3 (1.0 s) and seq 4 (1.5 s)
    await clock.advance(299);
    expect(emitted.map((e) => e.seq)).toEqual([1]);
    await clock.advance(1);
    expect(emitted.map((e) => e.seq)).toEqual([1, 4]);
    expect(emitted[1]?.emittedAtMs).toBe(1_000 + 10 + 300);
    await clock.runUntil(replay.done);
    expect(emitted.map((e) => e.seq)).toEqual([1, 4, 5]);
  });

  it('seeks by an exact offset and backwards', async () => {
    const { clock, replay, emitted } = setup(evenly(1, 20, 100));
    await replay.start();
    await clock.advance(1_050); // seq 1..11
    await replay.seek({ offsetUs: 300_000 });
    await clock.advance(0);
    expect(emitted.slice(11).map((e) => e.seq)).toEqual([4]);
  });

  it('a seek while paused stays paused, then plays from the target', async () => {
    const { clock, replay, emitted } = setup(evenly(1, 50, 100));
    await replay.start();
    replay.pause();
    await replay.seek({ seq: 30 });
    await clock.advance(5_000);
    expect(emitted.map((e) => e.seq)).toEqual([1]);
    replay.resume();
    await clock.advance(100);
    expect(emitted.map((e) => e.seq)).toEqual([1, 30, 31]);
  });

  it('refuses a seek past the end with a clear message, and goes on playing where it was', async () => {
    const { clock, replay, emitted } = setup(evenly(1, 10, 100));
    await replay.start();
    await clock.advance(150);
    await expect(replay.seek({ seq: 11 })).rejects.toThrow('cannot seek to seq 11: past the end (the session ends at seq 10, offset 0.900000 s)');
    await expect(replay.seek({ offsetUs: 900_001 })).rejects.toMatchObject({ code: ReplayErrorCode.SeekPastEnd });
    await clock.runUntil(replay.done);
    expect(emitted.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('refuses a start past the end', async () => {
    const { replay } = setup(evenly(1, 3, 100), { from: { seq: 4 } });
    await expect(replay.start()).rejects.toMatchObject({ code: ReplayErrorCode.SeekPastEnd });
    await expect(replay.done).rejects.toBeInstanceOf(ReplayError);
  });

  it('starts from a seq', async () => {
    const { clock, replay, emitted } = setup(evenly(1, 10, 100), { from: { seq: 8 } });
    await replay.start();
    await clock.runUntil(replay.done);
    expect(emitted.map((e) => [e.seq, e.emittedAtMs - 1_000])).toEqual([
      [8, 0],
      [9, 100],
      [10, 200],
    ]);
  });
});

describe('ReplaySession validation and lifecycle', () => {
  it.each([0.1, 40, NaN, Infinity, 0])('refuses speed %p, naming the range', (speed) => {
    expect(() => new ReplaySession(memorySource([]), { speed })).toThrow(/speed must be a number from 0.25 to 32/);
  });

  it('accepts the range bounds and refuses a bad setSpeed', () => {
    expect(new ReplaySession(memorySource([]), { speed: 0.25 }).speed).toBe(0.25);
    const r = new ReplaySession(memorySource([]), { speed: 32 });
    expect(r.speed).toBe(32);
    expect(() => r.setSpeed(33)).toThrow(expect.objectContaining({ code: ReplayErrorCode.InvalidSpeed }));
    expect(r.speed).toBe(32);
  });

  it('refuses a negative skipIdle and a bad seek target', async () => {
    expect(() => new ReplaySession(memorySource([]), { skipIdleMs: -1 })).toThrow(/skipIdleMs/);
    const { replay } = setup(evenly(1, 3, 100));
    await replay.start();
    await expect(replay.seek({ seq: 0 })).rejects.toThrow(/seq must be an integer ≥ 1/);
  });

  it("passes the source's error through (an unknown session)", async () => {
    const failing: EventSource = {
      open: () => ({ next: () => Promise.reject(new ReplayError(ReplayErrorCode.SessionNotFound, 'session x not found')) }),
    };
    const replay = new ReplaySession(failing, { clock: new FakeClock() });
    await expect(replay.start()).rejects.toThrow('session x not found');
    expect(replay.state).toBe('failed');
  });

  it('reads the next page only after the task that emitted the due events (a timer turn sends first, then reads)', async () => {
    // Pages of 3 events all due at once, and always below the prefetch mark: the pump emits a page's events in one go.
    const { source, replay, emitted } = setup(evenly(1, 9, 0), { prefetchBelow: 100 }, 3);
    const readsDuringEmission: number[] = [];
    replay.on('event', () => readsDuringEmission.push(source.stats.pagesRead));
    await replay.start();
    await replay.done;
    expect(emitted.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Page 2 was asked for only after events 1–3 had all gone out, page 3 after 4–6.
    expect(readsDuringEmission).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
  });

  it('fails the replay when a later page cannot be read', async () => {
    let pages = 0;
    const flaky: EventSource = {
      open: () => ({
        next: async () => {
          pages++;
          if (pages === 1) return { done: false, value: [ev(1, 0), ev(2, 10)] };
          throw new Error('connection lost');
        },
      }),
    };
    const clock = new FakeClock();
    const replay = new ReplaySession(flaky, { clock, prefetchBelow: 1 });
    const errors: unknown[] = [];
    replay.on('error', (e) => errors.push(e));
    await replay.start();
    await expect(clock.runUntil(replay.done)).rejects.toThrow('connection lost');
    expect(errors).toHaveLength(1);
  });

  it('reports markers as they are replayed, and ends with a summary; stop() ends early', async () => {
    const events = [
      ev(1, 0),
      ev(2, 10, { kind: 'gap', msgType: 'takeover', format: 'json', body: '{}' }),
      ev(3, 20, { body: JSON.stringify({ tick: 3, events: [{ t: 'death', reason: 'collision', lives: 2 }] }) }),
      ev(4, 30, { kind: 'outcome', msgType: 'outcome', body: '{}' }),
      ev(5, 40),
    ];
    const { clock, replay } = setup(events);
    const markers: string[] = [];
    const ends: unknown[] = [];
    replay.on('marker', (m) => markers.push(`${m.name}@${m.seq}/${m.offsetUs}`));
    replay.on('end', (s) => ends.push(s));
    await replay.start();
    await clock.advance(25);
    expect(markers).toEqual(['gap:takeover@2/10000', 'death@3/20000']);
    replay.stop();
    const summary = await replay.done;
    expect(summary).toMatchObject({ emitted: 3, stopped: true, lastSeq: 3 });
    expect(summary.markers.map((m) => m.name)).toEqual(['gap:takeover', 'death']);
    expect(ends).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });
});
