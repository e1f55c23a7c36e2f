import { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { bodyColumns, CopyBytes, usToTimestamp, writeEventRow } from './copy-encoding';
import { duplicateConflict, EventStoreError, EventStoreErrorCode, offsetRegression, seqGap, sessionNotFound, sessionSealed, invalidEvent } from './errors';
import { eventHash, genesisHash } from './hash';
import { isUuid, validateEvent } from './validate';
import { NewEvent, NewOutboxMessage, NewSession } from './types';

export interface AppendResult {
  /** Events written by this call. */
  appended: number;
  /** Events that were already stored, identical (idempotent re-append). */
  duplicates: number;
  /** Each touched session's head after the call. */
  heads: Map<string, { seq: number; hash: Buffer }>;
}

export const EVENT_COLUMNS = 'session_id, seq, kind, direction, channel, recorded_at, offset_us, format, body_text, body_bytes, msg_type, tick, request_id, meta, hash';

interface Head {
  seq: number;
  hash: Buffer;
  sealed: boolean;
  offsetUs: number;
  platform: string;
}

/** A session marked ended within a batch (see `EventStore.endSession`). */
export interface BatchEnd {
  sessionId: string;
  endedAt: Date;
  outcome?: unknown;
}

/**
 * Everything a writer has for the store at once, applied in ONE transaction in this order: sessions opened
 * (idempotently), events appended (with their outbox rows), sessions ended, sessions sealed. A busy writer
 * pays a fixed number of round trips per batch whatever it holds (a run's outcome event, its outbox rows and
 * its end commit together, so nobody reads an outcome event whose session row does not say so yet).
 */
export interface StoreBatch {
  opens?: readonly NewSession[];
  events?: readonly NewEvent[];
  outbox?: readonly NewOutboxMessage[];
  ends?: readonly BatchEnd[];
  seals?: readonly string[];
}

/**
 * Appends a batch inside the caller's open transaction (so an outcome and its outbox rows, or a test's
 * held-open transaction, can share it). For every session in the batch, in one round trip, it locks the
 * session row and reads its head; it checks that the batch continues the head without a gap, re-checks
 * events already stored (identical → counted as duplicates, different → DUPLICATE_CONFLICT), chains the
 * hashes, writes the new events with one COPY and moves the heads.
 */
export async function appendInTransaction(client: PoolClient, events: readonly NewEvent[], outbox: readonly NewOutboxMessage[] = []): Promise<AppendResult> {
  return writeBatchInTransaction(client, { events, outbox });
}

/** Applies a `StoreBatch` inside the caller's open transaction (see `StoreBatch` for the order). */
export async function writeBatchInTransaction(client: PoolClient, batch: StoreBatch): Promise<AppendResult> {
  const events = batch.events ?? [];
  const outbox = batch.outbox ?? [];
  const opens = batch.opens ?? [];
  const ends = batch.ends ?? [];
  const seals = batch.seals ?? [];
  const bySession = groupBySession(events);
  // A session this batch creates needs no head read: its row is new (head 0, its genesis hash) and locked by the
  // insert. A new stream's first write (a pipeline job's first flush) is one round trip shorter.
  const created = opens.length > 0 ? await insertSessions(client, opens) : new Map<string, Head>();
  const touched = new Set<string>([...bySession.keys(), ...opens.map((o) => o.id), ...ends.map((e) => e.sessionId), ...seals]);
  const heads = await lockHeads(
    client,
    [...touched].filter((id) => !created.has(id)),
  );
  for (const [id, head] of created) heads.set(id, head);
  for (const o of opens) {
    const head = heads.get(o.id);
    if (!head) throw sessionNotFound(o.id);
    if (head.platform !== o.platform) {
      throw new EventStoreError(EventStoreErrorCode.SessionConflict, `session ${o.id} already exists for platform ${head.platform}, not ${o.platform}`, { sessionId: o.id });
    }
  }
  for (const id of [...ends.map((e) => e.sessionId), ...seals]) if (!heads.has(id)) throw sessionNotFound(id);
  const result = await appendLocked(client, bySession, heads, outbox, ends);
  if (seals.length > 0) {
    await client.query(
      `UPDATE sessions SET status = 'sealed', ended_at = COALESCE(ended_at, now()), sealed_at = now(),
              sealed_hash = head_hash, sealed_count = head_seq
        WHERE id = ANY($1::uuid[]) AND sealed_at IS NULL`,
      [[...new Set(seals)]],
    );
  }
  return result;
}

/**
 * Up to this many new events in a batch are written with one `INSERT … SELECT FROM unnest` that also moves the
 * heads (and writes the outbox rows and the ends): one round trip where a COPY takes two (its start, then its
 * data) and the head update a third. A pipeline job's flush holds 1–3 events. Measured (docs/pipeline.md, "What a
 * job stream's flush costs"): below this size the statement costs less CPU in node and in the Postgres backend
 * than the COPY; from ~40 rows on, the COPY's rows written as bytes (and each body hashed from those bytes) cost
 * as little in node and less in the backend.
 */
export const SMALL_BATCH_ROWS = 32;

async function appendLocked(client: PoolClient, bySession: Map<string, NewEvent[]>, heads: Map<string, Head>, outbox: readonly NewOutboxMessage[], ends: readonly BatchEnd[]): Promise<AppendResult> {
  const result: AppendResult = { appended: 0, duplicates: 0, heads: new Map() };

  // 1. Check everything that can refuse the batch before any row is written.
  const plans: { sessionId: string; fresh: NewEvent[]; previous: Buffer }[] = [];
  for (const [sessionId, batch] of bySession) {
    const head = heads.get(sessionId);
    if (!head) throw sessionNotFound(sessionId);
    const first = batch[0] as NewEvent;
    if (first.seq > head.seq + 1) throw seqGap(sessionId, head.seq + 1, first.seq);
    let fresh = batch;
    if (first.seq <= head.seq) {
      const overlap = batch.filter((e) => e.seq <= head.seq);
      await checkDuplicates(client, sessionId, overlap);
      result.duplicates += overlap.length;
      fresh = batch.slice(overlap.length);
    }
    if (fresh.length === 0) {
      result.heads.set(sessionId, { seq: head.seq, hash: head.hash });
      continue;
    }
    if (head.sealed) throw sessionSealed(sessionId, (fresh[0] as NewEvent).seq);
    let previousOffset = head.offsetUs;
    for (const e of fresh) {
      if (e.offsetUs < previousOffset) throw offsetRegression(sessionId, e.seq, previousOffset, e.offsetUs);
      previousOffset = e.offsetUs;
    }
    plans.push({ sessionId, fresh, previous: head.hash });
    result.appended += fresh.length;
  }

  // 2. Chain, then write: a small batch as one statement with its heads, outbox rows and ends; a large one
  // streamed by COPY (Postgres parses one chunk while the next is hashed and encoded here), then the rest.
  const moved: { id: string; seq: number; hash: Buffer }[] = [];
  if (result.appended > 0 && result.appended <= SMALL_BATCH_ROWS) {
    const rows = new EventColumns(result.appended);
    for (const plan of plans) {
      let previous = plan.previous;
      for (const e of plan.fresh) {
        previous = eventHash(previous, e);
        rows.push(e, previous);
      }
      moved.push({ id: plan.sessionId, seq: (plan.fresh[plan.fresh.length - 1] as NewEvent).seq, hash: previous });
    }
    await writeSmall(client, rows, moved, outbox, ends);
  } else {
    if (plans.length > 0) {
      await copyStreaming(client, function* rows(out) {
        for (const plan of plans) {
          let previous = plan.previous;
          for (const e of plan.fresh) {
            previous = writeEventRow(out, e, previous);
            yield;
          }
          moved.push({ id: plan.sessionId, seq: (plan.fresh[plan.fresh.length - 1] as NewEvent).seq, hash: previous });
        }
      });
    }
    await writeSmall(client, null, moved, outbox, ends);
  }
  for (const m of moved) result.heads.set(m.id, { seq: m.seq, hash: m.hash });
  return result;
}

/** A batch's events as the column arrays of `INSERT INTO events … SELECT FROM unnest(…)` (the COPY row's values). */
class EventColumns {
  readonly sessionId: string[] = [];
  readonly seq: number[] = [];
  readonly kind: string[] = [];
  readonly direction: string[] = [];
  readonly channel: string[] = [];
  readonly recordedAt: string[] = [];
  readonly offsetUs: number[] = [];
  readonly format: string[] = [];
  readonly bodyText: (string | null)[] = [];
  readonly bodyBytes: (Buffer | null)[] = [];
  readonly msgType: (string | null)[] = [];
  readonly tick: (number | null)[] = [];
  readonly requestId: (string | null)[] = [];
  readonly meta: (string | null)[] = [];
  readonly hash: Buffer[] = [];

  constructor(readonly size: number) {}

  push(e: NewEvent, hash: Buffer): void {
    const { text, bytes } = bodyColumns(e);
    this.sessionId.push(e.sessionId);
    this.seq.push(e.seq);
    this.kind.push(e.kind);
    this.direction.push(e.direction);
    this.channel.push(e.channel);
    this.recordedAt.push(usToTimestamp(e.recordedAtUs));
    this.offsetUs.push(e.offsetUs);
    this.format.push(e.format);
    this.bodyText.push(e.format === 'empty' ? null : e.body === '' ? '' : text);
    this.bodyBytes.push(bytes);
    this.msgType.push(e.msgType ?? null);
    this.tick.push(e.tick ?? null);
    this.requestId.push(e.requestId ?? null);
    this.meta.push(e.meta ?? null);
    this.hash.push(hash);
  }
}

const INSERT_EVENTS = `INSERT INTO events (${EVENT_COLUMNS})
  SELECT * FROM unnest($1::uuid[], $2::int[], $3::"EventKind"[], $4::"Direction"[], $5::"Channel"[], $6::timestamptz[], $7::bigint[],
                       $8::"BodyFormat"[], $9::text[], $10::bytea[], $11::text[], $12::int[], $13::text[], $14::text[], $15::bytea[])`;
const INSERT_OUTBOX = `INSERT INTO outbox (session_id, queue, job_name, payload, dedupe_key)
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::text[])
  ON CONFLICT (dedupe_key) DO NOTHING`;
/**
 * The heads moved and the sessions ended, in one UPDATE (a row can be updated once per statement): a session
 * ended is `ended` unless sealed, keeps its first end time, and takes the outcome given (or keeps its own).
 */
const UPDATE_SESSIONS = `UPDATE sessions s SET head_seq = COALESCE(v.seq, s.head_seq), head_hash = COALESCE(v.hash, s.head_hash),
         status = CASE WHEN v.ended_at IS NULL OR s.status = 'sealed' THEN s.status ELSE 'ended'::"SessionStatus" END,
         ended_at = COALESCE(s.ended_at, v.ended_at), outcome = COALESCE(v.outcome, s.outcome)
    FROM unnest($1::uuid[], $2::int[], $3::bytea[], $4::timestamptz[], $5::jsonb[]) AS v(id, seq, hash, ended_at, outcome)
   WHERE s.id = v.id`;

/**
 * Writes what follows the checks in one statement: the events of a small batch (`rows`; null when a COPY wrote
 * them), the heads they moved, the outbox rows and the ends (several ends of one session in a batch: the first end
 * time and the last outcome given win, as one call each would). Nothing to write: no statement.
 */
async function writeSmall(
  client: PoolClient,
  rows: EventColumns | null,
  moved: readonly { id: string; seq: number; hash: Buffer }[],
  outbox: readonly NewOutboxMessage[],
  ends: readonly BatchEnd[],
): Promise<void> {
  const sessions = new Map<string, { seq: number | null; hash: Buffer | null; endedAt: Date | null; outcome: string | null }>();
  for (const m of moved) sessions.set(m.id, { seq: m.seq, hash: m.hash, endedAt: null, outcome: null });
  for (const e of ends) {
    const outcome = e.outcome === undefined ? null : JSON.stringify(e.outcome);
    const s = sessions.get(e.sessionId);
    if (!s) sessions.set(e.sessionId, { seq: null, hash: null, endedAt: e.endedAt, outcome });
    else {
      s.endedAt ??= e.endedAt;
      if (outcome !== null) s.outcome = outcome;
    }
  }
  const ctes: string[] = [];
  const params: unknown[] = [];
  const shape = `${rows ? 'e' : ''}${outbox.length > 0 ? 'o' : ''}${sessions.size > 0 ? 's' : ''}`;
  const shift = (sql: string, values: unknown[]): string => {
    const at = params.length;
    params.push(...values);
    return at === 0 ? sql : sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + at}`);
  };
  if (rows) {
    ctes.push(
      shift(INSERT_EVENTS, [
        rows.sessionId,
        rows.seq,
        rows.kind,
        rows.direction,
        rows.channel,
        rows.recordedAt,
        rows.offsetUs,
        rows.format,
        rows.bodyText,
        rows.bodyBytes,
        rows.msgType,
        rows.tick,
        rows.requestId,
        rows.meta,
        rows.hash,
      ]),
    );
  }
  if (outbox.length > 0) {
    ctes.push(
      shift(INSERT_OUTBOX, [
        outbox.map((m) => m.sessionId ?? null),
        outbox.map((m) => m.queue),
        outbox.map((m) => m.jobName),
        outbox.map((m) => JSON.stringify(m.payload)),
        outbox.map((m) => m.dedupeKey ?? null),
      ]),
    );
  }
  const statements = [...ctes];
  if (sessions.size > 0) {
    const ids = [...sessions.keys()];
    const v = [...sessions.values()];
    statements.push(shift(UPDATE_SESSIONS, [ids, v.map((s) => s.seq), v.map((s) => s.hash), v.map((s) => s.endedAt), v.map((s) => s.outcome)]));
  }
  if (statements.length === 0) return;
  const last = statements.pop() as string;
  const sql = statements.length === 0 ? last : `WITH ${statements.map((q, i) => `w${i} AS (${q})`).join(', ')} ${last}`;
  await client.query({ name: `rewind-write-${shape}`, text: sql, values: params });
}

/** Validates and groups the batch; within a session, seqs must be contiguous and ascending. */
function groupBySession(events: readonly NewEvent[]): Map<string, NewEvent[]> {
  const bySession = new Map<string, NewEvent[]>();
  events.forEach((e, i) => {
    validateEvent(e, i);
    const list = bySession.get(e.sessionId);
    if (!list) {
      bySession.set(e.sessionId, [e]);
      return;
    }
    const prev = list[list.length - 1] as NewEvent;
    if (e.seq !== prev.seq + 1) {
      throw invalidEvent(i, `seq ${e.seq} of session ${e.sessionId} does not follow seq ${prev.seq} earlier in the batch`);
    }
    list.push(e);
  });
  return bySession;
}

/** Opens the sessions (see below); the heads of those it created, which the caller need not read or lock again. */
async function insertSessions(client: PoolClient, all: readonly NewSession[]): Promise<Map<string, Head>> {
  const byId = new Map<string, NewSession>();
  for (const o of all) {
    if (!isUuid(o.id)) throw new EventStoreError(EventStoreErrorCode.InvalidEvent, `session id must be a uuid (got ${JSON.stringify(o.id)})`, { sessionId: o.id });
    const first = byId.get(o.id);
    // The same session opened twice in a batch: the first open stands, a later one fills in what it lacked.
    if (!first) byId.set(o.id, o);
    else
      byId.set(o.id, {
        ...first,
        agent: first.agent ?? o.agent ?? null,
        game: first.game ?? o.game ?? null,
        platformSessionId: first.platformSessionId ?? o.platformSessionId ?? null,
        source: first.source ?? o.source ?? null,
      });
  }
  // In id order, like the head locks that follow, so two writers never wait on each other's rows crosswise.
  const opens = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // Opening a session that exists fills in what its row did not know yet (the agent named after the start,
  // the game) and changes nothing else; a row that already knows is not written at all.
  // `xmax = 0`: the row was inserted by this statement (a row updated on conflict has the updating transaction's id).
  const { rows } = await client.query<{ id: string; platform: string; head_hash: Buffer; inserted: boolean }>({
    name: 'rewind-open-sessions',
    text: `INSERT INTO sessions AS s (id, platform, game, platform_session_id, agent, source, started_at, head_hash, metadata)
     SELECT * FROM unnest($1::uuid[], $2::"Platform"[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::bytea[], $9::jsonb[])
     ON CONFLICT (id) DO UPDATE SET
       agent = COALESCE(s.agent, EXCLUDED.agent), game = COALESCE(s.game, EXCLUDED.game),
       platform_session_id = COALESCE(s.platform_session_id, EXCLUDED.platform_session_id), source = COALESCE(s.source, EXCLUDED.source)
     WHERE (s.agent IS NULL AND EXCLUDED.agent IS NOT NULL) OR (s.game IS NULL AND EXCLUDED.game IS NOT NULL)
        OR (s.platform_session_id IS NULL AND EXCLUDED.platform_session_id IS NOT NULL) OR (s.source IS NULL AND EXCLUDED.source IS NOT NULL)
     RETURNING s.id, s.platform, s.head_hash, (s.xmax = 0) AS inserted`,
    values: [
      opens.map((o) => o.id),
      opens.map((o) => o.platform),
      opens.map((o) => o.game ?? null),
      opens.map((o) => o.platformSessionId ?? null),
      opens.map((o) => o.agent ?? null),
      opens.map((o) => o.source ?? null),
      opens.map((o) => o.startedAt),
      opens.map((o) => genesisHash(o.id)),
      opens.map((o) => JSON.stringify(o.metadata ?? {})),
    ],
  });
  return new Map(rows.filter((r) => r.inserted).map((r) => [r.id, { seq: 0, hash: r.head_hash, sealed: false, offsetUs: 0, platform: r.platform }]));
}

async function lockHeads(client: PoolClient, ids: string[]): Promise<Map<string, Head>> {
  if (ids.length === 0) return new Map();
  // Ordered locking keeps two writers of overlapping session sets from deadlocking.
  const { rows } = await client.query<{ id: string; platform: string; head_seq: number; head_hash: Buffer; status: string; offset_us: string | null }>({
    name: 'rewind-lock-heads',
    text: `SELECT s.id, s.platform, s.head_seq, s.head_hash, s.status,
            (SELECT e.offset_us FROM events e WHERE e.session_id = s.id AND e.seq = s.head_seq) AS offset_us
       FROM sessions s WHERE s.id = ANY($1::uuid[]) ORDER BY s.id FOR UPDATE OF s`,
    values: [ids],
  });
  return new Map(rows.map((r) => [r.id, { seq: r.head_seq, hash: r.head_hash, sealed: r.status === 'sealed', offsetUs: r.offset_us === null ? 0 : Number(r.offset_us), platform: r.platform }]));
}

/** Re-appended events must equal what is stored: same hash given the stored predecessor. */
async function checkDuplicates(client: PoolClient, sessionId: string, overlap: NewEvent[]): Promise<void> {
  const from = (overlap[0] as NewEvent).seq;
  const to = (overlap[overlap.length - 1] as NewEvent).seq;
  const { rows } = await client.query<{ seq: number; hash: Buffer }>('SELECT seq, hash FROM events WHERE session_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq', [
    sessionId,
    Math.max(1, from - 1),
    to,
  ]);
  const stored = new Map(rows.map((r) => [r.seq, r.hash]));
  let previous = from === 1 ? genesisHash(sessionId) : stored.get(from - 1);
  for (const e of overlap) {
    const expected = stored.get(e.seq);
    if (!previous || !expected) throw duplicateConflict(sessionId, e.seq);
    const computed = eventHash(previous, e);
    if (!computed.equals(expected)) throw duplicateConflict(sessionId, e.seq);
    previous = expected;
  }
}

/** Rows per chunk written to the COPY stream before yielding, so the socket flushes while we compute. */
const CHUNK_ROWS = 250;

async function copyStreaming(client: PoolClient, rows: (out: CopyBytes) => Generator<void>): Promise<void> {
  const stream = client.query(copyFrom(`COPY events (${EVENT_COLUMNS}) FROM STDIN`));
  let failure: Error | null = null;
  const done = new Promise<void>((resolve, reject) => {
    stream.on('error', (e: Error) => {
      failure = e;
      reject(e);
    });
    stream.on('finish', resolve);
  });
  done.catch(() => undefined);
  const out = new CopyBytes(512 * 1024);
  let n = 0;
  try {
    const written = rows(out);
    while (!written.next().done) {
      if (++n % CHUNK_ROWS === 0) {
        if (failure) throw failure;
        if (!stream.write(out.take())) await drained(stream, done);
        await new Promise<void>((r) => setImmediate(r));
      }
    }
  } catch (e) {
    stream.destroy(e as Error);
    throw e;
  }
  if (out.length > 0) stream.end(out.take());
  else stream.end();
  await done;
}

/**
 * Waits until the COPY stream takes more, or fails. A COPY that fails before it drains (the server cancelled
 * it while it waited for a lock, the connection died) never emits `drain`: waiting for `drain` alone held
 * the transaction, and its row locks, open for good.
 */
function drained(stream: NodeJS.WritableStream, failed: Promise<void>): Promise<void> {
  let onDrain: () => void = () => undefined;
  return Promise.race([new Promise<void>((resolve) => stream.once('drain', (onDrain = resolve))), failed.then(() => undefined)]).finally(() => stream.removeListener('drain', onDrain));
}
