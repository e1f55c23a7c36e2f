import { PassThrough } from 'node:stream';
import { TurnGate } from './turn-gate';

describe('TurnGate', () => {
  it('holds a socket’s writes of the turn and lets them go at its end, after one flush', async () => {
    const order: string[] = [];
    const gate = new TurnGate(() => order.push('flush'));
    const a = new PassThrough();
    const b = new PassThrough();
    a.on('data', (c: Buffer) => order.push(`a:${c.toString()}`));
    b.on('data', (c: Buffer) => order.push(`b:${c.toString()}`));
    gate.hold(a);
    a.write('1');
    gate.hold(b);
    b.write('2');
    gate.hold(a); // already held this turn
    a.write('3');
    expect(order).toEqual([]);
    expect(a.writableLength).toBeGreaterThan(0); // back-pressure sees the held bytes
    await new Promise<void>((r) => setImmediate(r));
    await new Promise<void>((r) => setImmediate(r));
    expect(order[0]).toBe('flush');
    expect(order.filter((o) => o === 'flush')).toHaveLength(1);
    const of = (prefix: string): string =>
      order
        .filter((o) => o.startsWith(prefix))
        .map((o) => o.slice(2))
        .join('');
    expect(of('a:')).toBe('13');
    expect(of('b:')).toBe('2');
  });

  it('a flush that throws still lets the held bytes go', async () => {
    let throws = true;
    const gate = new TurnGate(() => {
      if (throws) {
        throws = false;
        throw new Error('disk full');
      }
    });
    const s = new PassThrough();
    gate.hold(s);
    s.write('x');
    expect(() => gate.release()).toThrow('disk full');
    expect(s.writableCorked).toBe(0);
    expect(s.read()?.toString()).toBe('x');
  });
});
