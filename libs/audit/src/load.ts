import { Db, PrismaService } from '@rewind/db';
import { ChainedEvent, ChainVerifier, EventStore, isUuid, OutboxRepository, SESSION_COLUMNS, SessionRecord, SessionRow, SessionsRepository, toSessionRecord } from '@rewind/event-store';
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
 * The session rows an audit reads (the session it is given, the run's streams, their rows after the reads) run on
 * the PrismaService's `pg` pool, as the event pages do: measured per call, Prisma's `findUnique`/`findMany` cost 3.4–4×
 * the CPU of the same `SELECT` on the pool (490 vs 118 µs for one row, 402 vs 120 µs for four by id, 423 vs 169 µs
 * for a run's streams), far above the data layer's 20 % rule, and they were most of the Prisma CPU of a pipeline
 * run. `toSessionRecord` gives the records Prisma's `sessionRecordOf` gives (compared field by field). Named
 * statements: each connection parses and plans them once.
 */
const sessionRows = async (prisma: PrismaService, name: string, sql: string, params: unknown[]): Promise<SessionRecord[]> =>
  (await prisma.pool.query<SessionRow>({ name, text: sql, values: params })).rows.map(toSessionRecord);

/**
 * The recorder streams (`metadata.stream = 'run'`) of a run that has a platform session id and its pipeline job
 * streams, in one query through the `(platform_session_id)` index: the pipeline gives its job streams the run's
 * `platform_session_id` (JobStream, from the outbox payload), so they are among the few streams of the run, and
 * are kept when they name one of the run's streams as `runSessionId`. What `SessionsRepository.runStreams` and
 * `pipelineStreamsOf` return, in one round trip instead of two, and without the latter's scan of every session's
 * metadata (a scan that every audit check paid, and that grows with the store).
 */
async function streamsOfRun(prisma: PrismaService, platform: SessionRecord['platform'], platformSessionId: string): Promise<{ recorder: SessionRecord[]; pipeline: SessionRecord[] }> {
  const all = await sessionRows(
    prisma,
    'rewind-audit-run-streams',
    `SELECT ${SESSION_COLUMNS} FROM sessions WHERE platform = $1 AND platform_session_id = $2 AND metadata->>'stream' IN ('run', 'pipeline') ORDER BY started_at, id`,
    [platform, platformSessionId],
  );
  const recorder = all.filter((s) => streamOf(s) === 'run');
  const runs = new Set(recorder.map((s) => s.id));
  const pipeline = all.filter((s) => streamOf(s) === 'pipeline' && runs.has(String((s.metadata as Record<string, unknown>)['runSessionId'])));
  return { recorder, pipeline };
}

/** The run a session belongs to, or null (unknown id, or an account stream that is no run). */
export async function findRun(db: Db, sessionId: string): Promise<RunMembers | null> {
  if (!isUuid(sessionId)) return null;
  const repos = reposOf(db);
  const prisma = PrismaService.of(db);
  const first = await repos.sessions.get(sessionId);
  if (!first) return null;
  let anchor = first;
  if (streamOf(first) === 'pipeline') {
    const runSessionId = (first.metadata as Record<string, unknown>)['runSessionId'];
    const run = typeof runSessionId === 'string' && isUuid(runSessionId) ? await repos.sessions.get(runSessionId) : null;
    if (!run) return null;
    anchor = run;
  }
  if (streamOf(anchor) !== 'run') return null;
  const { recorder, pipeline } = anchor.platformSessionId
    ? await streamsOfRun(prisma, anchor.platform, anchor.platformSessionId)
    : { recorder: [anchor], pipeline: await repos.sessions.pipelineStreamsOf([anchor.id]) };
  const outbox = await repos.outbox.ofSessions(recorder.map((s) => s.id));
  return { runKey: runKeyOf(anchor), anchor, recorder, pipeline, outbox };
}

function evidenceEvent(e: ChainedEvent): EvidenceEvent {
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

interface StreamRead {
  events: EvidenceEvent[];
  verifier: ChainVerifier;
}

/**
 * The events of the streams `sessions`, read together (one round trip per 2,000 events, not one per stream) and
 * each stream's chain verified on the way, in the order of `sessions`.
 */
async function readStreams(store: EventStore, sessions: readonly SessionRecord[]): Promise<StreamRead[]> {
  const byId = new Map<string, StreamRead>(sessions.map((s) => [s.id, { events: [], verifier: new ChainVerifier(s.id) }]));
  const pageSize = 2000;
  for (let after: { sessionId: string; seq: number } | null = null; ;) {
    const page = await store.reads.sessionsPage([...byId.keys()], after, pageSize);
    for (const e of page) {
      const read = byId.get(e.sessionId) as StreamRead;
      read.verifier.push(e);
      read.events.push(evidenceEvent(e));
    }
    const last = page[page.length - 1];
    if (!last || page.length < pageSize) break;
    after = { sessionId: last.sessionId, seq: last.seq };
  }
  return sessions.map((s) => byId.get(s.id) as StreamRead);
}

const moved = (before: SessionRecord, after: SessionRecord): boolean => after.headSeq !== before.headSeq || after.status !== before.status || !after.headHash.equals(before.headHash);

/**
 * Reads streams' events and verifies their chains on the way (the audit's `chain` findings come from here).
 * A stream still being written (a pipeline job's) can move while it is read: the session rows are read before
 * (the caller's) and after the events (all of them in one query), and a stream that moved is read again until
 * both agree, so an append in between is not mistaken for tampering; events stored beyond the head (added
 * behind Rewind's back) still break it. The streams' events are read together (one page query for a run's streams) and again only for a stream that moved.
 */
async function loadStreams(db: Db, store: EventStore, sessions: readonly SessionRecord[]): Promise<EvidenceStream[]> {
  if (sessions.length === 0) return [];
  const prisma = PrismaService.of(db);
  const current = [...sessions];
  const reads = await readStreams(store, current);
  for (let attempt = 1; ; attempt++) {
    const rows = await sessionRows(prisma, 'rewind-audit-sessions-by-id', `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ANY($1::uuid[])`, [current.map((s) => s.id)]);
    const after = new Map(rows.map((r) => [r.id, r]));
    const again = current.map((s, i) => ({ i, next: after.get(s.id) ?? s })).filter(({ i, next }) => moved(current[i] as SessionRecord, next));
    if (again.length === 0 || attempt >= 5) break;
    const reread = await readStreams(
      store,
      again.map(({ next }) => next),
    );
    again.forEach(({ i, next }, k) => {
      current[i] = next;
      reads[i] = reread[k] as StreamRead;
    });
  }
  return current.map((s, i) => {
    const { events, verifier } = reads[i] as StreamRead;
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
  });
}

/**
 * Only what says whether the run's pipeline jobs are done (`pipelinePending`): the outbox rows and the job
 * streams, a handful of events each. An automatic audit checks this while it waits, before it reads the run's
 * recorder streams (hundreds of events each, chain-verified): reading the whole run at every check made the
 * waiting checks the largest part of a run's audit cost. The job streams read here are the audit's own once
 * they are done (`loadRunEvidence`'s `jobStreams`), not read again.
 */
export async function loadPipelineEvidence(db: Db, store: EventStore, members: RunMembers): Promise<Pick<RunEvidence, 'streams' | 'outbox'>> {
  return { streams: await loadStreams(db, store, members.pipeline), outbox: members.outbox };
}

/**
 * Every stream of the run `sessionId` belongs to, read and chain-verified; null when it is no run. `members`: the
 * run as `findRun` found it just before (not read again); `jobStreams`: its job streams as `loadPipelineEvidence`
 * read them just before (not read again).
 */
export async function loadRunEvidence(db: Db, store: EventStore, sessionId: string, found?: RunMembers, jobStreams?: EvidenceStream[]): Promise<RunEvidence | null> {
  const members = found ?? (await findRun(db, sessionId));
  if (!members) return null;
  const { anchor, recorder, pipeline, outbox } = members;
  const streams = jobStreams ? [...(await loadStreams(db, store, recorder)), ...jobStreams] : await loadStreams(db, store, [...recorder, ...pipeline]);
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

/**
 * True when one of the run's snapshot or handoff jobs (an outbox row) has no job stream yet: it has not
 * started, so `pipelinePending` would say pending whatever the other streams hold — known from the session rows
 * `findRun` read, without reading any event.
 */
export function jobNotStarted(members: Pick<RunMembers, 'outbox' | 'pipeline'>): boolean {
  const started = new Set(members.pipeline.map(roleOf));
  return members.outbox.some((o) => (o.queue === 'snapshot-submission' || o.queue === 'reward-handoff') && !started.has(o.queue));
}

/** One session id per run (its earliest recorder stream), oldest first: what "audit all" walks. */
export async function listRunAnchors(db: Db): Promise<string[]> {
  return new SessionsRepository(db).runAnchors();
}
