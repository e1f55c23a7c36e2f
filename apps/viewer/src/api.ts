/** REST calls to the Rewind API (same origin) and the API key's handling. */
import type { AuditView, EventView, RunView, SessionView } from './events.js';

export const API_KEY_STORAGE = 'rewind.apiKey';

/** The key of a `#key=<key>` hash (also `#a=b&key=<key>`), or null. */
export function readKeyFromHash(hash: string): string | null {
  const h = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!h) return null;
  const params = new URLSearchParams(h);
  const key = params.get('key');
  return key && key.trim() ? key.trim() : null;
}

/** The hash without its `key=` parameter ('' when nothing else is left). */
export function hashWithoutKey(hash: string): string {
  const h = hash.startsWith('#') ? hash.slice(1) : hash;
  const params = new URLSearchParams(h);
  params.delete('key');
  const rest = params.toString();
  return rest ? `#${rest}` : '';
}

export interface KeyEnv {
  location: { hash: string; pathname: string; search: string };
  history: { replaceState(data: unknown, unused: string, url?: string | null): void };
  storage: { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void };
}

/**
 * The API key: taken once from `#key=` (stored in localStorage, then removed from the URL), else the stored one.
 */
export function takeApiKey(env: KeyEnv): string | null {
  const fromHash = readKeyFromHash(env.location.hash);
  if (fromHash) {
    env.storage.setItem(API_KEY_STORAGE, fromHash);
    env.history.replaceState(null, '', env.location.pathname + env.location.search + hashWithoutKey(env.location.hash));
    return fromHash;
  }
  const stored = env.storage.getItem(API_KEY_STORAGE);
  return stored && stored.trim() ? stored.trim() : null;
}

export function storeApiKey(storage: KeyEnv['storage'], key: string | null): void {
  if (key && key.trim()) storage.setItem(API_KEY_STORAGE, key.trim());
  else storage.removeItem(API_KEY_STORAGE);
}

/** The filters of the sessions list, as the form holds them. */
export interface SessionFilters {
  platform?: string;
  game?: string;
  status?: string;
  agent?: string;
  /** `datetime-local` values (local time) or ISO strings. */
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string | null;
}

/** A datetime-local value ("2024-05-01T10:30") as ISO 8601 (UTC); ISO input passes; '' when invalid. */
export function toIsoTime(v: string): string {
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** `?platform=…&game=…` for `GET /api/sessions`: empty values left out, times as ISO. */
export function sessionsQuery(f: SessionFilters): string {
  const p = new URLSearchParams();
  const put = (k: string, v: string | undefined | null) => {
    if (v !== undefined && v !== null && v.trim() !== '') p.set(k, v.trim());
  };
  put('platform', f.platform);
  put('game', f.game);
  put('status', f.status);
  put('agent', f.agent);
  if (f.from) put('from', toIsoTime(f.from));
  if (f.to) put('to', toIsoTime(f.to));
  if (f.limit !== undefined) p.set('limit', String(f.limit));
  put('cursor', f.cursor ?? undefined);
  const s = p.toString();
  return s ? `?${s}` : '';
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The stored key, sent with every API request (reading recorded data needs the `read` scope). */
function storedKey(): string | null {
  const storage = (globalThis as { localStorage?: KeyEnv['storage'] }).localStorage;
  const k = storage?.getItem(API_KEY_STORAGE);
  return k && k.trim() ? k.trim() : null;
}

/** Request headers: JSON, and the API key when there is one. */
export function apiHeaders(key: string | null): Record<string, string> {
  return key ? { accept: 'application/json', authorization: `Bearer ${key}` } : { accept: 'application/json' };
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: apiHeaders(storedKey()) });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const b = (body ?? {}) as { error?: string; message?: string };
    throw new ApiError(res.status, b.error ?? 'http_error', b.message ?? `${res.status} ${res.statusText}`);
  }
  return body as T;
}

export const listSessions = (f: SessionFilters) => getJson<{ sessions: SessionView[]; nextCursor: string | null }>(`/api/sessions${sessionsQuery(f)}`);

export function listRuns(f: { platform?: string; game?: string; agent?: string; limit?: number }) {
  const q = sessionsQuery({ platform: f.platform, game: f.game, agent: f.agent, limit: f.limit ?? 1000 });
  return getJson<{ runs: RunView[] }>(`/api/analytics/runs${q}`);
}

export const getSession = (id: string) => getJson<SessionView>(`/api/sessions/${encodeURIComponent(id)}`);

export function getEventsPage(id: string, opts: { cursor?: string | null; fromSeq?: number; limit?: number } = {}) {
  const p = new URLSearchParams({ limit: String(opts.limit ?? 1000) });
  if (opts.cursor) p.set('cursor', opts.cursor);
  if (opts.fromSeq) p.set('fromSeq', String(opts.fromSeq));
  return getJson<{ events: EventView[]; nextCursor: string | null }>(`/api/sessions/${encodeURIComponent(id)}/events?${p.toString()}`);
}

/** Every event from `fromSeq` on, page by page (at most `maxEvents`), reporting each page. */
export async function getAllEvents(id: string, onPage: (events: EventView[]) => void, opts: { fromSeq?: number; maxEvents?: number } = {}): Promise<number> {
  const max = opts.maxEvents ?? 200_000;
  let cursor: string | null = null;
  let total = 0;
  do {
    const page: { events: EventView[]; nextCursor: string | null } = await getEventsPage(id, { cursor, fromSeq: opts.fromSeq });
    total += page.events.length;
    onPage(page.events);
    cursor = page.nextCursor;
  } while (cursor && total < max);
  return total;
}

/** The session's audit, or null when the session is not part of a run (404). */
export async function getAudit(id: string): Promise<AuditView | null> {
  try {
    return await getJson<AuditView>(`/api/sessions/${encodeURIComponent(id)}/audit`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}
