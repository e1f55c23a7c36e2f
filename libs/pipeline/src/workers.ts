import { UnrecoverableError, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { EventStore } from '@rewind/event-store';
import type { AuditService } from '@rewind/audit';
import type { Redactor } from '@rewind/capture';
import { JobStream } from './job-stream';
import { recordedCall } from './http-call';
import { backoffDelay, bullConnection, PipelineQueue, PipelineRetryPolicy } from './queues';
import type { RelayLogger } from './relay';
import type { AuditJobResult, RewardResult, RunPayload, SnapshotResult } from './types';

export interface PipelineWorkerOptions {
  redisUrl: string;
  prefix: string;
  store: EventStore;
  redactor: Redactor;
  retry: PipelineRetryPolicy;
  concurrency: number;
  /** One HTTP call's time limit. */
  requestTimeoutMs: number;
  /** The rewards pipeline's handoff endpoint (POST, JSON, Idempotency-Key). */
  rewardsUrl: string;
  /** Bearer for the rewards endpoint, if it wants one. */
  rewardsApiKey?: string;
  /** Base URL of MoltStation (snapshot endpoint and session detail). */
  moltstationUrl?: string;
  /** Lock of an active job; a worker that dies is taken over once it expires and a stalled check runs (defaults 30 s / 30 s). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** The agent's bearer for a run (from the encrypted vault the recorder fills). */
  agentCredential: (platform: string, platformSessionId: string) => Promise<string | undefined>;
  /** Audits a run and stores the findings (libs/audit). */
  audits: AuditService;
  log: RelayLogger;
}

const marker = (msgType: string, detail: unknown) => ({ kind: 'marker' as const, direction: 'internal' as const, channel: 'internal' as const, format: 'json' as const, body: JSON.stringify(detail), msgType });

/**
 * The two pipeline workers. Every attempt is recorded in the job's stream (attempt marker, the HTTP
 * exchanges, the result or the error); after the last attempt the job stays `failed` in BullMQ — the
 * dead-letter state, listed by `rewind pipeline dead-letters` and `GET /api/pipeline/dead-letters`, retried
 * with `rewind pipeline retry`.
 */
export function startPipelineWorkers(o: PipelineWorkerOptions): Record<PipelineQueue, Worker> {
  const settings = { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, o.retry) };
  const common = {
    connection: bullConnection(o.redisUrl),
    prefix: o.prefix,
    concurrency: o.concurrency,
    settings,
    lockDuration: o.lockDurationMs ?? 30_000,
    stalledInterval: o.stalledIntervalMs ?? 30_000,
    // A job whose worker died is retried, never failed for it (its handoff is idempotent).
    maxStalledCount: 1000,
  };
  const wrap = <T>(queue: PipelineQueue, work: (job: Job<RunPayload>, stream: JobStream) => Promise<T>) => async (job: Job<RunPayload>): Promise<T> => {
    const stream = new JobStream(o.store, String(job.id), queue, job.data);
    await stream.append(marker('attempt', { attempt: job.attemptsMade + 1, of: job.opts.attempts ?? 1 }));
    try {
      const result = await work(job, stream);
      await stream.append(marker('result', result));
      await stream.end(result);
      return result;
    } catch (e) {
      const last = e instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      await stream.append(marker(last ? 'dead-letter' : 'attempt-failed', { error: (e as Error).message, attempt: job.attemptsMade + 1 })).catch(() => undefined);
      // A dead letter's attempts are over until someone retries it: its stream is ended (a retry appends on).
      if (last) await stream.end({ deadLetter: true, error: (e as Error).message }).catch(() => undefined);
      if (last) o.log.error(`${queue} job ${job.id} (run ${job.data.sessionId}) is dead-lettered: ${(e as Error).message}`);
      throw e;
    }
  };

  const snapshot = new Worker<RunPayload, SnapshotResult>(
    'snapshot-submission',
    wrap('snapshot-submission', (job, stream) => submitSnapshot(job.data, stream, o)),
    common,
  );
  const reward = new Worker<RunPayload, RewardResult>('reward-handoff', wrap('reward-handoff', (job, stream) => handOff(job, stream, o)), common);
  const audit = new Worker<RunPayload, AuditJobResult>('run-audit', (job) => auditJob(job, o), common);
  for (const w of [snapshot, reward, audit]) w.on('error', (e) => o.log.warn(`pipeline worker: ${e.message}`));
  return { 'snapshot-submission': snapshot, 'reward-handoff': reward, 'run-audit': audit };
}

/**
 * The run's audit, once its snapshot and handoff jobs have a result: until then each attempt fails with
 * "waiting" and is retried with the pipeline's backoff; the last attempt audits whatever is there (what is
 * missing is then reported unverifiable). Findings go to the `audits` table, not to a job stream.
 */
async function auditJob(job: Job<RunPayload>, o: PipelineWorkerOptions): Promise<AuditJobResult> {
  const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const audit = await o.audits.auditSession(job.data.sessionId, 'pipeline', !last);
  if (audit === 'pending') throw new Error(`run ${job.data.sessionId}: waiting for its snapshot and reward jobs to finish`);
  if (!audit) throw new UnrecoverableError(`run ${job.data.sessionId} is not in the store`);
  if (audit.status === 'mismatch') o.log.warn(`audit of ${audit.runKey}: mismatch (${audit.findings.filter((f) => f.status === 'mismatch').map((f) => f.check).join(', ')})`);
  return { status: audit.status, auditId: audit.id, findings: audit.findings.length };
}

const practice = (source: string | null): SnapshotResult => ({ status: 'skipped', reason: `a ${source ?? 'unknown-source'} run is practice: only agent_api runs are snapshotted` });

async function submitSnapshot(run: RunPayload, stream: JobStream, o: PipelineWorkerOptions): Promise<SnapshotResult> {
  if (run.platform !== 'moltstation') return { status: 'skipped', reason: `no snapshot endpoint for ${run.platform}` };
  if (run.source !== null && run.source !== 'agent_api') return practice(run.source);
  if (!run.platformSessionId || !run.game) return { status: 'skipped', reason: 'the run has no MoltStation session id or game' };
  if (!o.moltstationUrl) return { status: 'skipped', reason: 'no MoltStation upstream configured' };
  const base = o.moltstationUrl.replace(/\/+$/, '');
  const detailUrl = `${base}/api/games/${encodeURIComponent(run.game)}/sessions/${encodeURIComponent(run.platformSessionId)}`;
  const detail = async () => recordedCall(stream, o.redactor, { method: 'GET', url: detailUrl, headers: {}, timeoutMs: o.requestTimeoutMs, label: 'session-detail', base });
  const before = await detail();
  if (before.status === 404) throw new UnrecoverableError(`MoltStation does not know session ${run.platformSessionId}`);
  const view = before.json as { status?: string; snapshotted?: boolean; source?: string } | null;
  if (before.status !== 200 || !view) throw new Error(`session detail answered ${before.status}`);
  // A run whose spectator stream ended first carries no source (the spectator never sees the start call):
  // the platform's own detail says whether the session is rewards-eligible.
  if (run.source === null && view.source !== 'agent_api') return practice(view.source ?? null);
  if (view.snapshotted) return { status: 'already-snapshotted', by: 'agent' };
  if (view.status !== 'ended') throw new Error(`session ${run.platformSessionId} is ${view.status ?? 'in an unknown state'}, not ended yet`);
  const token = await o.agentCredential('moltstation', run.platformSessionId);
  if (!token) throw new Error(`no credential of the agent for session ${run.platformSessionId} (the recorder keeps it for 6 h)`);
  o.redactor.remember(token);
  const res = await recordedCall(stream, o.redactor, {
    method: 'POST',
    url: `${base}/api/rewards/snapshot`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ gameSlug: run.game, sessionId: run.platformSessionId }),
    timeoutMs: o.requestTimeoutMs,
    label: 'snapshot',
    base,
  });
  if (res.status === 200) return { status: 'submitted', httpStatus: 200, response: JSON.parse(o.redactor.redactText(res.body)) as unknown };
  if (res.status === 409) {
    // Once per session: someone (the agent, resolving SNAPSHOT_REQUIRED, or an earlier attempt whose answer was lost) did it.
    const after = await detail();
    if ((after.json as { snapshotted?: boolean } | null)?.snapshotted) return { status: 'already-snapshotted', by: 'agent' };
  }
  if (res.status >= 400 && res.status < 500 && res.status !== 409 && res.status !== 429) throw new UnrecoverableError(`snapshot refused: ${res.status} ${res.body.slice(0, 200)}`);
  throw new Error(`snapshot answered ${res.status}`);
}

async function handOff(job: Job<RunPayload>, stream: JobStream, o: PipelineWorkerOptions): Promise<RewardResult> {
  const run = job.data;
  const body = JSON.stringify({ runSessionId: run.sessionId, platform: run.platform, game: run.game, platformSessionId: run.platformSessionId, agent: run.agent, source: run.source, outcome: run.outcome });
  const res = await recordedCall(stream, o.redactor, {
    method: 'POST',
    url: o.rewardsUrl,
    headers: { 'content-type': 'application/json', 'idempotency-key': String(job.id), ...(o.rewardsApiKey ? { authorization: `Bearer ${o.rewardsApiKey}` } : {}) },
    body,
    timeoutMs: o.requestTimeoutMs,
    label: 'reward-handoff',
  });
  const json = res.json as { id?: string; duplicate?: boolean } | null;
  if (res.status === 200 || res.status === 201) return { status: 'handed-off', httpStatus: res.status, receiptId: json?.id ?? null, duplicate: json?.duplicate === true };
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new UnrecoverableError(`the rewards pipeline refused the outcome: ${res.status} ${res.body.slice(0, 200)}`);
  throw new Error(`the rewards pipeline answered ${res.status}`);
}
