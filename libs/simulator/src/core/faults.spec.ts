import { FaultRegistry, parseFaultSpecs, validateFaultSpec } from './faults';

describe('FaultRegistry', () => {
  it('prefers a fault aimed at the target over a global one', () => {
    const sut = new FaultRegistry();
    sut.add({ platform: 'moltstation', fault: 'delay-frames', params: { ms: 10 } });
    sut.add({ platform: 'moltstation', fault: 'delay-frames', target: 's-1', params: { ms: 99 } });
    expect(sut.take('moltstation', 'delay-frames', 's-1')).toEqual({ ms: 99 });
    expect(sut.take('moltstation', 'delay-frames', 's-2')).toEqual({ ms: 10 });
    expect(sut.take('spacemolt', 'delay-frames', 's-1')).toBeUndefined();
  });

  it('clears a fault after it fired `times` times', () => {
    const sut = new FaultRegistry();
    sut.add({ platform: 'rgs', fault: 'status-503', times: 2 });
    expect(sut.take('rgs', 'status-503')).toEqual({});
    expect(sut.take('rgs', 'status-503')).toEqual({});
    expect(sut.take('rgs', 'status-503')).toBeUndefined();
    expect(sut.list()).toEqual([]);
  });

  it('removes and clears faults', () => {
    const sut = new FaultRegistry();
    const a = sut.add({ platform: 'rgs', fault: 'x' });
    sut.add({ platform: 'cloudplay', fault: 'y' });
    expect(sut.remove(a.id)).toBe(true);
    expect(sut.remove(a.id)).toBe(false);
    sut.clear('cloudplay');
    expect(sut.list()).toEqual([]);
  });
});

describe('fault specs', () => {
  it('parses one spec or a list', () => {
    expect(parseFaultSpecs('{"platform":"rgs","fault":"status-429","times":1}')).toEqual([{ platform: 'rgs', fault: 'status-429', target: undefined, params: undefined, times: 1 }]);
    expect(parseFaultSpecs('[{"platform":"spacemolt","fault":"close-4001"},{"platform":"cloudplay","fault":"status-503"}]')).toHaveLength(2);
    expect(parseFaultSpecs(undefined)).toEqual([]);
  });

  it.each([
    [{ platform: 'steam', fault: 'x' }, /platform must be/],
    [{ platform: 'rgs' }, /fault must be a non-empty string/],
    [{ platform: 'rgs', fault: 'x', times: 0 }, /times must be a positive integer/],
    [{ platform: 'rgs', fault: 'x', params: [] }, /params must be an object/],
    [null, /must be an object/],
  ])('refuses %j', (spec, message) => {
    expect(() => validateFaultSpec(spec)).toThrow(message);
  });
});
