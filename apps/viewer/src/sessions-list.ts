/** Pure parts of the sessions list: filters ↔ URL, which rows show, audit badges, row texts. */
import type { SessionFilters } from './api.js';
import type { AuditStatus, RunView, SessionView } from './events.js';

export const PLATFORMS = ['moltstation', 'spacemolt', 'cloudplay', 'rgs'] as const;
export const STATUSES = ['open', 'ended', 'sealed'] as const;

export interface ListFilters extends SessionFilters {
  /** Show account/pipeline streams too (default: only `metadata.stream === 'run'`). */
  allStreams?: boolean;
}

const FILTER_KEYS = ['platform', 'game', 'status', 'agent', 'from', 'to'] as const;

/** Filters from the page's own query string (`?platform=rgs&all=1`). */
export function filtersFromSearch(search: string): ListFilters {
  const p = new URLSearchParams(search);
  const f: ListFilters = {};
  for (const k of FILTER_KEYS) {
    const v = p.get(k);
    if (v) f[k] = v;
  }
  if (p.get('all') === '1') f.allStreams = true;
  return f;
}

/** The page's query string for these filters ('' when none). */
export function searchFromFilters(f: ListFilters): string {
  const p = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const v = f[k];
    if (v) p.set(k, v);
  }
  if (f.allStreams) p.set('all', '1');
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function isRunStream(s: SessionView): boolean {
  return s.metadata?.stream === 'run';
}

export function visibleSessions(sessions: readonly SessionView[], allStreams: boolean): SessionView[] {
  return allStreams ? [...sessions] : sessions.filter(isRunStream);
}

/** The run a session belongs to: same platform and platform session id, or the run's session id. */
export function runFor(s: SessionView, runs: readonly RunView[]): RunView | undefined {
  return runs.find((r) => r.runSessionId === s.id) ?? runs.find((r) => r.platform === s.platform && !!s.platformSessionId && r.platformSessionId === s.platformSessionId);
}

export function auditStatusFor(s: SessionView, runs: readonly RunView[]): AuditStatus | null {
  return runFor(s, runs)?.auditStatus ?? null;
}

/**
 * The audit badge of a row: the run's audit status; 'pending' for a run not audited yet (also a run stream
 * whose run summary is not there yet); null for account/pipeline streams outside runs.
 */
export function auditBadgeFor(s: SessionView, runs: readonly RunView[]): AuditStatus | 'pending' | null {
  const run = runFor(s, runs);
  if (!run) return isRunStream(s) ? 'pending' : null;
  return run.auditStatus ?? 'pending';
}

/** "2m 05s" between two times (or until now while open). */
export function durationText(startedAt: string, endedAt: string | null, now = Date.now()): string {
  const start = Date.parse(startedAt);
  const end = endedAt ? Date.parse(endedAt) : now;
  if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) return '';
  const sec = Math.round((end - start) / 1000);
  if (sec < 60) return `${sec}s`;
  const m = Math.floor(sec / 60);
  if (m < 60) return `${m}m ${String(sec % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** A short text of an outcome (score/result/status fields first). */
export function outcomeText(outcome: unknown): string {
  if (outcome === null || outcome === undefined) return '';
  if (typeof outcome !== 'object') return String(outcome);
  const o = outcome as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of ['result', 'status', 'reason', 'score', 'payout', 'balance', 'credits']) {
    const v = o[k];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') parts.push(`${k} ${v}`);
    else if (v && typeof v === 'object' && typeof (v as Record<string, unknown>)['current'] === 'number') parts.push(`${k} ${(v as Record<string, unknown>)['current']}`);
  }
  if (parts.length) return parts.join(' · ');
  const s = JSON.stringify(outcome);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}
