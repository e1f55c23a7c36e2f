/** index.html: the recorded sessions, filtered, with live and audit badges; "load more" pages on. */
import { ApiError, listRuns, listSessions, storeApiKey, takeApiKey } from './api.js';
import type { RunView, SessionView } from './events.js';
import { badge, byId, clear, h, keyForm } from './dom.js';
import { auditBadgeFor, durationText, filtersFromSearch, outcomeText, searchFromFilters, visibleSessions, type ListFilters } from './sessions-list.js';

const PAGE = 50;

let filters: ListFilters = {};
let cursor: string | null = null;
let runs: RunView[] = [];
let shown = 0;
let hiddenStreams = 0;

function readForm(): ListFilters {
  const val = (id: string) => (byId<HTMLInputElement | HTMLSelectElement>(id).value || '').trim() || undefined;
  return {
    platform: val('f-platform'),
    game: val('f-game'),
    status: val('f-status'),
    agent: val('f-agent'),
    from: val('f-from'),
    to: val('f-to'),
    allStreams: byId<HTMLInputElement>('f-all').checked,
  };
}

function fillForm(f: ListFilters): void {
  const set = (id: string, v: string | undefined) => {
    byId<HTMLInputElement | HTMLSelectElement>(id).value = v ?? '';
  };
  set('f-platform', f.platform);
  set('f-game', f.game);
  set('f-status', f.status);
  set('f-agent', f.agent);
  set('f-from', f.from);
  set('f-to', f.to);
  byId<HTMLInputElement>('f-all').checked = !!f.allStreams;
}

const auditCells = new Map<string, { cell: HTMLTableCellElement; session: SessionView }>();
let refreshTimer: number | undefined;

function fillAudit(cell: HTMLElement, s: SessionView): boolean {
  clear(cell);
  const a = auditBadgeFor(s, runs);
  const title = a === 'pending' ? 'part of a run that is not audited yet' : a ? `run audit: ${a}` : 'not part of a run';
  cell.title = title;
  cell.append(a ? badge(a, `badge-audit audit-${a === 'pending' ? 'none' : a}`, 'badge-audit') : h('span', { class: 'muted small' }, '—'));
  return a === 'pending';
}

function auditCell(s: SessionView): HTMLTableCellElement {
  const cell = h('td', { class: 'audit-cell' });
  fillAudit(cell, s);
  auditCells.set(s.id, { cell, session: s });
  return cell;
}

/** Re-reads the runs while some shown run is still waiting for its audit (every 5 s, a few minutes at most). */
function refreshAuditsLater(rounds = 36): void {
  window.clearTimeout(refreshTimer);
  const pending = [...auditCells.values()].some(({ session }) => auditBadgeFor(session, runs) === 'pending');
  if (!pending || rounds <= 0) return;
  refreshTimer = window.setTimeout(async () => {
    try {
      runs = (await listRuns({ platform: filters.platform, game: filters.game, agent: filters.agent, limit: 1000 })).runs;
      for (const { cell, session } of auditCells.values()) fillAudit(cell, session);
    } catch {
      // try again next round
    }
    refreshAuditsLater(rounds - 1);
  }, 5000);
}

function row(s: SessionView): HTMLTableRowElement {
  const href = `/session.html?id=${encodeURIComponent(s.id)}`;

  const status = h('td', { class: 'status' });
  if (s.status === 'open') status.append(badge('live', 'badge-live', 'badge-live'));
  else status.append(badge(s.status, `badge-status status-${s.status}`));
  const tr = h(
    'tr',
    { class: 'session-row', 'data-id': s.id, 'data-testid': 'session-row', 'data-status': s.status },
    status,
    h('td', { class: 'when', title: s.startedAt }, new Date(s.startedAt).toLocaleString()),
    h('td', {}, h('a', { href, class: 'platform' }, s.platform)),
    h('td', {}, h('a', { href }, s.game ?? '—')),
    h('td', {}, s.agent ?? '—'),
    h('td', { class: 'muted small' }, [s.metadata?.stream, s.metadata?.capturedBy].filter(Boolean).join(' / ')),
    h('td', { class: 'num' }, String(s.events)),
    h('td', { class: 'num' }, durationText(s.startedAt, s.endedAt)),
    h('td', { class: 'small' }, outcomeText(s.outcome)),
    auditCell(s),
  );
  tr.addEventListener('click', (ev) => {
    if ((ev.target as HTMLElement).closest('a')) return;
    location.href = href;
  });
  return tr;
}

function setStatus(text: string, error = false): void {
  const el = byId('list-status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

async function loadPage(reset: boolean): Promise<void> {
  const body = byId('sessions-body');
  const more = byId<HTMLButtonElement>('load-more');
  if (reset) {
    clear(body);
    auditCells.clear();
    cursor = null;
    shown = 0;
    hiddenStreams = 0;
  }
  more.disabled = true;
  setStatus('Loading…');
  try {
    if (reset) {
      runs = await listRuns({ platform: filters.platform, game: filters.game, agent: filters.agent, limit: 1000 })
        .then((r) => r.runs)
        .catch(() => []);
    }
    const page = await listSessions({ ...filters, limit: PAGE, cursor });
    const rows = visibleSessions(page.sessions, !!filters.allStreams);
    hiddenStreams += page.sessions.length - rows.length;
    for (const s of rows) body.append(row(s));
    shown += rows.length;
    cursor = page.nextCursor;
    more.hidden = !cursor;
    more.disabled = false;
    setStatus(
      `${shown} session${shown === 1 ? '' : 's'}${hiddenStreams ? ` (${hiddenStreams} account/pipeline stream${hiddenStreams === 1 ? '' : 's'} hidden)` : ''}${cursor ? ' — more available' : ''}`,
    );
    if (shown === 0 && !cursor) body.append(h('tr', {}, h('td', { colspan: 10, class: 'empty' }, 'No sessions match.')));
    refreshAuditsLater();
  } catch (e) {
    more.disabled = false;
    const status = e instanceof ApiError ? e.status : 0;
    setStatus(status === 401 || status === 403 ? `An API key with the "read" scope is needed to list sessions: ${(e as Error).message}` : `Could not load sessions: ${(e as Error).message}`, true);
  }
}

function keyArea(key: string | null): void {
  const area = byId('key-area');
  clear(area);
  if (key) {
    const forget = h('button', { type: 'button', class: 'link' }, 'forget key');
    forget.addEventListener('click', () => {
      storeApiKey(localStorage, null);
      keyArea(null);
    });
    area.append(h('span', { class: 'muted small' }, 'API key stored · '), forget);
  } else {
    area.append(
      keyForm((k) => {
        storeApiKey(localStorage, k);
        keyArea(k);
        void loadPage(true);
      }, 'needed to list and replay sessions; ./rewind demo says where it is (.rewind/api-key)'),
    );
  }
}

function main(): void {
  keyArea(takeApiKey({ location, history, storage: localStorage }));
  filters = filtersFromSearch(location.search);
  fillForm(filters);
  const form = byId<HTMLFormElement>('filters');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    filters = readForm();
    history.replaceState(null, '', location.pathname + searchFromFilters(filters));
    void loadPage(true);
  });
  byId('f-all').addEventListener('change', () => form.requestSubmit());
  byId('f-platform').addEventListener('change', () => form.requestSubmit());
  byId('f-status').addEventListener('change', () => form.requestSubmit());
  byId('f-reset').addEventListener('click', () => {
    filters = {};
    fillForm(filters);
    history.replaceState(null, '', location.pathname);
    void loadPage(true);
  });
  byId('load-more').addEventListener('click', () => void loadPage(false));
  void loadPage(true);
}

main();
