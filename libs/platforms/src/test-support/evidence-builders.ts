import type { PlatformId as Platform } from '../platforms';
import type { EvidenceEvent, EvidenceStream, OutboxEvidence, RunEvidence, StreamRole } from '../evidence/types';

/**
 * Builders of crafted runs for given/when/then audit tests: a stream is a list of events written with
 * `stream(role, [...])`, each event from one of the helpers below; seqs and offsets are filled in order.
 */

export type EventDraft = Omit<Partial<EvidenceEvent>, 'sessionId' | 'seq'> & Pick<EvidenceEvent, 'kind' | 'direction' | 'channel'>;

const T0_US = Date.UTC(2026, 10, 23, 12, 0, 0) * 1000;

/** A WebSocket message from the platform (frames, notifications, responses on play/spectate sockets). */
export const wsIn = (body: unknown, o: Partial<EventDraft> = {}): EventDraft => ({
  kind: 'frame',
  direction: 'platform_to_client',
  channel: 'play_ws',
  format: 'json',
  body: typeof body === 'string' ? body : JSON.stringify(body),
  ...o,
});

/** A WebSocket message from the agent (inputs, commands). */
export const wsOut = (body: unknown, o: Partial<EventDraft> = {}): EventDraft => ({
  kind: 'input',
  direction: 'client_to_platform',
  channel: 'play_ws',
  format: 'json',
  body: typeof body === 'string' ? body : JSON.stringify(body),
  ...o,
});

/** An HTTP request as the proxy records it (method and path in meta and msgType). */
export const httpReq = (method: string, path: string, body?: unknown, o: Partial<EventDraft> = {}): EventDraft => ({
  kind: 'request',
  direction: 'client_to_platform',
  channel: 'http',
  format: body === undefined ? 'empty' : 'json',
  body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
  msgType: `${method} ${path}`,
  meta: JSON.stringify({ method, path, headers: [] }),
  ...o,
});

/** The HTTP response to the request before it (status in meta). */
export const httpRes = (method: string, path: string, status: number, body?: unknown, o: Partial<EventDraft> = {}): EventDraft => ({
  kind: 'response',
  direction: 'platform_to_client',
  channel: 'http',
  format: body === undefined ? 'empty' : 'json',
  body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
  msgType: `${method} ${path}`,
  meta: JSON.stringify({ status, headers: [] }),
  ...o,
});

/** The recorder's `outcome` event (what was handed to the pipeline). */
export const outcomeEvent = (outcome: Record<string, unknown>): EventDraft => ({
  kind: 'outcome',
  direction: 'internal',
  channel: 'internal',
  format: 'json',
  body: JSON.stringify(outcome),
  msgType: 'outcome',
});

/** A marker (pipeline attempt/result, capture notes). */
export const marker = (msgType: string, body: unknown): EventDraft => ({
  kind: 'marker',
  direction: 'internal',
  channel: 'internal',
  format: 'json',
  body: JSON.stringify(body),
  msgType,
});

/** A capture gap (spectator reconnect, take-over). */
export const gap = (body: unknown): EventDraft => ({ kind: 'gap', direction: 'internal', channel: 'internal', format: 'json', body: JSON.stringify(body), msgType: 'gap' });

/** A WebSocket close as the proxy records it (a lifecycle event; the close code and reason in meta). */
export const wsClose = (code: number, reason: string, o: Partial<EventDraft> = {}): EventDraft => ({
  kind: 'lifecycle',
  direction: 'platform_to_client',
  channel: 'play_ws',
  format: 'empty',
  body: null,
  msgType: 'ws-close',
  meta: JSON.stringify({ code, reason }),
  ...o,
});

let counter = 0;
const nextId = (): string => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`;

export interface StreamOptions {
  sessionId?: string;
  stream?: string;
  status?: EvidenceStream['status'];
  outcomeColumn?: unknown;
  metadata?: Record<string, unknown>;
  /** Microseconds between consecutive events (default 50 ms). */
  stepUs?: number;
  /** Explicit offsets (µs) per event, overriding stepUs. */
  offsetsUs?: number[];
}

/** A stream whose chain verified (set `chain` yourself to model a broken one). */
export function stream(role: StreamRole, drafts: EventDraft[], o: StreamOptions = {}): EvidenceStream {
  const sessionId = o.sessionId ?? nextId();
  const step = o.stepUs ?? 50_000;
  const events: EvidenceEvent[] = drafts.map((d, i) => {
    const offsetUs = o.offsetsUs?.[i] ?? d.offsetUs ?? i * step;
    return {
      format: 'json',
      body: null,
      bodyEncoding: 'utf8',
      msgType: null,
      tick: null,
      requestId: null,
      meta: null,
      ...d,
      sessionId,
      seq: i + 1,
      offsetUs,
      recordedAtUs: d.recordedAtUs ?? T0_US + offsetUs,
    };
  });
  const pipeline = role === 'snapshot-submission' || role === 'reward-handoff';
  return {
    sessionId,
    role,
    stream: o.stream ?? (pipeline ? 'pipeline' : 'run'),
    status: o.status ?? 'sealed',
    startedAt: new Date(T0_US / 1000),
    endedAt: new Date(T0_US / 1000 + (events[events.length - 1]?.offsetUs ?? 0) / 1000),
    outcomeColumn: o.outcomeColumn ?? null,
    metadata: o.metadata ?? {},
    events,
    chain: { ok: true, eventsChecked: events.length, headSeq: events.length, sealed: true, firstBreak: null },
  };
}

export interface RunOptions {
  platform: Platform;
  game?: string | null;
  agent?: string | null;
  source?: string | null;
  platformSessionId?: string | null;
  runSessionId?: string | null;
  outbox?: OutboxEvidence[];
}

/** A run of the given streams; the run session defaults to the first recorder stream with an outcome event. */
export function run(o: RunOptions, streams: EvidenceStream[]): RunEvidence {
  const runSessionId = o.runSessionId !== undefined ? o.runSessionId : (streams.find((s) => s.events.some((e) => e.kind === 'outcome') && s.stream !== 'pipeline')?.sessionId ?? null);
  return {
    runKey: `${o.platform}:${o.platformSessionId ?? runSessionId ?? 'none'}`,
    platform: o.platform,
    game: o.game ?? null,
    agent: o.agent ?? null,
    source: o.source ?? null,
    platformSessionId: o.platformSessionId ?? null,
    runSessionId,
    streams,
    outbox: o.outbox ?? [],
  };
}

/** An outbox row as the recorder writes it (the same payload for both queues). */
export function outboxRow(queue: 'snapshot-submission' | 'reward-handoff', payload: Record<string, unknown>): OutboxEvidence {
  return { id: nextId(), queue, sessionId: typeof payload['sessionId'] === 'string' ? payload['sessionId'] : null, payload, createdAt: new Date(T0_US / 1000), relayedAt: new Date(T0_US / 1000) };
}
