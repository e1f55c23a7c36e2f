import { Controller, Get, NotFoundException, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CHANNELS, DIRECTIONS, EVENT_KINDS, EventStore, PLATFORMS, SESSION_STATUSES, SessionRecord, SessionsRepository, StoredEvent, isUuid } from '@rewind/event-store';
import { decodeCursor, encodeCursor } from './cursor';
import { commonFilters, intParam, oneOfParam, textParam } from './query';
import { RequireScope } from '../auth/scope.guard';

/** What the controller uses of Express's response (no @types/express needed). */
interface StreamResponse {
  req: { headers: Record<string, string | string[] | undefined> };
  status(code: number): StreamResponse;
  setHeader(name: string, value: string): void;
  write(chunk: string): boolean;
  end(): void;
  once(event: 'drain', listener: () => void): void;
}

type SessionCursor = { t: string; id: string };
const isSessionCursor = (v: unknown): v is SessionCursor =>
  !!v && typeof (v as SessionCursor).t === 'string' && typeof (v as SessionCursor).id === 'string' && isUuid((v as SessionCursor).id) && !Number.isNaN(Date.parse((v as SessionCursor).t));
const isSeqCursor = (v: unknown): v is { seq: number } => !!v && Number.isSafeInteger((v as { seq: number }).seq) && (v as { seq: number }).seq >= 0;

/** A session as the API shows it: hashes in hex, times in ISO 8601. */
export function sessionView(s: SessionRecord) {
  return {
    id: s.id,
    platform: s.platform,
    game: s.game,
    platformSessionId: s.platformSessionId,
    agent: s.agent,
    source: s.source,
    status: s.status,
    startedAt: s.startedAt.toISOString(),
    endedAt: s.endedAt?.toISOString() ?? null,
    events: s.headSeq,
    headHash: s.headHash.toString('hex'),
    sealedAt: s.sealedAt?.toISOString() ?? null,
    sealedHash: s.sealedHash?.toString('hex') ?? null,
    outcome: s.outcome ?? null,
    metadata: s.metadata,
  };
}

/** An event as the API shows it: text bodies as they are, binary bodies base64 (`bodyEncoding`). */
export function eventView(e: StoredEvent) {
  const binary = Buffer.isBuffer(e.body);
  return {
    seq: e.seq,
    kind: e.kind,
    direction: e.direction,
    channel: e.channel,
    recordedAt: new Date(Math.floor(e.recordedAtUs / 1000)).toISOString(),
    recordedAtUs: e.recordedAtUs,
    offsetUs: e.offsetUs,
    format: e.format,
    body: binary ? (e.body as Buffer).toString('base64') : e.body,
    bodyEncoding: binary ? 'base64' : 'utf8',
    msgType: e.msgType,
    tick: e.tick,
    requestId: e.requestId,
    meta: e.meta === null ? null : (JSON.parse(e.meta) as unknown),
    hash: e.hash.toString('hex'),
  };
}

@ApiTags('sessions')
@RequireScope('read')
@Controller('api/sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsRepository,
    private readonly store: EventStore,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Recorded sessions, newest first, with filters and cursor pagination' })
  @ApiQuery({ name: 'platform', required: false, enum: PLATFORMS })
  @ApiQuery({ name: 'game', required: false })
  @ApiQuery({ name: 'status', required: false, enum: SESSION_STATUSES })
  @ApiQuery({ name: 'agent', required: false })
  @ApiQuery({ name: 'platformSessionId', required: false })
  @ApiQuery({ name: 'from', required: false, description: 'started at or after (ISO 8601)' })
  @ApiQuery({ name: 'to', required: false, description: 'started before (ISO 8601)' })
  @ApiQuery({ name: 'limit', required: false, description: '1–500, default 50' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiOkResponse({ description: '{ sessions: Session[], nextCursor: string | null }' })
  async list(@Query() q: Record<string, string | undefined>) {
    const limit = intParam(q['limit'], 'limit', 50, 1, 500);
    const common = commonFilters(q, PLATFORMS);
    const status = oneOfParam(q['status'], 'status', SESSION_STATUSES);
    const platformSessionId = textParam(q['platformSessionId'], 'platformSessionId');
    const cursor = decodeCursor(q['cursor'], isSessionCursor);
    const rows = await this.sessions.page(
      { ...common, ...(status ? { status } : {}), ...(platformSessionId ? { platformSessionId } : {}) },
      cursor ? { startedAt: new Date(cursor.t), id: cursor.id } : undefined,
      limit + 1,
    );
    const sessions = rows.slice(0, limit).map(sessionView);
    const last = sessions[sessions.length - 1];
    return { sessions, nextCursor: rows.length > limit && last ? encodeCursor({ t: last.startedAt, id: last.id }) : null };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One session' })
  async one(@Param('id') id: string) {
    const s = await this.store.getSession(id); // null for an unknown id, or one that is not a uuid
    if (!s) throw new NotFoundException({ error: 'not_found', message: `no session ${id.slice(0, 80)}` });
    return sessionView(s);
  }

  @Get(':id/events')
  @ApiOperation({ summary: "A session's events in seq order; JSON pages with a cursor, or the whole range streamed as NDJSON (Accept: application/x-ndjson)" })
  @ApiQuery({ name: 'kind', required: false, enum: EVENT_KINDS })
  @ApiQuery({ name: 'channel', required: false, enum: CHANNELS })
  @ApiQuery({ name: 'direction', required: false, enum: DIRECTIONS })
  @ApiQuery({ name: 'fromSeq', required: false })
  @ApiQuery({ name: 'toSeq', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1–1000, default 200 (JSON pages)' })
  @ApiQuery({ name: 'cursor', required: false })
  async events(@Param('id') id: string, @Query() q: Record<string, string | undefined>, @Res({ passthrough: true }) res: StreamResponse) {
    const s = await this.store.getSession(id); // null for an unknown id, or one that is not a uuid
    if (!s) throw new NotFoundException({ error: 'not_found', message: `no session ${id.slice(0, 80)}` });
    const kind = oneOfParam(q['kind'], 'kind', EVENT_KINDS);
    const channel = oneOfParam(q['channel'], 'channel', CHANNELS);
    const direction = oneOfParam(q['direction'], 'direction', DIRECTIONS);
    const fromSeq = intParam(q['fromSeq'], 'fromSeq', 1, 1, 2_147_483_647);
    const toSeq = intParam(q['toSeq'], 'toSeq', 2_147_483_647, 1, 2_147_483_647);
    const match = (e: StoredEvent) => (!kind || e.kind === kind) && (!channel || e.channel === channel) && (!direction || e.direction === direction);
    const ndjson = /application\/x-ndjson/.test(String(res.req.headers['accept'] ?? ''));
    if (ndjson) {
      // The whole range, streamed page by page from the store: never held in memory.
      res.status(200).setHeader('content-type', 'application/x-ndjson; charset=utf-8');
      for await (const e of this.store.readSession(id, { fromSeq, toSeq })) {
        if (!match(e)) continue;
        if (!res.write(`${JSON.stringify(eventView(e))}\n`)) await new Promise<void>((r) => res.once('drain', () => r()));
      }
      res.end();
      return undefined;
    }
    const limit = intParam(q['limit'], 'limit', 200, 1, 1000);
    const after = decodeCursor(q['cursor'], isSeqCursor);
    const events = [];
    let lastSeq = 0;
    let more = false;
    for await (const e of this.store.readSession(id, { fromSeq: Math.max(fromSeq, (after?.seq ?? 0) + 1), toSeq })) {
      lastSeq = e.seq;
      if (!match(e)) continue;
      if (events.length === limit) {
        more = true;
        break;
      }
      events.push(eventView(e));
    }
    const last = events[events.length - 1];
    return { events, nextCursor: more && last ? encodeCursor({ seq: last.seq }) : null, scannedTo: lastSeq };
  }
}
