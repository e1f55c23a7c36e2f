import { testRedisUrl } from '@rewind/testing';
import type { CaptureTaskResult } from '@rewind/capture-facts';
import { CaptureCoordinator, type CaptureCoordinatorOptions, type TaskRun } from './coordinator';
import { RedisUnavailableError } from './redis';
import { MemoryLog, obliterate, target, uniqueName, waitFor } from './test-support/helpers';
import { TcpProxy } from './test-support/tcp-proxy';

/** A task the test steers: every run is recorded; `end(id)` ends the current run of a target. */
type Run = TaskRun & { at: number; result?: CaptureTaskResult };
class Tasks {
  readonly runs: Run[] = [];
  private readonly enders = new Map<string, (r: CaptureTaskResult) => void>();
  failNext = 0;

  readonly run = (run: TaskRun): Promise<CaptureTaskResult> => {
    const entry: Run = { ...run, at: Date.now() };
    this.runs.push(entry);
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error('platform said 502'));
    }
    return new Promise((resolve) => {
      const done = (r: CaptureTaskResult) => {
        entry.result = r;
        this.enders.delete(run.target.id);
        resolve(r);
      };
      this.enders.set(run.target.id, done);
      if (run.signal.aborted) done({ status: 'aborted' });
      else run.signal.addEventListener('abort', () => done({ status: 'aborted' }), { once: true });
    });
  };

  end(id: string, reason = 'game over'): void {
    const done = this.enders.get(id);
    if (!done) throw new Error(`${id} is not running`);
    done({ status: 'ended', reason, summary: { frames: 3 } });
  }

  of(id: string): Run[] {
    return this.runs.filter((r) => r.target.id === id);
  }
}

describe('CaptureCoordinator (in-process, real Redis)', () => {
  const redisUrl = testRedisUrl();
  let queueName: string;
  let prefix: string;
  const coordinators: CaptureCoordinator[] = [];

  function coordinator(holder: string, run: CaptureCoordinatorOptions['run'], extra: Partial<CaptureCoordinatorOptions> = {}): CaptureCoordinator {
    const c = new CaptureCoordinator({ redisUrl, queueName, prefix, holder, run, log: new MemoryLog(holder), ...extra });
    coordinators.push(c);
    return c;
  }

  beforeEach(() => {
    queueName = uniqueName('capture');
    prefix = uniqueName('p');
  });

  afterEach(async () => {
    await Promise.all(coordinators.splice(0).map((c) => c.close()));
    await obliterate(redisUrl, queueName, prefix);
  });

  it('dedupes concurrent offers of one target: one job, one run', async () => {
    const tasks = new Tasks();
    const a = coordinator('a', tasks.run);
    const b = coordinator('b', tasks.run);
    await Promise.all([a.start(), b.start()]);
    const t = target('moltstation:spectate:s-dedupe');

    const answers = await Promise.all([a.offer(t), b.offer(t), a.offer(t), b.offer(t)]);
    expect(answers.filter((x) => x === 'added')).toHaveLength(1);
    expect(answers.filter((x) => x === 'exists')).toHaveLength(3);

    await waitFor('the run', () => tasks.of(t.id).length === 1);
    expect(tasks.runs[0]).toMatchObject({ takeover: false, attempt: 1 });
    expect(a.stats().running + b.stats().running).toBe(1);
    tasks.end(t.id);
    const status = await waitFor('completion', async () => {
      const s = await a.describe(t.id);
      return s?.state === 'completed' ? s : undefined;
    });
    expect(status.result).toMatchObject({ reason: 'game over', summary: { frames: 3 } });
    expect(tasks.of(t.id)).toHaveLength(1);
  });

  it('completes a task that ends; offering it again soon after says exists and does not run it', async () => {
    const tasks = new Tasks();
    const a = coordinator('a', tasks.run);
    await a.start();
    const t = target('rgs:poll:s-ended');
    expect(await a.offer(t)).toBe('added');
    await waitFor('the run', () => tasks.of(t.id).length === 1);
    tasks.end(t.id, 'expired');
    await waitFor('completion', async () => (await a.describe(t.id))?.state === 'completed');
    expect(a.stats()).toMatchObject({ running: 0, ended: 1 });

    expect(await a.offer(t)).toBe('exists');
    // Proof the worker is still taking jobs: another target runs, the ended one does not again.
    const other = target('rgs:poll:s-other');
    expect(await a.offer(other)).toBe('added');
    await waitFor('the other run', () => tasks.of(other.id).length === 1);
    expect(tasks.of(t.id)).toHaveLength(1);
    expect((await a.describe(t.id))?.state).toBe('completed');
  });

  it('hands jobs back on close: another process takes over at once, with takeover', async () => {
    const tasksA = new Tasks();
    const tasksB = new Tasks();
    const a = coordinator('a', tasksA.run);
    const b = coordinator('b', tasksB.run);
    await Promise.all([a.start(), b.start()]);
    const ids = ['cloudplay:poll:c1', 'cloudplay:poll:c2', 'cloudplay:poll:c3'];
    for (const id of ids) expect(await a.offer(target(id))).toBe('added');
    await waitFor('all three running', () => a.stats().running + b.stats().running === 3);

    // Close whichever holds more; the other must get them all back well before any lock could expire.
    const [closing, staying, stayingTasks] = a.stats().running >= b.stats().running ? [a, b, tasksB] : [b, a, tasksA];
    const moving = closing.stats().targets;
    expect(moving.length).toBeGreaterThan(0);
    const t0 = Date.now();
    await closing.close();
    await waitFor('take-over of the handed-back jobs', () => moving.every((id) => stayingTasks.of(id).length > 0), 4000, 10);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(1500); // the stall path would need >= 2.5 s (lock expiry) + a stall check
    expect(closing.stats().handedBack).toBe(moving.length);
    expect(staying.stats().running).toBe(3);
    for (const id of moving) {
      const run = stayingTasks.of(id).at(-1)!;
      expect(run).toMatchObject({ takeover: true, previous: { holder: closing.holder, how: 'handed-back' } });
      // Usually 2; 3 when the closing worker's last fetch grabbed the job and handed it straight back.
      expect(run.attempt).toBeGreaterThanOrEqual(2);
    }
    process.stderr.write(`graceful hand-over of ${moving.length} job(s): ${elapsed} ms\n`);
  });

  it('retries a task that throws, with back-off, and never fails the target', async () => {
    const tasks = new Tasks();
    tasks.failNext = 2;
    const a = coordinator('a', tasks.run, { retryInitialDelayMs: 100, retryMaxDelayMs: 400 });
    await a.start();
    const t = target('rgs:poll:s-flaky');
    await a.offer(t);
    await waitFor('the third run', () => tasks.of(t.id).length === 3);
    const runs = tasks.of(t.id);
    expect(runs.map((r) => [r.attempt, r.takeover, r.previous?.how ?? null])).toEqual([
      [1, false, null],
      [2, true, 'failed'],
      [3, true, 'failed'],
    ]);
    // Back-off: the second retry waited longer than the first (100 ms ±20 %, then 200 ms ±20 %).
    expect(runs[1].at - runs[0].at).toBeGreaterThanOrEqual(80);
    expect(runs[2].at - runs[1].at).toBeGreaterThanOrEqual(160);
    const status = await a.describe(t.id);
    expect(status).toMatchObject({ state: 'active', lastRun: { failures: { count: 2, lastError: 'platform said 502' } } });
    tasks.end(t.id);
    await waitFor('completion', async () => (await a.describe(t.id))?.state === 'completed');
    expect(a.stats()).toMatchObject({ failures: 2, ended: 1, givenUp: 0 });
  });

  it('gives a target up only after its failure streak outlasts the retry window', async () => {
    const tasks = new Tasks();
    tasks.failNext = 1000;
    const a = coordinator('a', tasks.run, { retryInitialDelayMs: 50, retryMaxDelayMs: 50, retryWindowMs: 600 });
    await a.start();
    const t = target('rgs:poll:s-broken');
    await a.offer(t);
    const status = await waitFor('failed state', async () => {
      const s = await a.describe(t.id);
      return s?.state === 'failed' ? s : undefined;
    });
    expect(tasks.of(t.id).length).toBeGreaterThan(3);
    const runs = tasks.of(t.id);
    expect(runs.at(-1)!.at - runs[0].at).toBeGreaterThanOrEqual(600);
    expect(status.failedReason).toMatch(/capture failed for 600 ms: platform said 502/);
    expect(await a.offer(t)).toBe('exists'); // kept for keepFinishedMs, not re-run at once
  });

  it('keeps its capture locks while its event loop is blocked for three lock durations (the lock keeper thread renews them), and hands back on close', async () => {
    const tasks = new Tasks();
    const lock = { lockDurationMs: 2000, stalledIntervalMs: 500 };
    const a = coordinator('a', tasks.run, lock);
    await a.start();
    const t = target('moltstation:spectate:s-busy');
    await a.offer(t);
    await waitFor('the run', () => tasks.of(t.id).length === 1);
    // A second holder, whose stalled checks would take the capture over the moment its lock expired.
    const b = coordinator('b', tasks.run, lock);
    await b.start();
    // The recorder's loop busy for 6 s (a loaded machine): BullMQ's own renewal, on this loop, would let the 2 s lock expire.
    const until = Date.now() + 6000;
    while (Date.now() < until) Math.sqrt(Math.random());
    // Several stalled checks (every 500 ms) later — while the keeper renews three more times (every 500 ms) — the
    // capture is still a's, never re-run.
    const renewals = a.stats().lockRenewals;
    await waitFor('three more renewals after the block', () => a.stats().lockRenewals >= renewals + 3, 10_000);
    expect(tasks.of(t.id)).toHaveLength(1);
    expect(a.stats()).toMatchObject({ running: 1, lost: 0 });
    expect(a.stats().lockRenewals).toBeGreaterThan(0);
    expect(b.stats()).toMatchObject({ running: 0, takeovers: 0 });
    expect(await a.describe(t.id)).toMatchObject({ state: 'active', attemptsStarted: 1 });
  });

  it('accepts target ids with any number of colons (mapped to a BullMQ-safe job id)', async () => {
    const tasks = new Tasks();
    const a = coordinator('a', tasks.run);
    await a.start();
    const ids = ['rgs:poll:tenant:s-4', 'cloudplay.poll.run-9', 'moltstation:spectate:session:abc:def'];
    for (const id of ids) expect(await a.offer(target(id))).toBe('added');
    expect(await a.offer(target(ids[0]))).toBe('exists');
    await waitFor('three runs', () => tasks.runs.length === 3);
    expect(tasks.runs.map((r) => r.target.id).sort()).toEqual([...ids].sort());
    expect(await a.describe(ids[2])).toMatchObject({ state: 'active', lastRun: { holder: 'a', state: 'running' } });
  });

  it('rejects targets whose id is not key-safe', async () => {
    const a = coordinator('a', new Tasks().run);
    await expect(a.offer(target('moltstation:spectate:a b'))).rejects.toThrow(/must start with a letter/);
    await expect(a.offer(target('12345'))).rejects.toThrow(/must start with a letter/);
    await expect(a.offer(target('rgs:poll:a~b'))).rejects.toThrow(/must start with a letter/);
    await expect(a.offer({ ...target('rgs:poll:x'), kind: '' })).rejects.toThrow(/kind must be a non-empty string/);
  });

  it('rejects offers while Redis is away; the worker reconnects and runs jobs when it returns', async () => {
    const real = new URL(redisUrl);
    const proxy = new TcpProxy(real.hostname, Number(real.port || 6379));
    await proxy.up();
    try {
      const tasks = new Tasks();
      const log = new MemoryLog('outage');
      const a = coordinator('a', tasks.run, { redisUrl: proxy.url(redisUrl), log });
      await a.start();
      const before = target('cloudplay:poll:before');
      expect(await a.offer(before)).toBe('added');
      await waitFor('the first run', () => tasks.of(before.id).length === 1);
      tasks.end(before.id);
      await waitFor('completion', async () => (await a.describe(before.id))?.state === 'completed');

      await proxy.down();
      const during = target('cloudplay:poll:during');
      const t0 = Date.now();
      const error = await a.offer(during).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RedisUnavailableError);
      expect((error as Error).message).toMatch(/offer cloudplay:poll:during: Redis is unavailable/);
      expect(Date.now() - t0).toBeLessThan(3000);

      await proxy.up();
      // Callers retry: the offer goes through once the connection is back, and the worker runs it.
      await waitFor('an accepted offer', () => a.offer(during).catch(() => undefined), 15_000, 200);
      await waitFor('the run after the outage', () => tasks.of(during.id).length === 1, 15_000);
      expect(log.lines.some((l) => l.startsWith('warn capture'))).toBe(true);
    } finally {
      await Promise.all(coordinators.splice(0).map((c) => c.close()));
      await proxy.down();
    }
  });
});
