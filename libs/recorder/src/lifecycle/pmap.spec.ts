import { memory, PMap, recall, remember } from './pmap';

describe('PMap (persistent map of the lifecycle state)', () => {
  it('a write returns a new map and leaves the old one as it was', () => {
    const sut = PMap.of(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i] as const));
    const changed = sut.set('k7', -7).delete('k8').set('new', 1);
    expect([sut.get('k7'), sut.get('k8'), sut.get('new'), sut.size]).toEqual([7, 8, undefined, 3000]);
    expect([changed.get('k7'), changed.has('k8'), changed.get('new'), changed.size]).toEqual([-7, false, 1, 3000]);
    expect([...changed.values()].length).toBe(3000);
    expect(sut.delete('absent')).toBe(sut);
  });

  it('a memory keeps at least the newest half of its bound and at most its bound', () => {
    let sut = memory<number>(100);
    for (let i = 0; i < 1000; i++) sut = remember(sut, `k${i}`, i);
    expect(sut.young.size + sut.old.size).toBeLessThanOrEqual(100);
    for (let i = 950; i < 1000; i++) expect(recall(sut, `k${i}`)).toBe(i);
    expect(recall(sut, 'k0')).toBeUndefined();
  });
});
