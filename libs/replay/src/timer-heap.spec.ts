import { ReplaySession } from './replay-session';
import { memorySource } from './sources';
import { SharedTimers, TimerHost } from './timer-heap';

/** A host driven by the test: one pending host timer at most is what SharedTimers should keep. */
class ManualHost implements TimerHost {
  time = 0;
  armed: { fn: () => void; at: number; id: number }[] = [];
  sets = 0;
  private nextId = 1;

  /** `lateMs`: how late the host's timers fire (node's are ≥ 1 ms). */
  constructor(private readonly lateMs = 0) {}

  now(): number {
    return this.time;
  }
  set(fn: () => void, ms: number): unknown {
    this.sets++;
    const t = { fn, at: this.time + Math.max(0, ms) + this.lateMs, id: this.nextId++ };
    this.armed.push(t);
    return t.id;
  }
  clear(handle: unknown): void {
    this.armed = this.armed.filter((t) => t.id !== handle);
  }
  /** Moves to `to`, firing the host timers due on the way, in order. */
  advanceTo(to: number): void {
    for (;;) {
      const next = [...this.armed].sort((a, b) => a.at - b.at)[0];
      if (!next || next.at > to) break;
      this.armed = this.armed.filter((t) => t !== next);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = to;
  }
}

describe('SharedTimers', () => {
  it('runs timers in due order (ties in the order set) from a single host timer', () => {
    const host = new ManualHost();
    const sut = new SharedTimers(host);
    const ran: string[] = [];
    sut.setTimer(() => ran.push('c@30'), 30);
    sut.setTimer(() => ran.push('a@10'), 10);
    sut.setTimer(() => ran.push('b@20'), 20);
    sut.setTimer(() => ran.push('a2@10'), 10);
    expect(host.armed).toHaveLength(1);
    expect(host.armed[0]?.at).toBe(10);
    host.advanceTo(25);
    expect(ran).toEqual(['a@10', 'a2@10', 'b@20']);
    expect(host.armed).toHaveLength(1);
    host.advanceTo(100);
    expect(ran).toEqual(['a@10', 'a2@10', 'b@20', 'c@30']);
    expect(sut.size).toBe(0);
    expect(host.armed).toHaveLength(0);
  });

  it('serves every timer due at one wake-up in that wake-up', () => {
    const host = new ManualHost(0.5);
    const sut = new SharedTimers(host);
    const ran: number[] = [];
    for (let i = 0; i < 500; i++) sut.setTimer(() => ran.push(i), 5 + (i % 3) * 0.1);
    host.advanceTo(6);
    expect(ran).toHaveLength(500);
    expect(host.sets).toBe(1);
  });

  it('clears a timer (the head or any other) so that it never runs, and re-arms for what is left', () => {
    const host = new ManualHost();
    const sut = new SharedTimers(host);
    const ran: string[] = [];
    const head = sut.setTimer(() => ran.push('head'), 5);
    const mid = sut.setTimer(() => ran.push('mid'), 10);
    sut.setTimer(() => ran.push('tail'), 15);
    sut.clearTimer(mid);
    sut.clearTimer(head);
    sut.clearTimer(head); // twice: nothing
    expect(sut.size).toBe(1);
    host.advanceTo(20);
    expect(ran).toEqual(['tail']);
    const lone = sut.setTimer(() => ran.push('lone'), 5);
    sut.clearTimer(lone);
    expect(host.armed).toHaveLength(0);
  });

  it('arms earlier when an earlier timer is set after a later one', () => {
    const host = new ManualHost();
    const sut = new SharedTimers(host);
    const ran: string[] = [];
    sut.setTimer(() => ran.push('late'), 50);
    sut.setTimer(() => ran.push('early'), 5);
    expect(host.armed.map((t) => t.at)).toEqual([5]);
    host.advanceTo(6);
    expect(ran).toEqual(['early']);
    expect(host.armed.map((t) => t.at)).toEqual([50]);
  });

  it('runs a timer set by a callback for "now" in the next pass, not in an endless one', () => {
    const host = new ManualHost();
    const sut = new SharedTimers(host);
    let runs = 0;
    const again = (): void => {
      runs++;
      if (runs < 3) sut.setTimer(again, 0);
    };
    sut.setTimer(again, 1);
    host.advanceTo(1);
    expect(runs).toBe(3); // each in its own host wake-up (the manual host fires the 0 ms ones at the same time)
    expect(host.sets).toBe(3);
  });

  it('keeps the heap ordered through random sets and clears', () => {
    const host = new ManualHost();
    const sut = new SharedTimers(host);
    let seed = 7;
    const rnd = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const fired: number[] = [];
    const handles: { h: unknown; due: number }[] = [];
    for (let i = 0; i < 2000; i++) {
      const due = Math.floor(rnd() * 1000);
      handles.push({ h: sut.setTimer(() => fired.push(due), due), due });
    }
    const cleared = new Set<number>();
    for (let i = 0; i < 700; i++) {
      const k = Math.floor(rnd() * handles.length);
      cleared.add(k);
      sut.clearTimer((handles[k] as { h: unknown }).h);
    }
    host.advanceTo(2000);
    const expected = handles.filter((_, k) => !cleared.has(k)).map((x) => x.due);
    expect(fired).toHaveLength(expected.length);
    expect(fired).toEqual([...expected].sort((a, b) => a - b));
  });

  it('drives replay sessions: two streams on one scheduler both play every event on time', async () => {
    const host = new ManualHost();
    const sut = new SharedTimers(host);
    const events = (n: number) => Array.from({ length: n }, (_, i) => ({ seq: i + 1, offsetUs: i * 50_000, kind: 'frame' as const }));
    const a = new ReplaySession(memorySource(events(20), 5), { clock: sut });
    const b = new ReplaySession(memorySource(events(10), 5), { clock: sut, speed: 2 });
    const late: number[] = [];
    const seen: Record<string, number[]> = { a: [], b: [] };
    a.on('event', (e) => (late.push(e.latenessMs), seen['a']?.push(e.seq)));
    b.on('event', (e) => (late.push(e.latenessMs), seen['b']?.push(e.seq)));
    await Promise.all([a.start(), b.start()]);
    for (let t = 0; t <= 1_000; t += 1) {
      host.advanceTo(t);
      await new Promise((r) => setImmediate(r)); // pages being fetched
    }
    await Promise.all([a.done, b.done]);
    expect(seen['a']).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(seen['b']).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(Math.max(...late)).toBe(0);
    expect(sut.size).toBe(0);
  });
});
