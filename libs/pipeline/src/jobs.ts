import { Inject, Injectable } from '@nestjs/common';
import { DelayedError, UnrecoverableError } from 'bullmq';
import type { Job } from 'bullmq';
import { EventStore } from '@rewind/event-store';
import { AuditService } from '@rewind/audit';
import { Redactor } from '@rewind/redaction';
import { safeId } from '@rewind/recorder';
import { CredentialVault } from '@rewind/scaleout';
import { JobStream } from './job-stream';
import { recordedCall } from './http-call';
import { PIPELINE_SETTINGS, PipelineSettings } from './options';
import { backoffDelay, PipelineQueue } from './queues';
import type { AuditJobResult, RewardResult, RunPayload, SnapshotResult } from './types';

const marker = (msgType: string, detail: unknown) => ({
  kind: 'marker' as const,
  direction: 'internal' as const,
  channel: 'internal' as const,
  format: 'json' as const,
  body: JSON.stringify(detail),
  msgType,
});

/**
 * Every attempt of a snapshot or handoff job is recorded in the job's stream (attempt marker, the HTTP
 * exchanges, the result or the error); after the last attempt the job stays `failed` in BullMQ — the
 * dead-letter state, listed by `rewind pipeline dead-letters` and `GET /api/pipeline/dead-letters`, retried
 * with `rewind pipeline retry`.
 */
@Injectable()
export class JobRecording {
  constructor(
    private readonly store: EventStore,
    @Inject(PIPELINE_SETTINGS) private readonly settings: PipelineSettings,
  ) {}

  async run<T>(queue: PipelineQueue, job: Job<RunPayload>, work: (stream: JobStream) => Promise<T>): Promise<T> {
    const stream = new JobStream(this.store, String(job.id), queue, job.data);
    // Stored with the first flush: before the job's first outside call, or with its result.
    stream.add(marker('attempt', { attempt: job.attemptsMade + 1, of: job.opts.attempts ?? 1 }));
    let resultMarker: ReturnType<typeof marker> | undefined;
    try {
      const result = await work(stream);
      resultMarker = marker('result', result);
      stream.add(resultMarker);
      // The result marker and the end in one transaction: the stream never shows a result while still open.
      await stream.end(result);
      return result;
    } catch (e) {
      const last = e instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      // A result that could not be stored is no result: the attempt failed.
      if (resultMarker) stream.retract(resultMarker);
      stream.add(marker(last ? 'dead-letter' : 'attempt-failed', { error: (e as Error).message, attempt: job.attemptsMade + 1 }));
      // A dead letter's attempts are over until someone retries it: its stream is ended (a retry appends on).
      await (last ? stream.end({ deadLetter: true, error: (e as Error).message }) : stream.flush()).catch((err: unknown) =>
        this.settings.log.warn(`${queue} job ${job.id}: its stream's ${last ? 'dead-letter end' : 'failed attempt'} was not stored: ${err instanceof Error ? err.message : String(err)}`),
      );
      if (last) this.settings.log.error(`${queue} job ${job.id} (run ${job.data.sessionId}) is dead-lettered: ${(e as Error).message}`);
      throw e;
    }
  }
}

const practice = (source: string | null): SnapshotResult => ({ status: 'skipped', reason: `a ${source ?? 'unknown-source'} run is practice: only agent_api runs are snapshotted` });

/** MoltStation's rewards snapshot of an agent_api run, with the agent's own bearer from the vault. */
@Injectable()
export class SnapshotSubmission {
  constructor(
    private readonly redactor: Redactor,
    private readonly vault: CredentialVault,
    @Inject(PIPELINE_SETTINGS) private readonly settings: PipelineSettings,
  ) {}

  /** The agent's bearer for a run (the encrypted vault the recorder fills). */
  private credential(platformSessionId: string): Promise<string | undefined> {
    return this.vault.get(safeId(`session:${platformSessionId}`), 'bearer');
  }

  async submit(run: RunPayload, stream: JobStream): Promise<SnapshotResult> {
    const o = this.settings;
    if (run.platform !== 'moltstation') return { status: 'skipped', reason: `no snapshot endpoint for ${run.platform}` };
    if (run.source !== null && run.source !== 'agent_api') return practice(run.source);
    if (!run.platformSessionId || !run.game) return { status: 'skipped', reason: 'the run has no MoltStation session id or game' };
    if (!o.moltstationUrl) return { status: 'skipped', reason: 'no MoltStation upstream configured' };
    const base = o.moltstationUrl.replace(/\/+$/, '');
    const detailUrl = `${base}/api/games/${encodeURIComponent(run.game)}/sessions/${encodeURIComponent(run.platformSessionId)}`;
    const detail = async () => recordedCall(stream, this.redactor, { method: 'GET', url: detailUrl, headers: {}, timeoutMs: o.requestTimeoutMs, label: 'session-detail', base });
    const before = await detail();
    if (before.status === 404) throw new UnrecoverableError(`MoltStation does not know session ${run.platformSessionId}`);
    const view = before.json as { status?: string; snapshotted?: boolean; source?: string } | null;
    if (before.status !== 200 || !view) throw new Error(`session detail answered ${before.status}`);
    // A run whose spectator stream ended first carries no source (the spectator never sees the start call):
    // the platform's own detail says whether the session is rewards-eligible.
    if (run.source === null && view.source !== 'agent_api') return practice(view.source ?? null);
    if (view.snapshotted) return { status: 'already-snapshotted', by: 'agent' };
    if (view.status !== 'ended') throw new Error(`session ${run.platformSessionId} is ${view.status ?? 'in an unknown state'}, not ended yet`);
    const token = await this.credential(run.platformSessionId);
    if (!token) throw new Error(`no credential of the agent for session ${run.platformSessionId} (the recorder keeps it for 6 h)`);
    this.redactor.remember(token);
    const res = await recordedCall(stream, this.redactor, {
      method: 'POST',
      url: `${base}/api/rewards/snapshot`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ gameSlug: run.game, sessionId: run.platformSessionId }),
      timeoutMs: o.requestTimeoutMs,
      label: 'snapshot',
      base,
    });
    if (res.status === 200) return { status: 'submitted', httpStatus: 200, response: JSON.parse(this.redactor.redactText(res.body)) as unknown };
    if (res.status === 409) {
      // Once per session: someone (the agent, resolving SNAPSHOT_REQUIRED, or an earlier attempt whose answer was lost) did it.
      const after = await detail();
      if ((after.json as { snapshotted?: boolean } | null)?.snapshotted) return { status: 'already-snapshotted', by: 'agent' };
    }
    if (res.status >= 400 && res.status < 500 && res.status !== 409 && res.status !== 429) throw new UnrecoverableError(`snapshot refused: ${res.status} ${res.body.slice(0, 200)}`);
    throw new Error(`snapshot answered ${res.status}`);
  }
}

/** The run's outcome to the rewards pipeline, exactly once: the job id (= outbox id) is the Idempotency-Key. */
@Injectable()
export class RewardHandoff {
  constructor(
    private readonly redactor: Redactor,
    @Inject(PIPELINE_SETTINGS) private readonly settings: PipelineSettings,
  ) {}

  async handOff(job: Job<RunPayload>, stream: JobStream): Promise<RewardResult> {
    const o = this.settings;
    const run = job.data;
    const body = JSON.stringify({
      runSessionId: run.sessionId,
      platform: run.platform,
      game: run.game,
      platformSessionId: run.platformSessionId,
      agent: run.agent,
      source: run.source,
      outcome: run.outcome,
    });
    const res = await recordedCall(stream, this.redactor, {
      method: 'POST',
      url: o.rewardsUrl,
      headers: { 'content-type': 'application/json', 'idempotency-key': String(job.id), ...(o.rewardsApiKey ? { authorization: `Bearer ${o.rewardsApiKey}` } : {}) },
      body,
      timeoutMs: o.requestTimeoutMs,
      label: 'reward-handoff',
    });
    const json = res.json as { id?: string; duplicate?: boolean } | null;
    if (res.status === 200 || res.status === 201) return { status: 'handed-off', httpStatus: res.status, receiptId: json?.id ?? null, duplicate: json?.duplicate === true };
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429)
      throw new UnrecoverableError(`the rewards pipeline refused the outcome: ${res.status} ${res.body.slice(0, 200)}`);
    throw new Error(`the rewards pipeline answered ${res.status}`);
  }
}

/** What a waiting run-audit job shows as its progress (Bull Board shows it too). */
export interface RunAuditProgress {
  waitingFor: 'snapshot and reward jobs';
  checks: number;
}

/**
 * The run's audit, once its snapshot and handoff jobs have a result. Until then the job is moved back to
 * `delayed` (`moveToDelayed` + `DelayedError`): a re-check later that is not an attempt, so a handoff that
 * takes long (its own retries, a slow endpoint, a worker take-over) cannot use up the audit's attempts. The
 * re-checks back off like the pipeline's retries; after `auditWaitMs` from the job's creation it audits what is
 * there (what is missing is then reported unverifiable). Attempts are spent only on real failures (the
 * database away). Findings go to the `audits` table, not to a job stream.
 */
@Injectable()
export class RunAudit {
  constructor(
    private readonly audits: AuditService,
    @Inject(PIPELINE_SETTINGS) private readonly settings: PipelineSettings,
  ) {}

  async audit(job: Job<RunPayload>, token: string | undefined): Promise<AuditJobResult> {
    const o = this.settings;
    const deadline = job.timestamp + o.auditWaitMs;
    const audit = await this.audits.auditSession(job.data.sessionId, 'pipeline', Date.now() < deadline);
    if (audit === 'pending') {
      const checks = ((job.progress as Partial<RunAuditProgress> | undefined)?.checks ?? 0) + 1;
      await job.updateProgress({ waitingFor: 'snapshot and reward jobs', checks } satisfies RunAuditProgress);
      // Never past the deadline (+ a little, so the next check is past it and audits what is there).
      await job.moveToDelayed(Math.min(Date.now() + backoffDelay(checks, o.retry), deadline + 10), token);
      throw new DelayedError();
    }
    if (!audit) throw new UnrecoverableError(`run ${job.data.sessionId} is not in the store`);
    if (audit.status === 'mismatch')
      o.log.warn(
        `audit of ${audit.runKey}: mismatch (${audit.findings
          .filter((f) => f.status === 'mismatch')
          .map((f) => f.check)
          .join(', ')})`,
      );
    return { status: audit.status, auditId: audit.id, findings: audit.findings.length };
  }
}
