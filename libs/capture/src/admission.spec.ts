import { CaptureAdmission, admissionHook, type AdmissionSample, DEFAULT_ADMISSION_THRESHOLDS as T, nextAdmission, OPEN, overloadOf } from './admission';

const calm: AdmissionSample = { lagMs: 0, buffered: 0, bufferedBound: 50_000, loopDelayMs: 0, outage: false };
const at = (patch: Partial<AdmissionSample>): AdmissionSample => ({ ...calm, ...patch });

describe('admission control: the hysteresis (pure)', () => {
  it('closes on the first signal over its threshold, naming it', () => {
    expect(overloadOf(calm, T)).toBeNull();
    expect(overloadOf(at({ lagMs: 10_001 }), T)).toBe('ingest_lag');
    expect(overloadOf(at({ buffered: 40_001 }), T)).toBe('ingest_buffer');
    expect(overloadOf(at({ loopDelayMs: 1001 }), T)).toBe('event_loop_delay');
    expect(nextAdmission(OPEN, at({ loopDelayMs: 1000 }), T, 1000)).toBe(OPEN);
  });

  it('closes only once a signal has stayed over its threshold for closeAfterMs (a pause is not an overload)', () => {
    let s = nextAdmission(OPEN, at({ loopDelayMs: 1001 }), T, 1000);
    expect(s).toMatchObject({ open: true, overSinceMs: 1000 });
    // A break resets it.
    expect(nextAdmission(s, calm, T, 1500)).toEqual(OPEN);
    s = nextAdmission(s, at({ lagMs: 20_000 }), T, 2999);
    expect(s.open).toBe(true);
    expect(nextAdmission(s, at({ lagMs: 20_000 }), T, 3000)).toEqual({ open: false, reason: 'ingest_lag', closedAtMs: 3000, calmSinceMs: null, overSinceMs: null });
  });

  it('does not count the ingest lag while the store is away (the journal takes the events: not an overload)', () => {
    expect(overloadOf(at({ lagMs: 60_000, outage: true }), T)).toBeNull();
    expect(overloadOf(at({ lagMs: 60_000, outage: true, loopDelayMs: 2000 }), T)).toBe('event_loop_delay');
  });

  it('reopens only once every signal has stayed under half its threshold for reopenAfterMs; between the two levels it stays closed', () => {
    let s = nextAdmission(nextAdmission(OPEN, at({ lagMs: 20_000 }), T, -2000), at({ lagMs: 20_000 }), T, 0);
    expect(s.open).toBe(false);
    // Under the threshold but over half of it: still closed, no calm counted.
    s = nextAdmission(s, at({ lagMs: 6000 }), T, 1000);
    expect(s).toMatchObject({ open: false, calmSinceMs: null });
    // Calm from 2 s on…
    s = nextAdmission(s, at({ lagMs: 4000 }), T, 2000);
    expect(s).toMatchObject({ open: false, calmSinceMs: 2000 });
    s = nextAdmission(s, at({ lagMs: 100 }), T, 6999);
    expect(s.open).toBe(false);
    // …a spike resets the calm…
    s = nextAdmission(s, at({ loopDelayMs: 600 }), T, 7000);
    expect(s).toMatchObject({ open: false, calmSinceMs: null, reason: 'ingest_lag' });
    s = nextAdmission(s, calm, T, 8000);
    expect(nextAdmission(s, calm, T, 12_999).open).toBe(false);
    // …and 5 s of calm reopen it.
    expect(nextAdmission(s, calm, T, 13_000)).toEqual(OPEN);
  });
});

describe('admission control: the decisions the proxy gets', () => {
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

  it('while closed refuses only new captures: run-opening requests and sockets of runs not recording; the rest passes', () => {
    let sample = calm;
    const changes: boolean[] = [];
    let now = 0;
    const a = new CaptureAdmission({ ingest: () => calm, sample: () => sample, log, onChange: (open) => changes.push(open), now: () => now });
    const recording = new Set(['session:ms-1']);
    const admit = admissionHook(a, (_p, key) => recording.has(key));
    const start = { kind: 'http' as const, platform: 'moltstation' as const, method: 'POST', path: '/api/games/flappybots/sessions/start' };
    expect(admit(start)).toEqual({ ok: true });
    sample = at({ loopDelayMs: 5000 });
    a.tick();
    expect(changes).toEqual([]);
    now = 2000;
    a.tick();
    expect(changes).toEqual([false]);
    expect(admit(start)).toEqual({ ok: false, reason: 'event_loop_delay', retryAfterS: 5 });
    expect(admit({ kind: 'http', platform: 'rgs', method: 'POST', path: '/operator/launch' })).toMatchObject({ ok: false });
    expect(admit({ kind: 'http', platform: 'cloudplay', method: 'POST', path: '/api/game/launch?x=1' })).toMatchObject({ ok: false });
    expect(admit({ kind: 'http', platform: 'spacemolt', method: 'POST', path: '/api/v1/session' })).toMatchObject({ ok: false });
    expect(admit({ kind: 'ws', platform: 'spacemolt', method: 'GET', path: '/ws' })).toMatchObject({ ok: false });
    // The play socket of a run recording already, and requests that open no run, pass.
    expect(admit({ kind: 'ws', platform: 'moltstation', method: 'GET', path: '/ws/flappybots/play?sessionId=ms-1' })).toEqual({ ok: true });
    expect(admit({ kind: 'ws', platform: 'moltstation', method: 'GET', path: '/ws/flappybots/play?sessionId=ms-2' })).toMatchObject({ ok: false });
    expect(admit({ kind: 'http', platform: 'rgs', method: 'POST', path: '/game/play' })).toEqual({ ok: true });
    expect(admit({ kind: 'http', platform: 'moltstation', method: 'GET', path: '/api/games/flappybots/sessions/start' })).toEqual({ ok: true });
    expect(a.stats()).toMatchObject({ open: false, refused: 6, closings: 1 });
  });
});
