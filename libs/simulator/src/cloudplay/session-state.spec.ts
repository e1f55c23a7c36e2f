import { containerRunMs, evolve, initialState, isActive, keepalive, reclaim, SessionState, stop } from './session-state';

const IDLE = 30 * 60_000;
const STOPPING = 3_000;

function given(overrides: Partial<Parameters<typeof initialState>[0]> = {}): SessionState {
  return initialState({ id: 'ses1', userId: 'usr1', gameSlug: 'garden-of-forking-paths', launchedAt: 1_000, startDelayMs: 5_000, failLaunch: false, idleTimeoutMs: IDLE, ...overrides });
}

describe('cloud-play session state machine', () => {
  it('starts in starting and stays there until readyAt', () => {
    const sut = given();
    expect(sut.status).toBe('starting');
    expect(evolve(sut, 5_999, STOPPING).status).toBe('starting');
    const running = evolve(sut, 6_000, STOPPING);
    expect(running.status).toBe('running');
    expect(running.runningAt).toBe(6_000);
    expect(running.transitions.map((t) => [t.status, t.at])).toEqual([
      ['starting', 1_000],
      ['running', 6_000],
    ]);
  });

  it('returns the same object when nothing is due (no spurious changes)', () => {
    const sut = given();
    expect(evolve(sut, 2_000, STOPPING)).toBe(sut);
  });

  it('a failing launch ends in error at readyAt and is no longer active', () => {
    const sut = evolve(given({ failLaunch: true }), 10_000, STOPPING);
    expect(sut.status).toBe('error');
    expect(sut.transitions.at(-1)).toEqual({ status: 'error', at: 6_000, reason: 'launch-failed' });
    expect(isActive(sut.status)).toBe(false);
  });

  it('reclaims an idle running session: stopping at expiresAt, stopped stoppingMs later, each at its exact instant', () => {
    const sut = evolve(given(), 1_000 + IDLE + STOPPING + 1, STOPPING);
    expect(sut.status).toBe('stopped');
    expect(sut.transitions.map((t) => [t.status, t.at, t.reason])).toEqual([
      ['starting', 1_000, 'launch'],
      ['running', 6_000, 'ready'],
      ['stopping', 1_000 + IDLE, 'idle-timeout'],
      ['stopped', 1_000 + IDLE + STOPPING, 'reclaimed'],
    ]);
    expect(containerRunMs(sut)).toBe(IDLE - 5_000);
  });

  it('is in stopping between the idle deadline and stoppingMs later', () => {
    expect(evolve(given(), 1_000 + IDLE + 1, STOPPING).status).toBe('stopping');
  });

  it('a keepalive moves the idle deadline to now + idle timeout', () => {
    const running = evolve(given(), 10_000, STOPPING);
    const kept = keepalive(running, 20 * 60_000, IDLE);
    expect(kept.expiresAt).toBe(20 * 60_000 + IDLE);
    expect(evolve(kept, 1_000 + IDLE + 1, STOPPING).status).toBe('running');
    expect(evolve(kept, 20 * 60_000 + IDLE, STOPPING).status).toBe('stopping');
  });

  it('keepalive never shortens the deadline and ignores inactive sessions', () => {
    const running = evolve(given(), 10_000, STOPPING);
    expect(keepalive(running, 0, IDLE).expiresAt).toBe(running.expiresAt);
    const stopped = stop(running, 20_000);
    expect(keepalive(stopped, 30_000, IDLE)).toBe(stopped);
  });

  it('never reclaims while starting: an overdue deadline fires the moment it runs', () => {
    const sut = given({ startDelayMs: 10_000, idleTimeoutMs: 2_000 });
    expect(evolve(sut, 5_000, STOPPING).status).toBe('starting');
    const later = evolve(sut, 11_000, STOPPING);
    expect(later.transitions.map((t) => [t.status, t.at])).toEqual([
      ['starting', 1_000],
      ['running', 11_000],
      ['stopping', 11_000],
    ]);
  });

  it('stop ends any state but stopped, at now; stopping twice changes nothing', () => {
    const stopped = stop(given(), 3_000);
    expect(stopped.status).toBe('stopped');
    expect(stopped.endedAt).toBe(3_000);
    expect(containerRunMs(stopped)).toBe(0);
    expect(stop(stopped, 9_000)).toBe(stopped);
    const ran = stop(evolve(given(), 7_000, STOPPING), 16_000);
    expect(containerRunMs(ran)).toBe(10_000);
  });

  it('reclaim (fault) sends a running session to stopping at once', () => {
    const sut = reclaim(evolve(given(), 7_000, STOPPING), 8_000, STOPPING, 'reclaim-now');
    expect(sut.status).toBe('stopping');
    expect(evolve(sut, 11_000, STOPPING).transitions.at(-1)).toEqual({ status: 'stopped', at: 11_000, reason: 'reclaimed' });
  });
});
