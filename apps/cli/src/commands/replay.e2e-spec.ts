import { Pool } from 'pg';
import { EventStore, NewEvent } from '@rewind/event-store';
import { aFrame, aSession, createTestPool, spawnRewind } from '@rewind/testing';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function rewind(args: string[]): Promise<Run> {
  const cli = spawnRewind(args, {});
  const code = await cli.exited;
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}

/** 40 frames 50 ms apart (2 s), a 1 s silence, a death frame, an outcome: ~3 s recorded. */
function recording(sessionId: string): NewEvent[] {
  const events: NewEvent[] = Array.from({ length: 40 }, (_, i) => aFrame(sessionId, i + 1));
  const last = events[events.length - 1] as NewEvent;
  events.push({
    ...aFrame(sessionId, 41),
    offsetUs: last.offsetUs + 1_000_000,
    recordedAtUs: last.recordedAtUs + 1_000_000,
    body: JSON.stringify({
      type: 'frame',
      tick: 41,
      phase: 'ended',
      events: [
        { t: 'death', reason: 'collision', lives: 0 },
        { t: 'game_over', score: 10, reason: 'no_lives' },
      ],
    }),
  });
  events.push({
    sessionId,
    seq: 42,
    kind: 'outcome',
    direction: 'internal',
    channel: 'internal',
    recordedAtUs: last.recordedAtUs + 1_010_000,
    offsetUs: last.offsetUs + 1_010_000,
    format: 'json',
    body: JSON.stringify({ reason: 'game_over', score: 10 }),
    msgType: 'outcome',
  });
  return events;
}

describe('rewind replay (the CLI, as a user runs it)', () => {
  let pool: Pool;
  let store: EventStore;
  let id: string;
  let events: NewEvent[];
  beforeAll(async () => {
    pool = createTestPool(2);
    store = new EventStore(pool);
    ({ id } = await store.openSession(aSession()));
    events = recording(id);
    await store.append(events);
  });
  afterAll(() => pool.end());

  it('--speed 8 --json: one JSON line per event in seq order at recorded time / 8, markers, then a summary', async () => {
    const run = await rewind(['replay', id, '--speed', '8', '--json']);
    expect(run.stderr).not.toContain('unknown command');
    expect(run.code).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const evLines = lines.filter((l) => l['type'] === 'event');
    expect(evLines.map((l) => l['seq'])).toEqual(events.map((e) => e.seq));
    expect(evLines[5]).toMatchObject({ kind: 'frame', channel: 'play_ws', direction: 'platform_to_client', tick: 6, body: events[5]?.body });
    expect(evLines[40]?.['markers']).toEqual(['death', 'game_over']);
    expect(evLines[41]?.['markers']).toEqual(['outcome']);
    // Timing, with bounds that hold on a loaded machine (the tight goals are the replay benchmark's). Lower bounds
    // are tight, since a timer never fires early: no event plays before its recorded offset / 8 (so a replay that
    // sent everything at once fails), and the 1 s silence lasts at least 125 ms minus how late the frame before it
    // was. Upper bounds are loose (a busy core delays timers by tens, sometimes hundreds, of ms) but still refuse a
    // replay that ignored the speed (real time would be ~3 s).
    const atMs = (i: number) => ((events[i] as NewEvent).offsetUs - (events[0] as NewEvent).offsetUs) / 1000 / 8;
    const early = evLines.map((l, i) => ({ seq: l['seq'], elapsedMs: l['elapsedMs'] as number, dueMs: atMs(i) })).filter((e) => e.elapsedMs < e.dueMs - 1);
    expect(early).toEqual([]);
    const silence = (evLines[40]?.['elapsedMs'] as number) - (evLines[39]?.['elapsedMs'] as number);
    expect(silence).toBeGreaterThanOrEqual(125 - (evLines[39]?.['latenessMs'] as number) - 1);
    expect(silence).toBeLessThan(125 + 1_000);
    const summary = lines[lines.length - 1] as Record<string, unknown>;
    expect(summary).toMatchObject({ type: 'summary', sessionId: id, emitted: 42, firstSeq: 1, lastSeq: 42, speed: 8, stopped: false });
    const spanMs = ((events[41] as NewEvent).offsetUs - (events[0] as NewEvent).offsetUs) / 1000;
    expect(summary['wallMs'] as number).toBeGreaterThanOrEqual(spanMs / 8 - 1);
    expect(summary['wallMs'] as number).toBeLessThan(2 * (spanMs / 8) + 1_500);
    expect((summary['lateness'] as { p50Ms: number }).p50Ms).toBeLessThan(250);
  });

  it('prints readable lines from --from-seq with --skip-idle, and a summary line', async () => {
    const run = await rewind(['replay', id, '--speed', '32', '--from-seq', '38', '--skip-idle', '100']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toContain(`replaying ${id}  moltstation/shellrunners  42 events  speed 32  from #38  skip-idle 100 ms`);
    expect(lines[1]).toMatch(/^\+1\.900s {2}#38 frame play_ws platform_to_client tick=38 type=frame \d+B \(at 0\.\d{3}s, late \d+\.\dms\)$/);
    expect(lines.slice(1, 6).map((l) => /#(\d+)/.exec(l)?.[1])).toEqual(['38', '39', '40', '41', '42']);
    expect(lines[4]).toContain('[death] [game_over]');
    expect(lines[6]).toMatch(/^replayed 5 events \(#38–#42\) in 0\.\d{3} s at speed 32; 3 markers: death@#41, game_over@#41, outcome@#42; lateness p50/);
  });

  it('exits 1 with a clear message for an unknown session and for a bad speed', async () => {
    const unknown = await rewind(['replay', '00000000-0000-4000-8000-000000000000']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('session 00000000-0000-4000-8000-000000000000 not found');
    for (const speed of ['40', '0.1', 'fast']) {
      const bad = await rewind(['replay', id, '--speed', speed]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`--speed must be a number from 0.25 to 32 (got "${speed}")`);
      expect(bad.stdout).toBe('');
    }
    const past = await rewind(['replay', id, '--from-seq', '43']);
    expect(past.code).toBe(1);
    expect(past.stderr).toContain('cannot seek to seq 43: past the end (the session ends at seq 42');
  });
});
