import { SIMULATED_PLATFORMS } from './platforms';
import { DEFAULT_REDACTION, PLATFORMS, platformOf, type Platform } from './index';

/** Every part of the `Platform` interface, as the registry test checks it (a new part: add it here and to docs/adding-a-platform.md). */
const PARTS: readonly (keyof Platform)[] = ['id', 'title', 'taskKinds', 'attribution', 'outcome', 'audit', 'provablyFair', 'frames', 'replay', 'redaction'];

describe('the platform registry', () => {
  it('given the platform list, then every platform has exactly one registered module, in the same order', () => {
    expect(PLATFORMS.map((p) => p.id)).toEqual([...SIMULATED_PLATFORMS]);
    for (const id of SIMULATED_PLATFORMS) expect(platformOf(id).id).toBe(id);
  });

  it('given an id no module is registered for, when looked up, then it throws', () => {
    expect(() => platformOf('pinball' as never)).toThrow(/no platform module for "pinball"/);
  });

  it.each(SIMULATED_PLATFORMS.map((id) => [id]))('given %s, then its module provides every part of the interface', (id) => {
    const p = platformOf(id);
    for (const part of PARTS) expect(p).toHaveProperty(part);
    expect(p.title.length).toBeGreaterThan(0);
    for (const fn of [p.attribution.http, p.attribution.ws, p.attribution.wsMessage, p.attribution.socketClosed, p.outcome.summarize, p.audit.check, p.frames.classify, p.frames.frameOf])
      expect(typeof fn).toBe('function');
    expect(typeof p.attribution.holdSocketUntilNamed).toBe('boolean');
    for (const validate of Object.values(p.frames.validators)) expect(typeof validate).toBe('function');
    for (const list of [p.redaction.keys, p.redaction.paths, p.redaction.queryParams, p.redaction.headers]) expect(Array.isArray(list)).toBe(true);
    // Optional parts are either absent (null) or complete.
    if (p.replay) for (const fn of [p.replay.match, p.replay.encoder]) expect(typeof fn).toBe('function');
    if (p.provablyFair) expect(typeof p.provablyFair.verifyRound).toBe('function');
    // Each capture task kind a module names belongs to it alone.
    for (const kind of p.taskKinds) expect(PLATFORMS.filter((q) => q.taskKinds.includes(kind)).map((q) => q.id)).toEqual([id]);
  });

  it('given the modules, then the platform-specific parts sit where the platform has them', () => {
    expect(PLATFORMS.filter((p) => p.provablyFair).map((p) => p.id)).toEqual(['rgs']);
    expect(PLATFORMS.filter((p) => p.replay).map((p) => p.id)).toEqual(['moltstation', 'spacemolt']);
    expect(PLATFORMS.filter((p) => p.attribution.holdSocketUntilNamed).map((p) => p.id)).toEqual(['spacemolt']);
    expect(PLATFORMS.filter((p) => p.attribution.slidingExpiry).map((p) => p.id)).toEqual(['rgs']);
    expect(PLATFORMS.filter((p) => p.outcome.fromFinalFrame).map((p) => p.id)).toEqual(['moltstation']);
  });

  it("given the redaction defaults, then they hold every platform's rules", () => {
    const has = (list: readonly string[], name: string) => list.some((n) => n.toLowerCase() === name.toLowerCase());
    for (const p of PLATFORMS) {
      for (const k of p.redaction.keys) expect(has(DEFAULT_REDACTION.keys, k)).toBe(true);
      for (const k of p.redaction.paths) expect(has(DEFAULT_REDACTION.paths, k)).toBe(true);
      for (const k of p.redaction.queryParams) expect(has(DEFAULT_REDACTION.queryParams, k)).toBe(true);
      for (const k of p.redaction.headers) expect(has(DEFAULT_REDACTION.headers, k)).toBe(true);
    }
  });

  it("given each platform's replay endpoint, then exactly one module claims its path and none claims a generic session path", () => {
    const claims = (path: string) => PLATFORMS.filter((p) => p.replay?.match(path)).map((p) => p.id);
    expect(claims('/replay/moltstation/ws/shellrunners/spectate')).toEqual(['moltstation']);
    expect(claims('/replay/spacemolt/ws')).toEqual(['spacemolt']);
    expect(claims('/replay/6f1c1c9e-4c59-4e0e-9a44-3f0f5a1d2b3c')).toEqual([]);
  });
});
