import { httpRes, run, stream, wsIn, type EventDraft } from '../test-support';
import type { Finding } from '../evidence/types';
import { auditSpaceMolt } from './audit';

/** HTTP v2 envelopes as the simulator answers them. */
const v2 = (command: string, structuredContent: Record<string, unknown>, notifications: unknown[] = []): EventDraft =>
  httpRes('POST', `/api/v2/spacemolt/${command}`, 200, { result: 'text', structuredContent, notifications, session: { id: 's' }, error: null });
const status = (credits: number, cargo: number): EventDraft => v2('get_status', { version: '2', player: { credits }, ship: { cargo_used: cargo } });
const actionResult = (command: string, tick: number, result: Record<string, unknown>) => ({ id: `ntf_${tick}`, type: 'system', msg_type: 'action_result', data: { command, tick, result } });

/** The recorded HTTP v2 miner run (sample): 1000 cr, mines 50 units, sells 192 + 85 + 119, refuels for 4 → 1392 cr. */
const MINED = [3, 6, 3, 4, 3, 5, 3, 6, 5, 4, 4, 4];
function httpMinerRun(o: { nickelTotal?: number; thirdMineReported?: number } = {}): EventDraft[] {
  let cargo = 0;
  const mines = MINED.map((quantity, i) => {
    cargo += quantity;
    const reported = i === 2 ? (o.thirdMineReported ?? quantity) : quantity;
    return v2('mine', { pending: true, command: 'mine', message: `Mined ${reported}x.` }, [
      actionResult('mine', 177950 + i, { action: 'mine', quantity: reported, cargo_used: cargo, cargo_capacity: 50 }),
    ]);
  });
  return [
    v2('register', { player: { credits: 1000 }, ship: { cargo_used: 0 } }),
    status(1000, 0),
    ...mines,
    v2('dock', { pending: true, command: 'dock' }, [actionResult('dock', 177965, { action: 'dock' })]),
    status(1000, 50),
    v2('sell', { action: 'sell', item_id: 'nickel_ore', quantity_sold: 16, total_earned: o.nickelTotal ?? 192 }),
    v2('sell', { action: 'sell', item_id: 'iron_ore', quantity_sold: 17, total_earned: 85 }),
    v2('sell', { action: 'sell', item_id: 'copper_ore', quantity_sold: 17, total_earned: 119 }),
    v2('refuel', { action: 'refuel', source: 'station', cost: 4 }),
    status(1392, 0),
  ];
}

const audit = (drafts: EventDraft[]): Finding[] => auditSpaceMolt(run({ platform: 'spacemolt' }, [stream('proxy', drafts)]));
const of = (findings: Finding[], check: string, s: Finding['status']): Finding[] => findings.filter((f) => f.check === check && f.status === s);

describe('auditSpaceMolt', () => {
  it('given the recorded HTTP miner run (1000 → +192 +85 +119 −4 → 1392), when audited, then credits, cargo and earned are ok', () => {
    const findings = audit(httpMinerRun());
    expect(findings.filter((f) => f.status !== 'ok')).toEqual([]);
    expect(of(findings, 'spacemolt.credits', 'ok')[0]?.detail).toContain('3 of 3');
    expect(of(findings, 'spacemolt.cargo', 'ok')[0]?.detail).toContain('15 of 15');
    expect(of(findings, 'spacemolt.earned', 'ok')[0]?.detail).toContain('(+392); reported changes +392');
  });

  it('given a sell whose reported total was tampered (192 → 200), when audited, then credits and earned mismatch at the final status', () => {
    const drafts = httpMinerRun({ nickelTotal: 200 });
    const findings = audit(drafts);
    const [credits] = of(findings, 'spacemolt.credits', 'mismatch');
    expect(credits).toMatchObject({ expected: 1400, found: 1392, at: { seq: drafts.length } });
    expect(of(findings, 'spacemolt.earned', 'mismatch')[0]).toMatchObject({ expected: 400, found: 392 });
    expect(of(findings, 'spacemolt.cargo', 'mismatch')).toEqual([]);
  });

  it('given a mine result reporting more units than its cargo_used shows (3 → 4), when audited, then cargo mismatches at that mine once', () => {
    const findings = audit(httpMinerRun({ thirdMineReported: 4 }));
    const cargo = of(findings, 'spacemolt.cargo', 'mismatch');
    expect(cargo).toHaveLength(1);
    expect(cargo[0]).toMatchObject({ expected: 13, found: 12, at: { seq: 5 } });
  });

  it('given a WebSocket run with a duplicated action_result push and an NDJSON frame, when audited, then each result counts once and credits are ok', () => {
    const sell = { type: 'action_result', payload: { command: 'sell', tick: 177960, result: { action: 'sell', quantity_sold: 36, total_earned: 252 } }, request_id: 'r-22' };
    const findings = audit([
      wsIn({ type: 'logged_in', payload: { player: { credits: 1000 }, ship: { cargo_used: 36 } } }),
      wsIn(sell),
      wsIn({ ...sell, request_id: undefined }),
      wsIn(
        [
          { type: 'action_result', payload: { command: 'refuel', tick: 177962, result: { action: 'refuel', source: 'station', cost: 4 } }, request_id: 'r-24' },
          { type: 'ok', payload: { player: { credits: 1248 }, ship: { cargo_used: 0 } }, request_id: 'r-25' },
        ]
          .map((m) => JSON.stringify(m))
          .join('\n'),
      ),
    ]);
    expect(findings.filter((f) => f.status !== 'ok')).toEqual([]);
    expect(of(findings, 'spacemolt.earned', 'ok')[0]?.detail).toContain('reported changes +248');
  });

  it('given a run where credits were observed once, when audited, then every check is unverifiable', () => {
    const findings = audit([status(1000, 0), v2('sell', { action: 'sell', quantity_sold: 1, total_earned: 5 })]);
    expect(findings.map((f) => [f.check, f.status])).toEqual([
      ['spacemolt.credits', 'unverifiable'],
      ['spacemolt.cargo', 'unverifiable'],
      ['spacemolt.earned', 'unverifiable'],
    ]);
  });
});
