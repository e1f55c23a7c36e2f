import { hmacFloats, sha256Hex } from './hmac-floats';
import { httpReq, httpRes, run, stream, type EventDraft } from '../test-support';
import type { Finding } from '../evidence/types';
import { auditRgs } from './audit';

/**
 * A real dice round, computed with the simulator's provably-fair primitives: dice-alpha (95 % RTP), 1.00 on
 * "over 50.5" (win chance 49.5 % → multiplier 1.92), roll = floor(f0 × 10001) / 100 of HMAC(serverSeed, client:0:0).
 */
const SERVER_SEED = sha256Hex('rewind audit test seed');
const SEED = { serverSeedHash: sha256Hex(SERVER_SEED), clientSeed: 'audit-client', nonce: 0 };
const ROUND_ID = '9f1c0d7e-0000-4000-8000-000000000001';
const ROLL_H = Math.floor(hmacFloats(SERVER_SEED, SEED.clientSeed, SEED.nonce, 1)[0]! * 10001);
const WIN = ROLL_H > 5050;
const MULTIPLIER = WIN ? '1.92' : '0.00';
const PAYOUT = WIN ? '1.92' : '0.00';
const BALANCE_AFTER = WIN ? '1000.92' : '999.00';

interface Tamper {
  payout?: string;
  historyPayout?: string;
  finalBalance?: string;
  revealedSeed?: string;
  detailsNonce?: number;
  reveal?: boolean;
}

const exchange = (method: string, path: string, body: unknown, response: unknown): EventDraft[] => [httpReq(method, path, body), httpRes(method, path, 200, response)];

function diceRun(t: Tamper = {}): EventDraft[] {
  const round = { id: ROUND_ID, gameId: 'dice-alpha', amount: '1.00', payout: t.payout ?? PAYOUT, multiplier: MULTIPLIER, result: WIN ? 'win' : 'loss', active: false };
  const state = { target: 50.5, condition: 'over', roll: ROLL_H / 100, winChance: 49.5, multiplier: '1.92' };
  const revealed = t.revealedSeed ?? SERVER_SEED;
  const reveal =
    t.reveal === false
      ? []
      : [
          ...exchange('POST', '/seed/rotate', {}, { previous: { ...SEED, serverSeed: revealed, nonce: 1 }, current: { serverSeedHash: sha256Hex('next'), clientSeed: SEED.clientSeed, nonce: 0 } }),
          ...exchange('GET', `/game/round/${ROUND_ID}`, undefined, { round, seed: { ...SEED, nonce: t.detailsNonce ?? 0, serverSeed: revealed }, state }),
        ];
  return [
    ...exchange('POST', '/game/current', undefined, { balance: '1000.00', active: false }),
    ...exchange('POST', '/game/play', { amount: '1.00', target: 50.5, condition: 'over' }, { balance: BALANCE_AFTER, round, seed: SEED, state }),
    ...exchange('GET', '/game/history', undefined, [{ id: ROUND_ID, wager: '1.00', payout: t.historyPayout ?? PAYOUT, multiplier: MULTIPLIER }]),
    ...reveal,
    ...exchange('GET', '/game/balance', undefined, { balance: t.finalBalance ?? BALANCE_AFTER, currency: 'USD' }),
  ];
}

const audit = (t: Tamper = {}): Finding[] => auditRgs(run({ platform: 'rgs', platformSessionId: 'rgs-1' }, [stream('proxy', diceRun(t))]));
const of = (findings: Finding[], check: string, s: Finding['status']): Finding[] => findings.filter((f) => f.check === check && f.status === s);

describe('auditRgs', () => {
  it('given a real dice round played, listed, revealed by a rotation and fetched, when audited, then every check is ok', () => {
    const findings = audit();
    expect(findings.filter((f) => f.status !== 'ok')).toEqual([]);
    expect(findings.map((f) => f.check)).toEqual(['rgs.round.payout', 'rgs.round.provably-fair', 'rgs.round.details', 'rgs.balance', 'rgs.history']);
    expect(of(findings, 'rgs.round.provably-fair', 'ok')[0]?.detail).toContain('1 of 1');
    expect(of(findings, 'rgs.balance', 'ok')[0]?.detail).toContain('2 of 2');
  });

  it('given the same round revealed with a forged server seed, when audited, then provably-fair fails naming the round', () => {
    const forged = sha256Hex(`forged:${SERVER_SEED}`);
    const [finding, ...rest] = of(audit({ revealedSeed: forged }), 'rgs.round.provably-fair', 'mismatch');
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ subject: ROUND_ID, expected: sha256Hex(forged), found: SEED.serverSeedHash });
    expect(finding?.detail).toContain('commitment');
  });

  it('given a play response whose payout is not floor(amount × multiplier), when audited, then payout mismatches for that round', () => {
    const findings = audit({ payout: WIN ? '1.95' : '0.05' });
    expect(of(findings, 'rgs.round.payout', 'mismatch')).toEqual([
      expect.objectContaining({ subject: ROUND_ID, expected: PAYOUT, found: WIN ? '1.95' : '0.05', at: expect.objectContaining({ seq: 4 }) }),
    ]);
  });

  it('given a final balance that does not follow from the wager and payout, when audited, then balance mismatches at that response', () => {
    const findings = audit({ finalBalance: '1005.00' });
    expect(of(findings, 'rgs.balance', 'mismatch')).toEqual([expect.objectContaining({ expected: BALANCE_AFTER, found: '1005.00', at: expect.objectContaining({ seq: 12 }) })]);
  });

  it('given a history entry whose payout differs from the play, when audited, then history mismatches naming the round', () => {
    const findings = audit({ historyPayout: '7.00' });
    expect(of(findings, 'rgs.history', 'mismatch')).toEqual([expect.objectContaining({ subject: ROUND_ID, found: expect.objectContaining({ payout: '7.00' }) })]);
  });

  it('given round details whose nonce differs from the one shown at play, when audited, then details mismatch naming the round', () => {
    const findings = audit({ detailsNonce: 5 });
    expect(of(findings, 'rgs.round.details', 'mismatch')).toEqual([expect.objectContaining({ subject: ROUND_ID, detail: expect.stringContaining('nonce') })]);
  });

  it('given a settled round whose seed was never revealed, when audited, then provably-fair is unverifiable with the count', () => {
    const findings = audit({ reveal: false });
    expect(findings.filter((f) => f.check === 'rgs.round.provably-fair')).toEqual([expect.objectContaining({ status: 'unverifiable', detail: expect.stringContaining('1 settled round') })]);
  });

  it('given poller balances racing a play and after the run, when audited, then the racing one may show either side and the later one is not compared', () => {
    const proxy = stream('proxy', diceRun(), { stepUs: 10_000 });
    const poller = stream(
      'poller',
      [
        httpReq('GET', '/game/balance', undefined, { channel: 'poll' }),
        httpRes('GET', '/game/balance', 200, { balance: '1000.00' }, { channel: 'poll' }),
        httpReq('GET', '/game/balance', undefined, { channel: 'poll' }),
        httpRes('GET', '/game/balance', 200, { balance: '3.00' }, { channel: 'poll' }),
      ],
      { offsetsUs: [25_000, 45_000, 900_000, 910_000] },
    );
    const findings = auditRgs(run({ platform: 'rgs' }, [proxy, poller]));
    expect(of(findings, 'rgs.balance', 'mismatch')).toEqual([]);
    expect(of(findings, 'rgs.balance', 'ok')[0]?.detail).toContain('1 poller balance(s) outside');
  });

  it('given a poller balance during the run that no wager or payout explains, when audited, then balance mismatches at the poller event', () => {
    const proxy = stream('proxy', diceRun(), { stepUs: 10_000 });
    const poller = stream('poller', [httpReq('GET', '/game/balance', undefined, { channel: 'poll' }), httpRes('GET', '/game/balance', 200, { balance: '990.00' }, { channel: 'poll' })], {
      offsetsUs: [55_000, 56_000],
    });
    const findings = auditRgs(run({ platform: 'rgs' }, [proxy, poller]));
    expect(of(findings, 'rgs.balance', 'mismatch')).toEqual([expect.objectContaining({ found: '990.00', at: { sessionId: poller.sessionId, seq: 2 } })]);
  });
});
