import { Db, PrismaService } from '@rewind/db';
import { ChainVerifier, EventStore, isUuid, OutboxRepository, SessionRecord, sessionRecordOf, SessionsRepository, StoredEvent } from '@rewind/event-store';
import type { EvidenceEvent, EvidenceStream, OutboxEvidence, RunEvidence, StreamRole } from './types';

/**
 * Reads one platform run from the store: every recorder stream of it (same platform and platform session
 * id; a platform without run ids — SpaceMolt — has one stream per run), the pipeline's job streams that
 * name one of them as `runSessionId`, and the outbox rows they wrote. Any of the run's session ids finds it.
 */

export interface RunMembers {
  runKey: string;
  anchor: SessionRecord;
  recorder: SessionRecord[];
  pipeline: SessionRecord[];
  outbox: OutboxEvidence[];
}

const streamOf = (s: SessionRecord): string => String((s.metadata as Record<string, unknown>)['stream'] ?? '');

const RECORDER_ROLES = new Set(['proxy', 'spectator', 'poller']);

function roleOf(s: SessionRecord): StreamRole {
  const m = s.metadata as Record<string, unknown>;
  if (streamOf(s) === 'pipeline') return m['queue'] === 'snapshot-submission' ? 'snapshot-submission' : 'reward-handoff';
  const by = String(m['capturedBy'] ?? 'proxy');
  return (RECORDER_ROLES.has(by) ? by : 'proxy') as StreamRole;
}

/** The run's key: `${platform}:${platformSessionId}`, else `${platform}:${the run stream's id}`. */
export const runKeyOf = (s: Pick<SessionRecord, 'platform' | 'platformSessionId' | 'id'>): string => `${s.platform}:${s.platformSessionId ?? s.id}`;

/** The repositories a run is read through, on `db`'s PrismaService (a `pg` pool is borrowed, see PrismaService.of). */
const reposOf = (db: Db) => ({ sessions: new SessionsRepository(db), outbox: new OutboxRepository(db) });

/**
 * The job streams of a run that has a platform session id: the pipeline gives its job streams the run's
 * `platform_session_id` (JobStream, from the outbox payload), so they are found through that column's index,
 * among the few streams of the run, and kept when they name one of `runSessionIds`. What
 * `SessionsRepository.pipelineStreamsOf` returns, without its scan of every session's metadata — a scan that
 * every audit check paid, and that grows with the store.
 */
async function pipelineStreamsOfRun(prisma: PrismaService, platform: SessionRecord['platform'], platformSessionId: string, runSessionIds: readonly string[]): Promise<SessionRecord[]> {
  const runs = new Set(runSessionIds);
  const rows = await prisma.session.findMany({ where: { platform, platformSessionId, metadata: { path: ['stream'], equals: 'pipeline' } }, orderBy: [{ startedAt: 'asc' }, { id: 'asc' }] });
  return rows.map(sessionRecordOf).filter((s) => runs.has(String((s.metadata as Record<string, unknown>)['runSessionId'])));
}

/** The run a session belongs to, or null (unknown id, or an account stream that is no run). */
export async function findRun(db: Db, sessionId: string): Promise<RunMembers | null> {
  if (!isUuid(sessionId)) return null;
  const repos = reposOf(db);
  const first = await repos.sessions.get(sessionId);
  if (!first) return null;
  let anchor = first;
  if (streamOf(first) === 'pipeline') {
    const runSessionId = (first.metadata as Record<string, unknown>)['runSessionId'];
    const run = typeof runSessionId === 'string' ? await repos.sessions.get(runSessionId) : null;
    if (!run) return null;
    anchor = run;
  }
  if (streamOf(anchor) !== 'run') return null;
  const recorder = anchor.platformSessionId ? await repos.sessions.runStreams(anchor.platform, anchor.platformSessionId) : [anchor];
  const ids = recorder.map((s) => s.id);
  const pipeline = anchor.platformSessionId ? await pipelineStreamsOfRun(PrismaService.of(db), anchor.platform, anchor.platformSessionId, ids) : await repos.sessions.pipelineStreamsOf(ids);
  const outbox = await repos.outbox.ofSessions(ids);
  return { runKey: runKeyOf(anchor), anchor, recorder, pipeline, outbox };
}

function evidenceEvent(e: StoredEvent): EvidenceEvent {
  const binary = Buffer.isBuffer(e.body);
  return {
    sessionId: e.sessionId,
    seq: e.seq,
    offsetUs: e.offsetUs,
    recordedAtUs: e.recordedAtUs,
    kind: e.kind,
    direction: e.direction,
    channel: e.channel,
    format: e.format,
    body: binary ? (e.body as Buffer).toString('base64') : (e.body as string | null),
    bodyEncoding: binary ? 'base64' : 'utf8',
    msgType: e.msgType,
    tick: e.tick,
    requestId: e.requestId,
    meta: e.meta,
  };
}

/**
 * Reads a stream's events and verifies its chain on the way (the audit's `chain` findings come from here).
 * A stream still being written (a pipeline job's) can move while it is read: the session row is read
 * before and after the events, and the read is taken again until both agree, so an append in between is
 * not mistaken for tampering; events stored beyond the head (added behind Rewind's back) still break it.
 */
async function loadStream(store: EventStore, first: SessionRecord): Promise<EvidenceStream> {
  let s = first;
  for (let attempt = 1; ; attempt++) {
    const verifier = new ChainVerifier(s.id);
    const events: EvidenceEvent[] = [];
    for await (const e of store.readSession(s.id, { pageSize: 2000 })) {
      verifier.push(e);
      events.push(evidenceEvent(e));
    }
    const after = (await store.getSession(s.id)) ?? s;
    const moved = after.headSeq !== s.headSeq || after.status !== s.status || !after.headHash.equals(s.headHash);
    if (moved && attempt < 5) {
      s = after;
      continue;
    }
    const report = verifier.finish(s);
    return {
      sessionId: s.id,
      role: roleOf(s),
      stream: streamOf(s),
      status: s.status,
      startedAt: s.startedAt,
      endedAt: s.endedAt,
      outcomeColumn: s.outcome,
      metadata: s.metadata as Record<string, unknown>,
      events,
      chain: { ok: report.ok, eventsChecked: report.eventsChecked, headSeq: report.headSeq, sealed: report.sealed, firstBreak: report.firstBreak },
    };
  }
}

/**
 * Only what says whether the run's pipeline jobs are done (`pipelinePending`): the outbox rows and the job
 * streams, a handful of events each. An automatic audit checks this while it waits, before it reads the run's
 * recorder streams (hundreds of events each, chain-verified): reading the whole run at every check made the
 * waiting checks the largest part of a run's audit cost.
 */
export async function loadPipelineEvidence(store: EventStore, members: RunMembers): Promise<Pick<RunEvidence, 'streams' | 'outbox'>> {
  const streams: EvidenceStream[] = [];
  for (const s of members.pipeline) streams.push(await loadStream(store, s));
  return { streams, outbox: members.outbox };
}

/** Every stream of the run `sessionId` belongs to, read and chain-verified; null when it is no run. `members`: the run as `findRun` found it just before (not read again). */
export async function loadRunEvidence(db: Db, store: EventStore, sessionId: string, found?: RunMembers): Promise<RunEvidence | null> {
  const members = found ?? (await findRun(db, sessionId));
  if (!members) return null;
  const { anchor, recorder, pipeline, outbox } = members;
  const streams: EvidenceStream[] = [];
  for (const s of [...recorder, ...pipeline]) streams.push(await loadStream(store, s));
  const fromOutbox = outbox.map((o) => o.payload['sessionId']).find((v): v is string => typeof v === 'string');
  const fromJobs = pipeline.map((p) => (p.metadata as Record<string, unknown>)['runSessionId']).find((v): v is string => typeof v === 'string');
  const first = (f: (s: SessionRecord) => string | null) => recorder.map(f).find((v) => v !== null) ?? null;
  return {
    runKey: members.runKey,
    platform: anchor.platform,
    game: first((s) => s.game),
    agent: first((s) => s.agent),
    source: first((s) => s.source),
    platformSessionId: anchor.platformSessionId,
    runSessionId: fromOutbox ?? fromJobs ?? streams.find((s) => s.stream === 'run' && s.events.some((e) => e.kind === 'outcome'))?.sessionId ?? null,
    streams,
    outbox,
  };
}

/** One session id per run (its earliest recorder stream), oldest first: what "audit all" walks. */
export async function listRunAnchors(db: Db): Promise<string[]> {
  return new SessionsRepository(db).runAnchors();
}
