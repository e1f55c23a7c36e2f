/** Shapes the API serves and small pure helpers over recorded events. */

export type EventKind = 'frame' | 'input' | 'command' | 'notification' | 'request' | 'response' | 'lifecycle' | 'gap' | 'marker' | 'outcome';

export interface SessionMetadata {
  stream?: 'run' | 'account' | 'pipeline';
  capturedBy?: 'proxy' | 'spectator' | 'poller' | 'pipeline';
  queue?: string;
  [k: string]: unknown;
}

export interface SessionView {
  id: string;
  platform: string;
  game: string | null;
  platformSessionId: string | null;
  agent: string | null;
  source: string | null;
  status: 'open' | 'ended' | 'sealed';
  startedAt: string;
  endedAt: string | null;
  events: number;
  outcome: unknown;
  metadata: SessionMetadata | null;
}

export interface RunView {
  runKey: string;
  platform: string;
  game: string | null;
  agent: string | null;
  platformSessionId: string | null;
  runSessionId: string | null;
  score?: number | null;
  inputs?: number | null;
  durationMs?: number | null;
  auditStatus: AuditStatus | null;
  snapshotStatus?: string | null;
  rewardStatus?: string | null;
}

export type AuditStatus = 'ok' | 'mismatch' | 'unverifiable';

/** An event from `GET /api/sessions/{id}/events`. */
export interface EventView {
  seq: number;
  kind: EventKind | string;
  direction: string | null;
  channel: string | null;
  recordedAt?: string;
  offsetUs: number;
  format: string | null;
  body: string | null;
  bodyEncoding: 'utf8' | 'base64' | string;
  msgType: string | null;
  tick: number | null;
  requestId: string | null;
  meta: Record<string, unknown> | null;
  hash?: string;
}

export interface AuditFinding {
  check: string;
  status: AuditStatus;
  subject?: string;
  expected?: unknown;
  found?: unknown;
  detail: string;
  at?: { sessionId: string; seq: number };
}

export interface AuditView {
  id: string;
  runKey: string;
  status: AuditStatus;
  auditedAt: string;
  counts: { ok: number; mismatch: number; unverifiable: number };
  findings: AuditFinding[];
}

/** Where an event stands and what it is: what the timeline, the inspector and the list all read. */
export interface EventHead {
  seq: number;
  offsetUs: number;
  kind: string;
  direction?: string | null;
  channel?: string | null;
  msgType?: string | null;
}

/** The text of a body: utf8 as is, base64 decoded as UTF-8 (invalid bytes replaced). */
export function bodyText(body: string | null | undefined, encoding: string | null | undefined): string {
  if (body === null || body === undefined) return '';
  if (encoding !== 'base64') return body;
  try {
    const bin = atob(body);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  } catch {
    return body;
  }
}

/** Parsed JSON, or undefined when the text is not JSON (NDJSON: the first line). */
export function parseJson(text: string): unknown {
  const t = text.trim();
  if (!t || (t[0] !== '{' && t[0] !== '[' && t[0] !== '"')) return undefined;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    const first = t.split('\n')[0] ?? '';
    if (first === t) return undefined;
    try {
      return JSON.parse(first) as unknown;
    } catch {
      return undefined;
    }
  }
}

export const asObject = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/** The game frame inside a MoltStation frame body (`{"t":"frame","frame":{…}}`), or the body itself if it looks like one. */
export function gameFrameOf(text: string): Record<string, unknown> | undefined {
  if (!text.includes('"frame"') && !text.includes('"tick"')) return undefined;
  const json = asObject(parseJson(text));
  if (!json) return undefined;
  if (json['t'] === 'frame') return asObject(json['frame']);
  if (typeof json['tick'] === 'number' && ('bot' in json || 'pawn' in json)) return json;
  return undefined;
}

/** Whether an event is a platform→client game frame of a play or spectate stream. */
export function isGameFrameEvent(e: { kind: string; direction?: string | null; channel?: string | null }): boolean {
  return e.kind === 'frame' && (e.direction === 'platform_to_client' || e.direction === null || e.direction === undefined) && (e.channel === 'play_ws' || e.channel === 'spectate_ws');
}

/** `t` names of a frame's `events` array. */
export function frameEventList(frame: Record<string, unknown> | undefined): Record<string, unknown>[] {
  const evs = frame?.['events'];
  if (!Array.isArray(evs)) return [];
  return evs.map((e) => asObject(e) ?? (typeof e === 'string' ? { t: e } : {})).filter((e) => typeof e['t'] === 'string');
}

/** Largest index i with seqs[i] <= seq (seqs ascending), or -1. */
export function indexAtOrBefore(seqs: readonly number[], seq: number): number {
  let lo = 0;
  let hi = seqs.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((seqs[mid] as number) <= seq) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/** "1:02.345" from microseconds. */
export function formatOffset(us: number): string {
  if (!Number.isFinite(us) || us < 0) us = 0;
  const ms = Math.floor(us / 1000);
  const m = Math.floor(ms / 60000);
  const s = Math.floor((ms % 60000) / 1000);
  const rest = ms % 1000;
  return `${m}:${String(s).padStart(2, '0')}.${String(rest).padStart(3, '0')}`;
}
