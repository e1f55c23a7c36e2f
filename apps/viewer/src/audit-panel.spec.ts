import { areaOf, areaSummary, groupFindings, worstStatus } from './audit-panel.js';
import type { AuditFinding } from './events.js';

const f = (check: string, status: AuditFinding['status']): AuditFinding => ({ check, status, detail: `${check} ${status}` });

describe('audit panel grouping', () => {
  it('given checks, when placed in areas, then chain/outcome/published/snapshot/reward are told apart', () => {
    expect(areaOf('chain')).toBe('chain');
    expect(areaOf('moltstation.outcome')).toBe('outcome');
    expect(areaOf('outcome.stored')).toBe('outcome');
    expect(areaOf('moltstation.published-score')).toBe('published');
    expect(areaOf('moltstation.snapshot')).toBe('snapshot');
    expect(areaOf('pipeline.snapshot-stored')).toBe('snapshot');
    expect(areaOf('pipeline.reward-once')).toBe('reward');
    expect(areaOf('rgs.round.payout')).toBe('platform');
  });

  it('given mixed findings, when grouped, then mismatches come first and ok last', () => {
    const groups = groupFindings([f('chain', 'ok'), f('rgs.balance', 'unverifiable'), f('rgs.round.payout', 'mismatch'), f('rgs.history', 'ok')]);
    expect(groups.map((g) => g.status)).toEqual(['mismatch', 'unverifiable', 'ok']);
    expect(groups[2]?.findings.map((x) => x.check)).toEqual(['chain', 'rgs.history']);
  });

  it('given findings of an area, when summarised, then the area has the worst status and unchecked areas are null', () => {
    const s = areaSummary([f('moltstation.outcome', 'ok'), f('outcome.stored', 'mismatch'), f('chain', 'ok')]);
    const by = Object.fromEntries(s.map((a) => [a.area, a.status]));
    expect(by['outcome']).toBe('mismatch');
    expect(by['chain']).toBe('ok');
    expect(by['reward']).toBeNull();
    expect(worstStatus([])).toBeNull();
    expect(worstStatus([f('a', 'ok'), f('b', 'unverifiable')])).toBe('unverifiable');
  });
});
