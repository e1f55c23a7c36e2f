import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DelayedError, Job, Queue, UnrecoverableError, WaitingError, Worker, type JobProgress, type WorkerOptions } from 'bullmq';
import type Redis from 'ioredis';
import { backoff, redisRetryStrategy, type Backoff, withTimeout } from '@rewind/backoff';
import type { CaptureTaskLogger, CaptureTaskResult } from '@rewind/capture-facts';
import { ErrorOnce, RedisUnavailableError, fastFailRedis, isConnectionError, whenReady } from './redis';
import { LockKeeper } from './lock-keeper';
import { type CaptureTarget, captureJobId, validateCaptureTarget } from './target';

/** What the coordinator stores as a job's data: the target and who offered it first. */
export interface CaptureJobData {
  target: CaptureTarget;
  offeredBy: string;
  offeredAt: number;
  /** Random per offer: tells `offer` whether its own add created the job or found one. */
  nonce: string;
}

/** A completed job's return value. */
export interface CaptureJobResult {
  reason: string;
  summary?: Record<string, unknown>;
  holder: string;
  endedAt: number;
}

/**
 * The run record, kept in the job's progress: written when a run starts (`running`) and when it hands
 * the job back (`handed-back`) or schedules a retry after an error (`failed`). A run that finds
 * `running` there took over from a holder that died or lost its lock.
 */
export interface RunRecord {
  holder: string;
  startedAt: number;
  attempt: number;
  state: 'running' | 'handed-back' | 'failed';
  endedAt?: number;
  /** The current streak of failed runs (reset by a run that lasted `healthyRunMs`). */
  failures?: { since: number; count: number; lastError: string };
}

/** The run before this one, as its record tells. `lost`: its holder died (or lost the lock) mid-run. */
export interface PreviousRun {
  holder: string;
  startedAt: number;
  attempt: number;
  how: 'lost' | 'handed-back' | 'failed';
  endedAt?: number;
}

/** One run of a capture task, handed to `run`. */
export interface TaskRun {
  target: CaptureTarget;
  /** Aborted when this process closes (the job is handed back) or loses the job's lock: stop and resolve. */
  signal: AbortSignal;
  /**
   * An earlier run of this target started and did not finish (its holder was killed, closed, or the
   * task failed): the stream continues from the stored head and the recorder records a gap.
   */
  takeover: boolean;
  /** 1 for the first run of the job, counting every start (BullMQ's `attemptsStarted`). */
  attempt: number;
  /** This process's id. */
  holder: string;
  /** The earlier run's record, when it wrote one. */
  previous?: PreviousRun;
}

export interface CaptureCoordinatorOptions {
  redisUrl: string;
  /** Default `rewind-capture`. */
  queueName?: string;
  /** BullMQ key prefix, default `rewind`. */
  prefix?: string;
  /** This process's id, default `<hostname>:<pid>`. */
  holder?: string;
  /** Live captures per process, default 200. */
  concurrency?: number;
  /** Lock TTL, renewed every lockDuration/4 to lockDuration/2; default 5000. */
  lockDurationMs?: number;
  /** How often every worker looks for jobs whose lock expired; default 2000. */
  stalledIntervalMs?: number;
  /**
   * Who renews the locks: `thread` (default) — a thread of this process with its own Redis connection (LockKeeper), so a
   * busy event loop does not lose them; `loop` — BullMQ's own renewal on the worker's event loop.
   */
  lockRenewal?: 'thread' | 'loop';
  run: (run: TaskRun) => Promise<CaptureTaskResult>;
  log: CaptureTaskLogger;
  /** How long a completed (or given-up) job stays, so the same target is not run again; default 1 h. */
  keepFinishedMs?: number;
  /** How long `close()` (or a lost lock) waits for an aborted task to resolve; default 5000. */
  abortGraceMs?: number;
  /** Failed runs are retried with back-off until the failure streak is this old; default 30 min. */
  retryWindowMs?: number;
  /** First retry delay, doubling per consecutive failure up to `retryMaxDelayMs`; default 1000 / 60000. */
  retryInitialDelayMs?: number;
  retryMaxDelayMs?: number;
  /** A run that lasted this long before failing starts a new failure streak; default 60 s. */
  healthyRunMs?: number;
  /** `offer` gives up (RedisUnavailableError) after this long; default 5000. */
  offerTimeoutMs?: number;
  /**
   * The queue and its fail-fast connection when a container owns them (the recorder's Nest module registers
   * the queue with BullModule); default: made here from `redisUrl`. Either way `close()` closes both.
   */
  queue?: { queue: Queue<CaptureJobData, CaptureJobResult>; redis: Redis };
}

/** What the coordinator listens to on its worker (see `attach`). */
export interface CaptureWorkerEvents {
  error(e: Error): void;
  ready(): void;
  locksRenewed(): void;
  lockRenewalFailed(jobIds: string[]): void;
  stalled(jobId: string): void;
}

export interface CoordinatorStats {
  holder: string;
  started: boolean;
  closing: boolean;
  concurrency: number;
  /** Tasks running in this process now, and their target ids. */
  running: number;
  targets: string[];
  /** Counters since construction. */
  runs: number;
  takeovers: number;
  ended: number;
  handedBack: number;
  failures: number;
  lost: number;
  givenUp: number;
  /** Jobs whose lock had expired between their fetch and the start of their run (a loop late by more than the lock): not run, left to their holder. */
  staleFetches: number;
  /** Renewal rounds of the lock keeper thread, and the rounds that could not reach Redis. */
  lockRenewals: number;
  lockRenewalErrors: number;
}

export interface TargetStatus {
  id: string;
  state: string;
  attemptsStarted: number;
  stalledCounter: number;
  lastRun?: RunRecord;
  result?: CaptureJobResult;
  failedReason?: string;
}

/** Far above any real number of take-overs: a capture is never failed because its holders died. */
export const MAX_STALLED_COUNT = 1_000_000;

interface ActiveRun {
  jobId: string;
  token: string;
  target: CaptureTarget;
  controller: AbortController;
  startedAt: number;
  /** Why this process aborted the run, if it did. */
  why?: 'close' | 'lost';
}

type Outcome = { kind: 'result'; result: CaptureTaskResult } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

/**
 * Shares the capture of live sessions between recorder processes: one BullMQ job per target, held (locked)
 * by one process for the whole live capture; if that process dies, BullMQ's stalled-job check moves the
 * job back to wait and another process runs it again with `takeover: true`. See docs/capture/scale-out.md.
 */
export class CaptureCoordinator {
  readonly holder: string;
  readonly queueName: string;
  readonly prefix: string;
  private readonly concurrency: number;
  private readonly keepFinishedMs: number;
  private readonly abortGraceMs: number;
  private readonly retryWindowMs: number;
  /** The delay before a failed run's retry, by the failure count of its streak. */
  private readonly retryDelay: Backoff;
  private readonly healthyRunMs: number;
  private readonly offerTimeoutMs: number;
  private readonly lockDurationMs: number;
  private readonly log: CaptureTaskLogger;
  private readonly queueRedis: Redis;
  private readonly queue: Queue<CaptureJobData, CaptureJobResult>;
  private worker: Worker<CaptureJobData, CaptureJobResult> | undefined;
  private keeper: LockKeeper | undefined;
  private readonly active = new Map<string, ActiveRun>();
  private closing: Promise<void> | undefined;
  private readonly workerErrors: ErrorOnce;
  private readonly queueErrors: ErrorOnce;
  private readonly counters = { runs: 0, takeovers: 0, ended: 0, handedBack: 0, failures: 0, lost: 0, givenUp: 0, staleFetches: 0 };

  constructor(private readonly opts: CaptureCoordinatorOptions) {
    const w = workerDefaults(opts);
    this.holder = w.holder;
    this.queueName = opts.queueName ?? 'rewind-capture';
    this.prefix = w.prefix;
    this.concurrency = w.concurrency;
    this.keepFinishedMs = w.keepFinishedMs;
    this.abortGraceMs = positive('abortGraceMs', opts.abortGraceMs ?? 5000);
    this.retryWindowMs = positive('retryWindowMs', opts.retryWindowMs ?? 30 * 60_000);
    // ±20 % jitter, so that runs that failed together (e.g. their platform was away) do not all retry at once.
    this.retryDelay = backoff({
      baseMs: positive('retryInitialDelayMs', opts.retryInitialDelayMs ?? 1000),
      maxMs: positive('retryMaxDelayMs', opts.retryMaxDelayMs ?? 60_000),
      jitter: { spread: 0.2 },
    });
    this.healthyRunMs = positive('healthyRunMs', opts.healthyRunMs ?? 60_000);
    this.lockDurationMs = w.lockDurationMs;
    this.offerTimeoutMs = positive('offerTimeoutMs', opts.offerTimeoutMs ?? 5000);
    this.log = opts.log;
    this.workerErrors = new ErrorOnce((m) => this.log.warn(m));
    this.queueErrors = new ErrorOnce((m) => this.log.warn(m));

    // Offers use their own fail-fast connection: while Redis is away `offer` rejects at once.
    if (opts.queue && opts.queue.queue.name !== this.queueName) throw new Error(`capture coordinator: the given queue is ${opts.queue.queue.name}, not ${this.queueName}`);
    this.queueRedis = opts.queue?.redis ?? fastFailRedis(opts.redisUrl);
    this.queueRedis.on('error', (e: Error) => this.queueErrors.error(`capture queue ${this.queueName}: redis`, e));
    this.queueRedis.on('ready', () => this.queueErrors.reset());
    this.queue = opts.queue?.queue ?? new Queue<CaptureJobData, CaptureJobResult>(this.queueName, { connection: this.queueRedis, prefix: this.prefix });
    this.queue.on('error', (e: Error) => this.queueErrors.error(`capture queue ${this.queueName}`, e));
  }

  /**
   * The options of this coordinator's worker: whoever creates the worker (`start`, or BullModule for the
   * recorder's `@Processor`) creates it with exactly these, and `processJob` as its processor.
   */
  workerOptions(): WorkerOptions {
    return captureWorkerOptions(this.opts);
  }

  /** Starts taking jobs with a worker of its own (resolves once the worker's connection is ready: it waits for Redis). */
  async start(): Promise<void> {
    if (this.closing) throw new Error('capture coordinator: closed');
    if (this.worker) throw new Error('capture coordinator: already started');
    const worker = new Worker<CaptureJobData, CaptureJobResult>(this.queueName, (job, token) => this.processJob(job, token), this.workerOptions());
    await this.attach(worker);
  }

  /**
   * The handlers of the worker's events: `attach` puts them on, or a container that creates the worker
   * puts them on as soon as the worker exists (the recorder's `@Processor`, through `@OnWorkerEvent`).
   */
  readonly workerEvents: CaptureWorkerEvents = {
    error: (e) => this.workerErrors.error(`capture worker ${this.holder}`, e),
    ready: () => this.workerErrors.reset(),
    locksRenewed: () => this.workerErrors.reset(),
    lockRenewalFailed: (jobIds) => this.lockLost(jobIds),
    stalled: (jobId) => this.log.warn(`capture ${jobId.replace(/~/g, ':')}: its holder stopped renewing the lock; moved back to wait for a take-over`),
  };

  /**
   * Runs `worker` (made with `workerOptions()` and `processJob`) as this coordinator's: resolves once its
   * connection is ready. `listen: false` when its events already reach `workerEvents`.
   */
  async attach(worker: Worker<CaptureJobData, CaptureJobResult>, o: { listen?: boolean } = {}): Promise<void> {
    if (this.closing) throw new Error('capture coordinator: closed');
    if (this.worker) throw new Error('capture coordinator: already started');
    this.worker = worker;
    if ((this.opts.lockRenewal ?? 'thread') === 'thread') {
      const w = workerDefaults(this.opts);
      this.keeper = new LockKeeper({
        redisUrl: this.opts.redisUrl,
        prefix: this.prefix,
        queueName: this.queueName,
        lockDurationMs: w.lockDurationMs,
        onLost: (locks) =>
          this.lockLost(
            locks.map((l) => l.jobId),
            new Set(locks.map((l) => l.token)),
          ),
        log: this.log,
      });
    }
    if (o.listen ?? true) {
      worker.on('error', this.workerEvents.error);
      worker.on('ready', this.workerEvents.ready);
      worker.on('locksRenewed', this.workerEvents.locksRenewed);
      worker.on('lockRenewalFailed', this.workerEvents.lockRenewalFailed);
      worker.on('stalled', this.workerEvents.stalled);
    }
    worker.run().catch((e: unknown) => this.log.error(`capture worker ${this.holder} stopped: ${(e as Error).message}`));
    await worker.waitUntilReady();
  }

  /**
   * Offers a live target: adds its job unless one exists (job id = `captureJobId(target.id)`, so every process that
   * discovers the session offers the same job). `exists` also for a target that finished less than
   * `keepFinishedMs` ago. Rejects with `RedisUnavailableError` while Redis is away (callers retry).
   */
  async offer(target: CaptureTarget): Promise<'added' | 'exists'> {
    validateCaptureTarget(target);
    if (this.closing) throw new Error('capture coordinator: closed');
    const what = `offer ${target.id}`;
    // A connection that is (re)connecting gets a moment; one that stays away fails the offer.
    if (!(await whenReady(this.queueRedis, Math.min(1000, this.offerTimeoutMs)))) throw new RedisUnavailableError(what);
    try {
      return await withTimeout(this.offerNow(target, true), this.offerTimeoutMs, () => new RedisUnavailableError(`${what} (no answer in ${this.offerTimeoutMs} ms)`));
    } catch (e) {
      if (e instanceof RedisUnavailableError) throw e;
      if (this.queueRedis.status !== 'ready' || isConnectionError(e)) throw new RedisUnavailableError(what, e);
      throw e;
    }
  }

  /**
   * Stops (false) or restarts (true) taking jobs, the running ones untouched (their locks are still renewed): the
   * recorder's admission control defers new captures while it is overloaded. The jobs wait in the queue, where
   * another process may take them.
   */
  intake(open: boolean): void {
    const worker = this.worker;
    if (!worker || this.closing) return;
    if (open) {
      if (worker.isPaused()) worker.resume();
    } else if (!worker.isPaused()) {
      worker.pause(true).catch((e: unknown) => this.log.warn(`capture worker ${this.holder}: pause: ${(e as Error).message}`));
    }
  }

  /** Where a target's job is (undefined: no job). */
  async describe(targetId: string): Promise<TargetStatus | undefined> {
    // State first: a job read after it says completed carries its return value.
    const read = async () => {
      const state = await this.queue.getJobState(captureJobId(targetId));
      return { state, job: await this.queue.getJob(captureJobId(targetId)) };
    };
    const { state, job } = await withTimeout(read(), this.offerTimeoutMs, () => new RedisUnavailableError(`describe ${targetId}`));
    if (!job || state === 'unknown') return undefined;
    const status: TargetStatus = {
      id: targetId,
      state,
      attemptsStarted: job.attemptsStarted,
      stalledCounter: job.stalledCounter,
    };
    const lastRun = parseRunRecord(job.progress);
    if (lastRun) status.lastRun = lastRun;
    if (job.returnvalue) status.result = job.returnvalue;
    if (job.failedReason) status.failedReason = job.failedReason;
    return status;
  }

  stats(): CoordinatorStats {
    return {
      holder: this.holder,
      started: this.worker !== undefined,
      closing: this.closing !== undefined,
      concurrency: this.concurrency,
      running: this.active.size,
      targets: [...this.active.values()].map((a) => a.target.id),
      ...this.counters,
      lockRenewals: this.keeper?.stats().renewals ?? 0,
      lockRenewalErrors: this.keeper?.stats().errors ?? 0,
    };
  }

  /**
   * Graceful shutdown: stops taking jobs, aborts this process's tasks, waits for them (at most
   * `abortGraceMs` each) and hands their jobs back to wait, where another process picks them up at once.
   */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    const worker = this.worker;
    // Closing the worker first stops it fetching: a job handed back below must go to another process.
    const workerClosed = worker ? worker.close() : Promise.resolve();
    for (const run of this.active.values()) this.abort(run, 'close');
    try {
      await workerClosed;
    } catch (e) {
      this.log.warn(`capture worker ${this.holder}: close: ${(e as Error).message}`);
    }
    try {
      await this.queue.close();
    } catch (e) {
      this.log.warn(`capture queue ${this.queueName}: close: ${(e as Error).message}`);
    }
    // Last: the locks were renewed until every run was handed back (the worker's close waits for them).
    await this.keeper?.close();
    this.queueRedis.disconnect();
  }

  private abort(run: ActiveRun, why: 'close' | 'lost'): void {
    if (run.why) return;
    run.why = why;
    run.controller.abort(new Error(why === 'close' ? 'recorder process closing' : 'capture job lock lost'));
  }

  /** `tokens`: only the runs that held these (the keeper's report); BullMQ's own renewal names job ids only. */
  private lockLost(jobIds: string[], tokens?: Set<string>): void {
    for (const run of this.active.values()) {
      if (!jobIds.includes(run.jobId) || run.why || (tokens && !tokens.has(run.token))) continue;
      this.log.warn(`capture ${run.target.id}: lock lost (another process may take it over); stopping this run`);
      this.abort(run, 'lost');
    }
  }

  private async offerNow(target: CaptureTarget, mayReplaceStale: boolean): Promise<'added' | 'exists'> {
    const nonce = randomUUID();
    const keep = { age: Math.ceil(this.keepFinishedMs / 1000) };
    const data: CaptureJobData = { target, offeredBy: this.holder, offeredAt: Date.now(), nonce };
    // Adding an existing job id is a no-op in BullMQ; the stored data tells whose add won.
    const jobId = captureJobId(target.id);
    await this.queue.add(target.kind, data, { jobId, removeOnComplete: keep, removeOnFail: keep });
    const job = await this.queue.getJob(jobId);
    if (!job) return 'exists';
    if (job.data?.nonce === nonce) {
      this.log.info(`capture ${target.id}: offered (${target.kind})`);
      return 'added';
    }
    // BullMQ removes finished jobs by age only when another job finishes: drop a stale one here.
    if (mayReplaceStale && job.finishedOn && job.finishedOn + this.keepFinishedMs < Date.now()) {
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') {
        await job.remove().catch(() => undefined);
        return this.offerNow(target, false);
      }
    }
    return 'exists';
  }

  /** The worker's processor: one run of a capture job (see `TaskRun`), settled as a completion, a hand-back or a retry. */
  async processJob(job: Job<CaptureJobData, CaptureJobResult>, token: string | undefined): Promise<CaptureJobResult> {
    const jobId = job.id ?? '';
    if (!token) throw new UnrecoverableError(`capture ${jobId}: no lock token`);
    if (this.closing) {
      // Fetched while closing: hand it straight back.
      await job.moveToWait(token).catch(() => undefined);
      throw new WaitingError();
    }
    const target = job.data.target;
    if (this.keeper) {
      // BullMQ took the lock when it fetched the job; a loop late by more than the lock between that fetch and this
      // call lets it expire, and another process may run the job already. Made ours for a lock duration first (the
      // keeper renews it from here on), or not run at all: a capture must never run twice side by side.
      const held = await job.extendLock(token, this.lockDurationMs).catch(() => 0);
      if (!held) {
        this.counters.staleFetches++;
        this.log.warn(`capture ${target.id}: its lock expired before its run could start (the event loop was late); left to whoever holds it now`);
        throw new WaitingError();
      }
      this.keeper.track(jobId, token);
    }
    const previousRecord = parseRunRecord(job.progress);
    const attempt = Math.max(1, job.attemptsStarted);
    const previous: PreviousRun | undefined = previousRecord
      ? {
          holder: previousRecord.holder,
          startedAt: previousRecord.startedAt,
          attempt: previousRecord.attempt,
          how: previousRecord.state === 'running' ? 'lost' : previousRecord.state,
          ...(previousRecord.endedAt !== undefined ? { endedAt: previousRecord.endedAt } : {}),
        }
      : undefined;
    const takeover = previous !== undefined || attempt > 1;
    const run: ActiveRun = { jobId, token, target, controller: new AbortController(), startedAt: Date.now() };
    this.active.set(token, run);
    this.counters.runs++;
    if (takeover) this.counters.takeovers++;
    try {
      const record: RunRecord = { holder: this.holder, startedAt: run.startedAt, attempt, state: 'running' };
      if (previousRecord?.failures) record.failures = previousRecord.failures;
      try {
        await job.updateProgress(record);
      } catch (e) {
        // Not fatal: attemptsStarted still tells the next run that this one started.
        this.log.warn(`capture ${target.id}: could not record the holder: ${(e as Error).message}`);
      }
      this.log.info(
        takeover
          ? `capture ${target.id}: taking over (attempt ${attempt}; previous run ${previous ? `${previous.how}, held by ${previous.holder}` : 'unrecorded'})`
          : `capture ${target.id}: capturing (${target.kind})`,
      );
      // Aborted (close, lost lock) while recording the holder: do not start the task at all.
      const outcome: Outcome = run.why
        ? { kind: 'result', result: { status: 'aborted' } }
        : await this.runTask(run, { target, signal: run.controller.signal, takeover, attempt, holder: this.holder, ...(previous ? { previous } : {}) });
      return await this.settle(job, run, record, outcome);
    } finally {
      this.active.delete(token);
      this.keeper?.untrack(jobId, token);
    }
  }

  /** Runs the task; after an abort, waits at most `abortGraceMs` for it. */
  private async runTask(run: ActiveRun, taskRun: TaskRun): Promise<Outcome> {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const task: Promise<Outcome> = (async () => this.opts.run(taskRun))().then(
      (result) => ({ kind: 'result', result }),
      (error: unknown) => ({ kind: 'error', error }),
    );
    const grace = new Promise<Outcome>((resolve) => {
      const onAbort = () => {
        if (!settled) timer = setTimeout(() => resolve({ kind: 'timeout' }), this.abortGraceMs);
      };
      if (run.controller.signal.aborted) onAbort();
      else run.controller.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([task, grace]);
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }

  private async settle(job: Job<CaptureJobData, CaptureJobResult>, run: ActiveRun, record: RunRecord, outcome: Outcome): Promise<CaptureJobResult> {
    const id = run.target.id;
    if (outcome.kind === 'result' && outcome.result.status === 'ended') {
      this.counters.ended++;
      this.log.info(`capture ${id}: ended (${outcome.result.reason})`);
      const result: CaptureJobResult = { reason: outcome.result.reason, holder: this.holder, endedAt: Date.now() };
      if (outcome.result.summary) result.summary = outcome.result.summary;
      return result; // BullMQ completes the job (kept keepFinishedMs).
    }
    if (outcome.kind === 'timeout') this.log.warn(`capture ${id}: task did not stop within ${this.abortGraceMs} ms of its abort; leaving it behind`);
    if (run.why === 'lost') {
      // The lock is no longer ours: touch nothing, the job belongs to whoever holds it now.
      this.counters.lost++;
      throw new WaitingError();
    }
    if (run.why === 'close') {
      try {
        await job.updateProgress({ ...record, state: 'handed-back', endedAt: Date.now() } satisfies RunRecord);
        await job.moveToWait(run.token);
        this.counters.handedBack++;
        this.log.info(`capture ${id}: handed back`);
      } catch (e) {
        // The lock expires and the stalled check hands it over instead (after the stall timeout).
        this.log.warn(`capture ${id}: could not hand back (${(e as Error).message}); it is taken over after its lock expires`);
      }
      throw new WaitingError();
    }
    // The task threw, or gave up ('aborted' without an abort): retry with back-off, never drop the target.
    this.counters.failures++;
    const message =
      outcome.kind === 'error'
        ? outcome.error instanceof Error
          ? outcome.error.message
          : String(outcome.error)
        : outcome.kind === 'result'
          ? 'task resolved aborted without being aborted'
          : 'task did not settle';
    const now = Date.now();
    const streak = record.failures && now - run.startedAt < this.healthyRunMs ? record.failures : undefined;
    const failures = { since: streak?.since ?? now, count: (streak?.count ?? 0) + 1, lastError: message.slice(0, 500) };
    if (now - failures.since >= this.retryWindowMs) {
      this.counters.givenUp++;
      this.log.error(`capture ${id}: failing for ${Math.round((now - failures.since) / 1000)} s (${failures.count} runs; last: ${message}); giving up`);
      await job.updateProgress({ ...record, state: 'failed', endedAt: now, failures } satisfies RunRecord).catch(() => undefined);
      throw new UnrecoverableError(`capture failed for ${this.retryWindowMs} ms: ${message}`);
    }
    const delay = this.retryDelay(failures.count);
    this.log.warn(`capture ${id}: task failed (${message}); retry ${failures.count} in ${delay} ms`);
    try {
      await job.updateProgress({ ...record, state: 'failed', endedAt: now, failures } satisfies RunRecord);
      await job.moveToDelayed(now + delay, run.token);
    } catch (e) {
      // Still active with our lock: the lock expires and the stalled check moves it back to wait.
      this.log.warn(`capture ${id}: could not schedule the retry (${(e as Error).message}); it is retried after its lock expires`);
      throw new WaitingError();
    }
    throw new DelayedError();
  }
}

type WorkerSettings = Pick<CaptureCoordinatorOptions, 'redisUrl' | 'holder' | 'prefix' | 'concurrency' | 'lockDurationMs' | 'stalledIntervalMs' | 'keepFinishedMs' | 'lockRenewal'>;

function workerDefaults(o: WorkerSettings) {
  const lockDurationMs = positive('lockDurationMs', o.lockDurationMs ?? 5000);
  if (lockDurationMs < 1000) throw new Error('lockDurationMs: at least 1000 (locks are renewed every lockDuration/4..lockDuration/2)');
  return {
    holder: o.holder ?? `${hostname()}:${process.pid}`,
    prefix: o.prefix ?? 'rewind',
    concurrency: positive('concurrency', o.concurrency ?? 200),
    lockDurationMs,
    stalledIntervalMs: positive('stalledIntervalMs', o.stalledIntervalMs ?? 2000),
    keepFinishedMs: positive('keepFinishedMs', o.keepFinishedMs ?? 3_600_000),
  };
}

/**
 * The worker options of a capture coordinator with these settings (defaults as the coordinator's): the
 * worker a coordinator starts, and the one BullModule creates for the recorder's `@Processor`, are the same.
 */
export function captureWorkerOptions(o: WorkerSettings): WorkerOptions {
  const w = workerDefaults(o);
  const keep = { age: Math.ceil(w.keepFinishedMs / 1000) };
  return {
    // Worker connections must retry forever (BullMQ requires maxRetriesPerRequest: null); they reconnect
    // with the same capped back-off as every Rewind connection.
    connection: { url: o.redisUrl, maxRetriesPerRequest: null, retryStrategy: redisRetryStrategy(), disconnectTimeout: 100 },
    prefix: w.prefix,
    name: w.holder,
    // The worker takes jobs once `attach` runs it (after its listeners are on).
    autorun: false,
    concurrency: w.concurrency,
    lockDuration: w.lockDurationMs,
    // The lock keeper thread renews the locks (see LockKeeper), unless the loop is asked to.
    skipLockRenewal: (o.lockRenewal ?? 'thread') === 'thread',
    stalledInterval: w.stalledIntervalMs,
    maxStalledCount: MAX_STALLED_COUNT,
    // After a connection error the worker retries fetching after this delay (BullMQ's default: 15 s).
    runRetryDelay: 1000,
    removeOnComplete: keep,
    removeOnFail: keep,
  };
}

export function parseRunRecord(progress: JobProgress | undefined): RunRecord | undefined {
  if (!progress || typeof progress !== 'object') return undefined;
  const p = progress as Partial<RunRecord>;
  if (typeof p.holder !== 'string' || typeof p.startedAt !== 'number' || typeof p.attempt !== 'number') return undefined;
  if (p.state !== 'running' && p.state !== 'handed-back' && p.state !== 'failed') return undefined;
  return p as RunRecord;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: must be a positive number`);
  return value;
}
