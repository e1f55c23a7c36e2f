import { formatCents, parseCents, payoutCents } from './money';

describe('money', () => {
  it('parses decimal strings and numbers with at most two places', () => {
    expect(parseCents('1.00')).toBe(100);
    expect(parseCents('1.5')).toBe(150);
    expect(parseCents('0.01')).toBe(1);
    expect(parseCents(2.25)).toBe(225);
    expect(parseCents('12')).toBe(1200);
    expect(parseCents(10 + 35.13)).toBe(4513);
    expect(parseCents(0.1 + 0.2)).toBe(30);
  });

  it('rejects anything else', () => {
    for (const bad of ['1.005', '-1', 'abc', '', ' ', '1e3', '01.00', null, undefined, {}, [], NaN, -2, Infinity, '0x10', 1.005, 1e12]) expect(parseCents(bad)).toBeUndefined();
  });

  it('formats cents back to two places', () => {
    for (const c of [0, 1, 99, 100, 10400, 123456]) expect(parseCents(formatCents(c))).toBe(c);
    expect(formatCents(10400)).toBe('104.00');
    expect(formatCents(-5)).toBe('-0.05');
  });

  it('pays floor(wager × multiplier) to the cent', () => {
    expect(payoutCents(100, 190)).toBe(190);
    expect(payoutCents(333, 108)).toBe(Math.floor((333 * 108) / 100));
    expect(payoutCents(1, 99)).toBe(0);
  });
});
