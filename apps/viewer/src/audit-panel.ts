/** The audit panel: status, counts, the key checks (chain, outcome, published result, snapshot, reward) and findings. */
import type { AuditFinding, AuditStatus, AuditView } from './events.js';
import { badge, clear, h } from './dom.js';

export type AuditArea = 'chain' | 'outcome' | 'published' | 'snapshot' | 'reward' | 'platform';

export const AREA_LABELS: Record<AuditArea, string> = {
  chain: 'Hash chain',
  outcome: 'Outcome recomputation',
  published: 'Published result',
  snapshot: 'Snapshot',
  reward: 'Reward',
  platform: 'Platform checks',
};

/** Which of the panel's areas a check belongs to. */
export function areaOf(check: string): AuditArea {
  if (check === 'chain' || check.startsWith('chain.')) return 'chain';
  if (/published/.test(check)) return 'published';
  if (/snapshot/.test(check)) return 'snapshot';
  if (/reward|outbox/.test(check)) return 'reward';
  if (/outcome|streams-agree/.test(check)) return 'outcome';
  return 'platform';
}

const RANK: Record<AuditStatus, number> = { mismatch: 0, unverifiable: 1, ok: 2 };

/** The worst status of some findings (mismatch > unverifiable > ok), or null when there are none. */
export function worstStatus(findings: readonly AuditFinding[]): AuditStatus | null {
  let worst: AuditStatus | null = null;
  for (const f of findings) if (worst === null || RANK[f.status] < RANK[worst]) worst = f.status;
  return worst;
}

/** Findings grouped by status, mismatch first, then unverifiable, then ok (empty groups left out). */
export function groupFindings(findings: readonly AuditFinding[]): { status: AuditStatus; findings: AuditFinding[] }[] {
  return (['mismatch', 'unverifiable', 'ok'] as const).map((status) => ({ status, findings: findings.filter((f) => f.status === status) })).filter((g) => g.findings.length > 0);
}

/** Each area's status (null = no check of that area ran). */
export function areaSummary(findings: readonly AuditFinding[]): { area: AuditArea; status: AuditStatus | null; checks: string[] }[] {
  return (Object.keys(AREA_LABELS) as AuditArea[]).map((area) => {
    const fs = findings.filter((f) => areaOf(f.check) === area);
    return { area, status: worstStatus(fs), checks: [...new Set(fs.map((f) => f.check))] };
  });
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** Renders the audit (or why there is none) into `el`; `onSeek(seq)` for findings located in this session. */
export function renderAudit(el: HTMLElement, audit: AuditView | null, sessionId: string, onSeek: (seq: number) => void, error?: string): void {
  clear(el);
  el.append(h('h2', {}, 'Audit'));
  if (error) {
    el.append(h('p', { class: 'error' }, `Audit unavailable: ${error}`));
    return;
  }
  if (!audit) {
    el.append(h('p', { class: 'muted', 'data-testid': 'audit-none' }, 'No audit: this session is not part of a run, or its run is not audited yet.'));
    return;
  }
  el.append(
    h(
      'div',
      { class: 'audit-head' },
      badge(audit.status, `badge-audit audit-${audit.status}`, 'audit-status'),
      h('span', { class: 'counts' }, `${audit.counts.mismatch} mismatch · ${audit.counts.unverifiable} unverifiable · ${audit.counts.ok} ok`),
    ),
    h('p', { class: 'muted small' }, `run ${audit.runKey}${audit.auditedAt ? ` · audited ${new Date(audit.auditedAt).toLocaleString()}` : ''}`),
  );

  const areas = h('ul', { class: 'audit-areas', 'data-testid': 'audit-areas' });
  for (const a of areaSummary(audit.findings)) {
    areas.append(
      h(
        'li',
        { 'data-area': a.area },
        h('span', { class: 'area-label' }, AREA_LABELS[a.area]),
        a.status ? badge(a.status, `audit-${a.status}`) : badge('not checked', 'audit-none'),
        a.checks.length ? h('span', { class: 'muted small' }, a.checks.join(', ')) : null,
      ),
    );
  }
  el.append(areas);

  for (const g of groupFindings(audit.findings)) {
    const list = h('ul', { class: 'findings' });
    for (const f of g.findings) {
      const li = h(
        'li',
        { class: `finding finding-${f.status}`, 'data-check': f.check },
        h('div', { class: 'finding-head' }, badge(f.status, `audit-${f.status}`), h('code', {}, f.check), f.subject ? h('span', { class: 'muted' }, f.subject) : null),
        h('div', { class: 'detail' }, f.detail),
      );
      if (f.expected !== undefined || f.found !== undefined) {
        li.append(h('div', { class: 'expected-found' }, h('span', {}, 'expected '), h('code', {}, show(f.expected ?? '—')), h('span', {}, ' found '), h('code', {}, show(f.found ?? '—'))));
      }
      if (f.at) {
        if (f.at.sessionId === sessionId) {
          const a = h('a', { href: `#seq=${f.at.seq}`, class: 'seek-link', 'data-seq': f.at.seq }, `seek to #${f.at.seq}`);
          a.addEventListener('click', (ev) => {
            ev.preventDefault();
            onSeek(f.at?.seq ?? 1);
          });
          li.append(a);
        } else {
          li.append(h('a', { href: `/session.html?id=${encodeURIComponent(f.at.sessionId)}&seq=${f.at.seq}`, class: 'seek-link' }, `other stream #${f.at.seq} →`));
        }
      }
      list.append(li);
    }
    el.append(h('h3', {}, `${g.status} (${g.findings.length})`), list);
  }
}
