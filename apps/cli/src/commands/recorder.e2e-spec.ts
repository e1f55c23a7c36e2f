import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import type { Pool } from 'pg';
import { moltstation } from '@rewind/agents';
import { spectateOffer } from '@rewind/capture';
import { uuidFrom } from '@rewind/recorder';
import { CaptureCoordinator, type TargetStatus } from '@rewind/scaleout';
import { EventStore, StoredEvent, verifySession } from '@rewind/event-store';
import { startSimulator, type RunningSimulator } from '@rewind/simulator';
import { createTestPool, freePorts, spawnRewind, testRedisUrl, type RunningCli, waitFor } from '@rewind/testing';

async function readAll(store: EventStore, sessionId: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.readSession(sessionId)) out.push(e);
  return out;
}

const phaseOf = (e: StoredEvent): string | undefined => {
  try {
    return (JSON.parse(String(e.body)) as { frame?: { phase?: string } }).frame?.phase;
  } catch {
    return undefined;
  }
};

/** Two `./rewind recorder` processes share the live captures; one is SIGKILLed mid-run. */
describe('rewind recorder (two processes, as an operator runs them)', () => {
  let pool: Pool;
  let store: EventStore;
  let sim: RunningSimulator | undefined;
  let observer: CaptureCoordinator | undefined;
  const clis: RunningCli[] = [];
  const dirs: string[] = [];
  let queueName = '';

  beforeAll(() => {
    pool = createTestPool(3);
    store = new EventStore(pool);
  });

  afterEach(async () => {
    // Survivors get SIGTERM (a clean stop); anything still running after that is killed.
    for (const c of clis) c.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(clis.map((c) => c.exited)), new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    for (const c of clis) c.kill('SIGKILL');
    await Promise.all(clis.splice(0).map((c) => c.exited));
    await observer?.close();
    observer = undefined;
    await sim?.close();
    sim = undefined;
    if (queueName) {
      const connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
      const queue = new Queue(queueName, { connection, prefix: 'rewind' });
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      connection.disconnect();
    }
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  afterAll(async () => {
    await pool.end();
  });

  it('given two recorders spectating a live MoltStation run, when the holder is SIGKILLed, then the other takes the capture over within 10 s and the stream states the gap once, with no frame twice, and ends sealed', async () => {
    sim = await startSimulator({ port: 0, seed: `rec-e2e-${randomBytes(3).toString('hex')}` });
    queueName = `rec-e2e-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'rewind-recorder-e2e-'));
    dirs.push(dataDir);
    const [proxyA, proxyB, apiPort, simPort] = await freePorts(4);
    const env = {
      REWIND_CAPTURE_QUEUE: queueName,
      REWIND_UPSTREAM_MOLTSTATION: sim.baseUrl('moltstation'),
      REWIND_SPECTATE_LIVE: '1',
      REWIND_SEAL_AFTER_MS: '500',
      REWIND_API_PORT: String(apiPort),
      SIMULATOR_PORT: String(simPort),
      REWIND_PROXY_PORT: String(proxyA),
      // Two recorders on one host: the per-platform listeners off (their default ports would clash).
      REWIND_PROXY_PORT_MOLTSTATION: '0',
      REWIND_PROXY_PORT_SPACEMOLT: '0',
      REWIND_PROXY_PORT_CLOUDPLAY: '0',
      REWIND_PROXY_PORT_RGS: '0',
      SIMULATOR_PLATFORM_PORTS: '0',
      REWIND_DATA_DIR: dataDir,
      REWIND_REDACTION_KEY: randomBytes(32).toString('hex'),
    };
    const a = spawnRewind(['recorder', '--instance', 'A', '--port', String(proxyA), '--verbose'], env);
    const b = spawnRewind(['recorder', '--instance', 'B', '--port', String(proxyB), '--verbose'], env);
    clis.push(a, b);
    await Promise.all([a.waitFor('Press Ctrl-C to stop.', 30_000), b.waitFor('Press Ctrl-C to stop.', 30_000)]);

    // A ShellRunners agent_api run straight against the platform (not through a proxy): only the live-list
    // discovery of the recorders finds it. No hunger, lives to spare: it lasts until the bot exits at tick 400 (20 s).
    let platformSessionId: string | undefined;
    const bot = moltstation.runShellRunnersSteerer({
      baseUrl: sim.baseUrl('moltstation'),
      seed: `takeover-${queueName}`,
      exitAfterTick: 400,
      simulatorOptions: { hungerMax: 1_000_000, livesMax: 1000 },
      log: (line) => {
        const m = /shellrunners: session (\S+) /.exec(line);
        if (m) platformSessionId = m[1];
      },
    });
    bot.catch(() => undefined); // awaited below; a failure must not be an unhandled rejection meanwhile
    const psid = await waitFor('the bot to start its session', () => platformSessionId, 10_000);
    const offer = spectateOffer('shellrunners', psid);
    const streamId = uuidFrom(`rewind-task:${offer.id}`);
    observer = new CaptureCoordinator({
      redisUrl: testRedisUrl(),
      queueName,
      holder: 'e2e-observer',
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      run: () => new Promise(() => undefined),
    });
    const obs = observer;

    const first = await waitFor(
      'one recorder to hold the spectate task',
      async () => {
        const s = await obs.describe(offer.id);
        return s?.state === 'active' && s.lastRun?.state === 'running' ? s : undefined;
      },
      10_000,
    );
    expect(['A', 'B']).toContain(first.lastRun!.holder);
    expect(first.lastRun!.attempt).toBe(1);
    const [victim, survivor, survivorName] = first.lastRun!.holder === 'A' ? [a, b, 'B'] : [b, a, 'A'];

    // Mid-run: the holder has been recording frames for a few seconds.
    const framesBeforeKill = await waitFor(
      '60 frames stored by the first holder',
      async () => {
        const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE session_id = $1 AND kind = 'frame'`, [streamId]);
        return Number(rows[0]!.n) >= 60 ? Number(rows[0]!.n) : undefined;
      },
      15_000,
      100,
    );
    // Exactly one process spectates: the holder said so, the other did not.
    const capturing = `capture ${offer.id}: capturing`;
    expect(victim.stderr).toContain(capturing);
    expect(survivor.stderr).not.toContain(capturing);
    expect(survivor.stderr).not.toContain(`capture ${offer.id}: taking over`);

    victim.kill('SIGKILL');
    expect(await victim.exited).toBeNull(); // killed by the signal: no exit code
    const killedAt = Date.now();

    const taken = await waitFor(
      'the survivor to take the capture over',
      async () => {
        const s: TargetStatus | undefined = await obs.describe(offer.id);
        return s?.lastRun?.holder === survivorName && s.lastRun.state === 'running' ? s : undefined;
      },
      20_000,
    );
    const takeoverMs = Date.now() - killedAt;
    // The first frame the survivor records: the gap note goes right before it.
    await waitFor(
      'the take-over gap note',
      async () => {
        const { rows } = await pool.query(`SELECT 1 FROM events WHERE session_id = $1 AND kind = 'gap'`, [streamId]);
        return rows.length > 0;
      },
      10_000,
      100,
    );
    const resumedMs = Date.now() - killedAt;
    process.stderr.write(
      `recorder take-over after SIGKILL: job re-run by ${survivorName} after ${takeoverMs} ms, first resumed frame stored after ${resumedMs} ms (killed after ${framesBeforeKill}+ frames)\n`,
    );
    expect(takeoverMs).toBeLessThanOrEqual(10_000);
    expect(taken).toMatchObject({ state: 'active', attemptsStarted: 2, lastRun: { holder: survivorName, attempt: 2, state: 'running' } });
    expect(survivor.stderr).toContain(`capture ${offer.id}: taking over (attempt 2; previous run lost, held by ${first.lastRun!.holder})`);

    const summary = await bot;
    expect(summary).toMatchObject({ closeReason: 'EXIT', phase: 'ended', connections: 1 });
    expect(summary.ticks).toBeGreaterThanOrEqual(400);

    const session = await waitFor(
      'the task stream to be sealed',
      async () => {
        const s = await store.getSession(streamId);
        return s?.status === 'sealed' ? s : undefined;
      },
      15_000,
      100,
    );
    expect(session).toMatchObject({ platform: 'moltstation', game: 'shellrunners', platformSessionId: psid });
    expect(session.endedAt).not.toBeNull();
    expect(session.outcome).toMatchObject({ reason: 'exit' });
    expect(session.metadata).toMatchObject({ capturedBy: 'spectator', taskId: offer.id });

    const events = await readAll(store, streamId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(await verifySession(store, streamId)).toMatchObject({ ok: true, sealed: true, eventsChecked: events.length, headSeq: events.length });

    // One gap, stated by the take-over, right before the first frame the survivor recorded.
    const gaps = events.filter((e) => e.kind === 'gap');
    expect(gaps).toHaveLength(1);
    const gap = gaps[0]!;
    expect(gap.msgType).toBe('spectate-gap');
    const detail = JSON.parse(String(gap.body)) as { reason: string; lastTick: number; nextTick: number };
    expect(detail.reason).toBe('takeover');
    const gapAt = events.indexOf(gap);
    const framesBefore = events.slice(0, gapAt).filter((e) => e.kind === 'frame');
    const framesAfter = events.slice(gapAt + 1).filter((e) => e.kind === 'frame');
    expect(framesBefore.length).toBeGreaterThanOrEqual(framesBeforeKill);
    expect(framesAfter.length).toBeGreaterThan(0);
    expect(detail.lastTick).toBe(framesBefore[framesBefore.length - 1]!.tick);
    expect(detail.nextTick).toBe(framesAfter[0]!.tick);
    expect(gap.tick).toBe(detail.nextTick);
    // The ticks the dead holder did not record (and the survivor could not): at least the take-over time's worth.
    expect(detail.nextTick - detail.lastTick).toBeGreaterThan(1);
    expect((detail.nextTick - detail.lastTick) * 50).toBeGreaterThanOrEqual(takeoverMs - 2000);
    expect(events.slice(gapAt + 1, events.indexOf(framesAfter[0]!)).some((e) => e.kind === 'frame')).toBe(false);

    // No frame recorded twice: ticks strictly increase, except the final `phase: ended` frame of an exit,
    // which the platform sends with the tick of the frame before it.
    const frames = events.filter((e) => e.kind === 'frame');
    const ticks = frames.map((e) => e.tick);
    expect(ticks.every((t) => typeof t === 'number')).toBe(true);
    const ended = frames.filter((e) => phaseOf(e) === 'ended');
    expect(ended).toHaveLength(1);
    expect(frames[frames.length - 1]).toBe(ended[0]);
    const running = ticks.slice(0, -1) as number[];
    for (let i = 1; i < running.length; i++) expect(running[i]!).toBeGreaterThan(running[i - 1]!);
    expect(ticks[ticks.length - 1]!).toBeGreaterThanOrEqual(running[running.length - 1]!);
    expect(new Set(frames.map((e) => String(e.body))).size).toBe(frames.length);
    expect(ticks[ticks.length - 1]).toBe(summary.ticks);
    // Everything but the gap's ticks was recorded: the frames before and after it are contiguous.
    const contiguous = (ts: number[]): boolean => ts.every((t, i) => i === 0 || t === ts[i - 1]! + 1);
    expect(contiguous(framesBefore.map((e) => e.tick as number))).toBe(true);
    expect(contiguous(framesAfter.slice(0, -1).map((e) => e.tick as number))).toBe(true);

    // The run ended once: one outcome, the last event.
    const outcomes = events.filter((e) => e.kind === 'outcome');
    expect(outcomes).toHaveLength(1);
    expect(events[events.length - 1]).toBe(outcomes[0]);
    expect(JSON.parse(String(outcomes[0]!.body))).toMatchObject({ reason: 'exit', platformSessionId: psid, phase: 'ended' });

    const done = await waitFor(
      'the job to complete',
      async () => {
        const s = await obs.describe(offer.id);
        return s?.state === 'completed' ? s : undefined;
      },
      10_000,
    );
    expect(done.result).toMatchObject({ reason: 'exit', holder: survivorName });

    survivor.kill('SIGTERM');
    expect(await survivor.exited).toBe(0);
    expect(survivor.stderr).toContain('rewind: stopped');
    expect(survivor.stderr).not.toMatch(/recorder error/);
  }, 240_000);
});
