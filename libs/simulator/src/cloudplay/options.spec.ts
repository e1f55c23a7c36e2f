import { CLOUDPLAY_DEFAULTS, resolveOptions, scaleTimes } from './options';

describe('cloud-play options', () => {
  it('defaults to the documented real constants', () => {
    const sut = resolveOptions();
    expect(sut.idleTimeoutMs).toBe(30 * 60_000);
    expect(sut.downloadMs[1]).toBe(60_000);
    expect(sut).toEqual(CLOUDPLAY_DEFAULTS);
  });

  it('timeScale scales every duration', () => {
    const sut = scaleTimes(resolveOptions({ timeScale: 0.001 }));
    expect(sut).toEqual({ idleTimeoutMs: 1_800, containerStartMs: [2, 8], downloadMs: [10, 60], stoppingMs: 3, rateWindowMs: 60 });
  });

  it('rejects nonsense with a clear message', () => {
    expect(() => resolveOptions({ timeScale: 0 })).toThrow(/timeScale/);
    expect(() => resolveOptions({ downloadMs: [5, 1] })).toThrow(/downloadMs/);
    expect(() => resolveOptions({ servers: 0 })).toThrow(/servers/);
  });
});
